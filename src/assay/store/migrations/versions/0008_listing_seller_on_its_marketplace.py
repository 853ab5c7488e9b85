"""listings: one foreign key to a seller on the listing's own marketplace

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 07:00:00

A listing named its seller and its marketplace with a key each; now one key names the
seller on the listing's marketplace, which says more (the two agree) and costs a bulk load
one lookup per row instead of two. The marketplace is still guaranteed: the seller's own
key names it."""
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sellers') as batch:
        batch.create_unique_constraint('uq_sellers_marketplace_id', ['marketplace_id', 'id'])
    with op.batch_alter_table('listings') as batch:
        batch.drop_constraint('fk_listings_seller_id_sellers', type_='foreignkey')
        batch.drop_constraint('fk_listings_marketplace_id_marketplaces', type_='foreignkey')
        batch.create_foreign_key('fk_listings_seller_on_its_marketplace', 'sellers',
                                 ['marketplace_id', 'seller_id'], ['marketplace_id', 'id'])


def downgrade() -> None:
    with op.batch_alter_table('listings') as batch:
        batch.drop_constraint('fk_listings_seller_on_its_marketplace', type_='foreignkey')
        batch.create_foreign_key('fk_listings_marketplace_id_marketplaces', 'marketplaces', ['marketplace_id'], ['id'])
        batch.create_foreign_key('fk_listings_seller_id_sellers', 'sellers', ['seller_id'], ['id'])
    with op.batch_alter_table('sellers') as batch:
        batch.drop_constraint('uq_sellers_marketplace_id', type_='unique')
