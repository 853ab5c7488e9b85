"""webhook secrets: the previous one keeps signing for a while after a rotation

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 01:10:00
"""
import sqlalchemy as sa
from alembic import op

import assay.store.types

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('webhook_endpoints') as batch:
        batch.add_column(sa.Column('previous_secret', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('previous_secret_until', assay.store.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('webhook_endpoints') as batch:
        batch.drop_column('previous_secret_until')
        batch.drop_column('previous_secret')
