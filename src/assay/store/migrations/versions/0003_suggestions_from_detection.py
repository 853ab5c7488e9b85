"""suggestions from detection

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 20:39:10.321011
"""
import sqlalchemy as sa
from alembic import op

import assay.store.types

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('suggestions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('verdict', sa.String(length=20), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('signals', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', assay.store.types.UTCDateTime(), nullable=False),
    sa.Column('decided_at', assay.store.types.UTCDateTime(), nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('notice_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_suggestions_brand_id_brands')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_suggestions_listing_id_listings')),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_suggestions_notice_id_notices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suggestions')),
    sa.UniqueConstraint('listing_id', 'brand_id', name='uq_suggestions_listing_brand')
    )
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suggestions_brand_id'), ['brand_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_suggestions_status'), ['status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suggestions_status'))
        batch_op.drop_index(batch_op.f('ix_suggestions_brand_id'))

    op.drop_table('suggestions')
