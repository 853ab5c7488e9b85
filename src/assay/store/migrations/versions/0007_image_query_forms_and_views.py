"""images: the query form of every photo, the views of official ones

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 12:00:00

Rows stored before keep NULL query forms and views: the next `assay ingest` that reads
their file computes what is missing; until then detection uses their plain PDQ hash."""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('images') as batch:
        batch.add_column(sa.Column('query_pdq', sa.String(length=512), nullable=True))
        batch.add_column(sa.Column('layout', sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column('views', sa.Integer(), nullable=True))
    op.create_table('image_views',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('view', sa.String(length=40), nullable=False),
    sa.Column('pdq', sa.String(length=64), nullable=False),
    sa.Column('layout', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['sha256'], ['images.sha256'], name=op.f('fk_image_views_sha256_images')),
    sa.PrimaryKeyConstraint('sha256', 'position', name=op.f('pk_image_views'))
    )


def downgrade() -> None:
    op.drop_table('image_views')
    with op.batch_alter_table('images') as batch:
        batch.drop_column('views')
        batch.drop_column('layout')
        batch.drop_column('query_pdq')
