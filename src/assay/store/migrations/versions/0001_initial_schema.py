"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 19:15:48.159776
"""
import sqlalchemy as sa
from alembic import op

import assay.store.types

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', assay.store.types.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('entity_type', sa.String(length=50), nullable=False),
    sa.Column('entity_id', sa.String(length=100), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('request_id', sa.String(length=100), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_entity', ['entity_type', 'entity_id'], unique=False)

    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    # The chain's head exists from the start, so appenders only ever lock and update it.
    op.execute("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '" + "0" * 64 + "')")
    op.create_table('marketplaces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_marketplaces')),
    sa.UniqueConstraint('code', name=op.f('uq_marketplaces_code'))
    )
    op.create_table('rights_holders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('contact_email', sa.String(length=320), nullable=False),
    sa.Column('created_at', assay.store.types.UTCDateTime(), nullable=False),
    sa.Column('good_faith_signed_at', assay.store.types.UTCDateTime(), nullable=True),
    sa.Column('warned_at', assay.store.types.UTCDateTime(), nullable=True),
    sa.Column('suspended_until', assay.store.types.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rights_holders')),
    sa.UniqueConstraint('name', name=op.f('uq_rights_holders_name'))
    )
    op.create_table('settings',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('brands',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('brand_ref', sa.String(length=100), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('marks', sa.JSON(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('authorized_sellers', sa.JSON(), nullable=False),
    sa.Column('proactive_removal', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['holder_id'], ['rights_holders.id'], name=op.f('fk_brands_holder_id_rights_holders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_brands')),
    sa.UniqueConstraint('brand_ref', name=op.f('uq_brands_brand_ref'))
    )
    with op.batch_alter_table('brands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_brands_holder_id'), ['holder_id'], unique=False)

    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('right_ids', sa.JSON(), nullable=False),
    sa.Column('infringement_type', sa.Enum('counterfeit', 'trademark_misuse', 'image_copyright', 'design', name='infringementtype', native_enum=False, length=32), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('good_faith', sa.Boolean(), nullable=False),
    sa.Column('accurate', sa.Boolean(), nullable=False),
    sa.Column('signature', sa.String(length=300), nullable=False),
    sa.Column('filed_at', assay.store.types.UTCDateTime(), nullable=False),
    sa.Column('filed_by', sa.String(length=200), nullable=False),
    sa.Column('source', sa.Enum('notice', 'trusted_notifier', 'own_initiative', name='noticesource', native_enum=False, length=32), nullable=False),
    sa.Column('lane', sa.Enum('expedited', 'standard', name='lane', native_enum=False, length=32), nullable=False),
    sa.Column('incomplete_reasons', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['holder_id'], ['rights_holders.id'], name=op.f('fk_notices_holder_id_rights_holders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices'))
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notices_holder_id'), ['holder_id'], unique=False)

    op.create_table('sellers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('marketplace_id', sa.Integer(), nullable=False),
    sa.Column('seller_ref', sa.String(length=200), nullable=False),
    sa.Column('store_name', sa.String(length=300), nullable=False),
    sa.Column('registered_at', assay.store.types.UTCDateTime(), nullable=False),
    sa.Column('legal_name', sa.String(length=300), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('phone', sa.String(length=100), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('tax_id', sa.String(length=100), nullable=True),
    sa.Column('payment_account', sa.String(length=200), nullable=True),
    sa.Column('status', sa.Enum('active', 'restricted', 'closed', name='sellerstatus', native_enum=False, length=32), nullable=False),
    sa.Column('banned_at', assay.store.types.UTCDateTime(), nullable=True),
    sa.Column('ban_reason', sa.Text(), nullable=True),
    sa.Column('sanction_level', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['marketplace_id'], ['marketplaces.id'], name=op.f('fk_sellers_marketplace_id_marketplaces')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sellers')),
    sa.UniqueConstraint('marketplace_id', 'seller_ref', name='uq_sellers_marketplace_ref')
    )
    op.create_table('trademark_rights',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('mark', sa.String(length=200), nullable=False),
    sa.Column('office', sa.String(length=100), nullable=False),
    sa.Column('registration_number', sa.String(length=100), nullable=False),
    sa.Column('classes', sa.JSON(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'verified', 'rejected', 'expired', name='rightstatus', native_enum=False, length=32), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('decided_at', assay.store.types.UTCDateTime(), nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['holder_id'], ['rights_holders.id'], name=op.f('fk_trademark_rights_holder_id_rights_holders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trademark_rights')),
    sa.UniqueConstraint('office', 'registration_number', name='uq_trademark_rights_registration')
    )
    with op.batch_alter_table('trademark_rights', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trademark_rights_holder_id'), ['holder_id'], unique=False)

    op.create_table('listings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('marketplace_id', sa.Integer(), nullable=False),
    sa.Column('listing_ref', sa.String(length=200), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=200), nullable=False),
    sa.Column('price', assay.store.types.Money(precision=18, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('images', sa.JSON(), nullable=False),
    sa.Column('created_at', assay.store.types.UTCDateTime(), nullable=False),
    sa.Column('status', sa.Enum('active', 'removed', 'reinstated', name='listingstatus', native_enum=False, length=32), nullable=False),
    sa.ForeignKeyConstraint(['marketplace_id'], ['marketplaces.id'], name=op.f('fk_listings_marketplace_id_marketplaces')),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_listings_seller_id_sellers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listings')),
    sa.UniqueConstraint('marketplace_id', 'listing_ref', name='uq_listings_marketplace_ref')
    )
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listings_seller_id'), ['seller_id'], unique=False)

    op.create_table('products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=100), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=100), nullable=False),
    sa.Column('msrp', assay.store.types.Money(precision=18, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('images', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_products_brand_id_brands')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('brand_id', 'sku', name='uq_products_brand_sku')
    )
    op.create_table('seller_identity_keys',
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('value', sa.String(length=400), nullable=False),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_seller_identity_keys_seller_id_sellers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('seller_id', 'kind', 'value', name=op.f('pk_seller_identity_keys'))
    )
    with op.batch_alter_table('seller_identity_keys', schema=None) as batch_op:
        batch_op.create_index('ix_seller_identity_keys_lookup', ['kind', 'value'], unique=False)

    op.create_table('notice_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('filed', 'incomplete', 'in_review', 'removed', 'declined', 'withdrawn', 'contested', 'in_appeal', 'upheld', 'reinstated', name='itemstate', native_enum=False, length=32), nullable=False),
    sa.Column('filed_at', assay.store.types.UTCDateTime(), nullable=False),
    sa.Column('review_due_at', assay.store.types.UTCDateTime(), nullable=True),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('removed_at', assay.store.types.UTCDateTime(), nullable=True),
    sa.Column('counter_notice_until', assay.store.types.UTCDateTime(), nullable=True),
    sa.Column('counter_statement', sa.Text(), nullable=True),
    sa.Column('counter_signature', sa.String(length=300), nullable=True),
    sa.Column('contested_at', assay.store.types.UTCDateTime(), nullable=True),
    sa.Column('reply_due_at', assay.store.types.UTCDateTime(), nullable=True),
    sa.Column('reply_statement', sa.Text(), nullable=True),
    sa.Column('appeal_due_at', assay.store.types.UTCDateTime(), nullable=True),
    sa.Column('decided_at', assay.store.types.UTCDateTime(), nullable=True),
    sa.Column('closed_at', assay.store.types.UTCDateTime(), nullable=True),
    sa.Column('manifestly_unfounded', sa.Boolean(), nullable=False),
    sa.Column('updated_at', assay.store.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['holder_id'], ['rights_holders.id'], name=op.f('fk_notice_items_holder_id_rights_holders')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_notice_items_listing_id_listings')),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_notice_items_notice_id_notices')),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_notice_items_seller_id_sellers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_items'))
    )
    with op.batch_alter_table('notice_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_items_holder_id'), ['holder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_items_listing_id'), ['listing_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_items_notice_id'), ['notice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_items_seller_id'), ['seller_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_items_state'), ['state'], unique=False)
        batch_op.create_index('uq_notice_items_open_per_holder_listing', ['holder_id', 'listing_id'], unique=True, sqlite_where=sa.text("state IN ('contested', 'filed', 'in_appeal', 'in_review', 'removed')"), postgresql_where=sa.text("state IN ('contested', 'filed', 'in_appeal', 'in_review', 'removed')"))

    op.create_table('statements_of_reasons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('listing_id', sa.Integer(), nullable=True),
    sa.Column('measure', sa.Enum('listing_removed', 'listing_reinstated', 'removal_upheld', 'no_action', 'seller_warned', 'storefront_restricted', 'storefront_restored', 'storefront_closed', name='measure', native_enum=False, length=32), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('facts', sa.Text(), nullable=False),
    sa.Column('ground', sa.Enum('illegal_content', 'incompatible_content', 'not_illegal', name='decisionground', native_enum=False, length=32), nullable=False),
    sa.Column('legal_ground', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=100), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('source', sa.Enum('notice', 'trusted_notifier', 'own_initiative', name='noticesource', native_enum=False, length=32), nullable=False),
    sa.Column('automated_detection', sa.Boolean(), nullable=False),
    sa.Column('automated_decision', sa.Enum('fully', 'partially', 'not_automated', name='automateddecision', native_enum=False, length=32), nullable=False),
    sa.Column('redress', sa.Text(), nullable=False),
    sa.Column('redress_deadline', assay.store.types.UTCDateTime(), nullable=True),
    sa.Column('decided_at', assay.store.types.UTCDateTime(), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['notice_items.id'], name=op.f('fk_statements_of_reasons_item_id_notice_items')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_statements_of_reasons_listing_id_listings')),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_statements_of_reasons_seller_id_sellers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statements_of_reasons'))
    )
    with op.batch_alter_table('statements_of_reasons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statements_of_reasons_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_statements_of_reasons_seller_id'), ['seller_id'], unique=False)

    op.create_table('strikes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('counterfeit', 'trademark_misuse', 'image_copyright', 'design', name='infringementtype', native_enum=False, length=32), nullable=False),
    sa.Column('issued_at', assay.store.types.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', assay.store.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['notice_items.id'], name=op.f('fk_strikes_item_id_notice_items')),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_strikes_seller_id_sellers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_strikes')),
    sa.UniqueConstraint('item_id', name=op.f('uq_strikes_item_id'))
    )
    with op.batch_alter_table('strikes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_strikes_seller_id'), ['seller_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('strikes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_strikes_seller_id'))

    op.drop_table('strikes')
    with op.batch_alter_table('statements_of_reasons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statements_of_reasons_seller_id'))
        batch_op.drop_index(batch_op.f('ix_statements_of_reasons_item_id'))

    op.drop_table('statements_of_reasons')
    with op.batch_alter_table('notice_items', schema=None) as batch_op:
        batch_op.drop_index('uq_notice_items_open_per_holder_listing', sqlite_where=sa.text("state IN ('contested', 'filed', 'in_appeal', 'in_review', 'removed')"), postgresql_where=sa.text("state IN ('contested', 'filed', 'in_appeal', 'in_review', 'removed')"))
        batch_op.drop_index(batch_op.f('ix_notice_items_state'))
        batch_op.drop_index(batch_op.f('ix_notice_items_seller_id'))
        batch_op.drop_index(batch_op.f('ix_notice_items_notice_id'))
        batch_op.drop_index(batch_op.f('ix_notice_items_listing_id'))
        batch_op.drop_index(batch_op.f('ix_notice_items_holder_id'))

    op.drop_table('notice_items')
    with op.batch_alter_table('seller_identity_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_seller_identity_keys_lookup')

    op.drop_table('seller_identity_keys')
    op.drop_table('products')
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listings_seller_id'))

    op.drop_table('listings')
    with op.batch_alter_table('trademark_rights', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trademark_rights_holder_id'))

    op.drop_table('trademark_rights')
    op.drop_table('sellers')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notices_holder_id'))

    op.drop_table('notices')
    with op.batch_alter_table('brands', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_brands_holder_id'))

    op.drop_table('brands')
    op.drop_table('settings')
    op.drop_table('rights_holders')
    op.drop_table('marketplaces')
    op.drop_table('audit_head')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_entity')

    op.drop_table('audit_events')
