"""listings waiting for detection

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 20:46:42.338151
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('needs_scan', sa.Boolean(), server_default=sa.text('(false)'), nullable=False))
        batch_op.create_index(batch_op.f('ix_listings_needs_scan'), ['needs_scan'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listings_needs_scan'))
        batch_op.drop_column('needs_scan')

