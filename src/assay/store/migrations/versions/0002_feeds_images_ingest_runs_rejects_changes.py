"""feeds: images, ingest runs, rejects, changes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 19:22:48.493531
"""
import sqlalchemy as sa
from alembic import op

import assay.store.types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('images',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('pdq', sa.String(length=64), nullable=True),
    sa.Column('pdq_quality', sa.Integer(), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_images'))
    )
    op.create_table('ingest_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('snapshot', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('started_at', assay.store.types.UTCDateTime(), nullable=False),
    sa.Column('finished_at', assay.store.types.UTCDateTime(), nullable=True),
    sa.Column('phase', sa.String(length=20), nullable=False),
    sa.Column('offset', sa.Integer(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ingest_runs'))
    )
    with op.batch_alter_table('ingest_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ingest_runs_fingerprint'), ['fingerprint'], unique=False)

    op.create_table('feed_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('ref', sa.String(length=300), nullable=False),
    sa.Column('at', assay.store.types.UTCDateTime(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['ingest_runs.id'], name=op.f('fk_feed_changes_run_id_ingest_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_changes'))
    )
    with op.batch_alter_table('feed_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feed_changes_run_id'), ['run_id'], unique=False)

    op.create_table('ingest_rejects',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('file', sa.String(length=50), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['ingest_runs.id'], name=op.f('fk_ingest_rejects_run_id_ingest_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'file', 'line', name=op.f('pk_ingest_rejects'))
    )
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('image_hashes', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('image_hashes', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))



def downgrade() -> None:
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_column('image_hashes')

    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.drop_column('image_hashes')

    op.drop_table('ingest_rejects')
    with op.batch_alter_table('feed_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feed_changes_run_id'))

    op.drop_table('feed_changes')
    with op.batch_alter_table('ingest_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ingest_runs_fingerprint'))

    op.drop_table('ingest_runs')
    op.drop_table('images')
