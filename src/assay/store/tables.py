"""The schema, and the mapping of the domain's plain classes onto it.

The domain knows nothing of this module: classes are mapped imperatively, so the
same objects the policies reason about are the ones the unit of work saves."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import composite, registry, relationship

from assay.domain.identity import TraderIdentity
from assay.domain.model import (
    Brand,
    Listing,
    ListingStatus,
    Marketplace,
    Product,
    RightsHolder,
    RightStatus,
    Seller,
    SellerStatus,
    TrademarkRight,
)
from assay.domain.notices import OPEN_STATES, InfringementType, ItemState, Lane, Notice, NoticeItem, NoticeSource
from assay.domain.policies import Strike
from assay.domain.reasons import AutomatedDecision, DecisionGround, Measure, StatementOfReasons
from assay.store.types import JSON, JSONList, Money, UTCDateTime, enum_column

# Stable constraint names, so migrations can refer to them on every database.
metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

rights_holders = Table(
    "rights_holders", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("contact_email", String(320), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("good_faith_signed_at", UTCDateTime),
    Column("warned_at", UTCDateTime),
    Column("suspended_until", UTCDateTime),
)

trademark_rights = Table(
    "trademark_rights", metadata,
    Column("id", Integer, primary_key=True),
    Column("holder_id", ForeignKey("rights_holders.id"), nullable=False, index=True),
    Column("mark", String(200), nullable=False),
    Column("office", String(100), nullable=False),
    Column("registration_number", String(100), nullable=False),
    Column("classes", JSONList, nullable=False),
    Column("categories", JSONList, nullable=False),
    Column("expires_on", Date, nullable=False),
    Column("status", enum_column(RightStatus), nullable=False),
    Column("status_reason", Text),
    Column("decided_at", UTCDateTime),
    Column("decided_by", String(200)),
    UniqueConstraint("office", "registration_number", name="uq_trademark_rights_registration"),
)

brands = Table(
    "brands", metadata,
    Column("id", Integer, primary_key=True),
    Column("brand_ref", String(100), nullable=False, unique=True),
    Column("holder_id", ForeignKey("rights_holders.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("marks", JSONList, nullable=False),
    Column("categories", JSONList, nullable=False),
    Column("authorized_sellers", JSONList, nullable=False),
    Column("proactive_removal", Boolean, nullable=False, default=False),
)

products = Table(
    "products", metadata,
    Column("id", Integer, primary_key=True),
    Column("brand_id", ForeignKey("brands.id"), nullable=False),
    Column("sku", String(100), nullable=False),
    Column("title", Text, nullable=False),
    Column("category", String(100), nullable=False),
    Column("msrp", Money, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("images", JSONList, nullable=False),
    Column("image_hashes", JSONList, nullable=False, default=list),
    UniqueConstraint("brand_id", "sku", name="uq_products_brand_sku"),
)

marketplaces = Table(
    "marketplaces", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(100), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
)

sellers = Table(
    "sellers", metadata,
    Column("id", Integer, primary_key=True),
    Column("marketplace_id", ForeignKey("marketplaces.id"), nullable=False),
    Column("seller_ref", String(200), nullable=False),
    Column("store_name", String(300), nullable=False),
    Column("registered_at", UTCDateTime, nullable=False),
    Column("legal_name", String(300)),
    Column("email", String(320)),
    Column("phone", String(100)),
    Column("address", Text),
    Column("tax_id", String(100)),
    Column("payment_account", String(200)),
    Column("status", enum_column(SellerStatus), nullable=False),
    Column("banned_at", UTCDateTime),
    Column("ban_reason", Text),
    Column("sanction_level", Integer, nullable=False, default=0),
    UniqueConstraint("marketplace_id", "seller_ref", name="uq_sellers_marketplace_ref"),
    # What a listing's foreign key names: a seller on the listing's own marketplace.
    UniqueConstraint("marketplace_id", "id", name="uq_sellers_marketplace_id"),
)

# Normalised identity keys, one row each, so that linked accounts are an indexed lookup.
seller_identity_keys = Table(
    "seller_identity_keys", metadata,
    Column("seller_id", ForeignKey("sellers.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("value", String(400), primary_key=True),
    Index("ix_seller_identity_keys_lookup", "kind", "value"),
)

listings = Table(
    "listings", metadata,
    Column("id", Integer, primary_key=True),
    Column("marketplace_id", Integer, nullable=False),
    Column("listing_ref", String(200), nullable=False),
    Column("seller_id", Integer, nullable=False, index=True),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("category", String(200), nullable=False),
    Column("price", Money, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("images", JSONList, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("status", enum_column(ListingStatus), nullable=False),
    # SHA-256 of each image file, in the order of `images`; their PDQ hashes live in `images`.
    Column("image_hashes", JSONList, nullable=False, default=list),
    # Set by ingest on every new or changed listing, cleared once detection has judged it:
    # a crash between the two leaves it set, so nothing arrives unscanned.
    Column("needs_scan", Boolean, nullable=False, default=False, server_default=text("false"), index=True),
    UniqueConstraint("marketplace_id", "listing_ref", name="uq_listings_marketplace_ref"),
    # One key for both: the seller exists, and on the listing's marketplace (which therefore
    # exists too). Checking it is one lookup per row where two keys took two: half of what
    # PostgreSQL spends on a bulk load's rows was these checks.
    ForeignKeyConstraint(["marketplace_id", "seller_id"], ["sellers.marketplace_id", "sellers.id"],
                         name="fk_listings_seller_on_its_marketplace"),
)

notices = Table(
    "notices", metadata,
    Column("id", Integer, primary_key=True),
    Column("holder_id", ForeignKey("rights_holders.id"), nullable=False, index=True),
    Column("right_ids", JSONList, nullable=False),
    Column("infringement_type", enum_column(InfringementType), nullable=False),
    Column("explanation", Text, nullable=False),
    Column("evidence", JSONList, nullable=False),
    Column("good_faith", Boolean, nullable=False),
    Column("accurate", Boolean, nullable=False),
    Column("signature", String(300), nullable=False),
    Column("filed_at", UTCDateTime, nullable=False),
    Column("filed_by", String(200), nullable=False),
    Column("source", enum_column(NoticeSource), nullable=False),
    Column("lane", enum_column(Lane), nullable=False),
    Column("incomplete_reasons", JSONList, nullable=False),
)

_open_states = ", ".join(f"'{state.value}'" for state in sorted(OPEN_STATES))
notice_items = Table(
    "notice_items", metadata,
    Column("id", Integer, primary_key=True),
    Column("notice_id", ForeignKey("notices.id"), nullable=False, index=True),
    Column("listing_id", ForeignKey("listings.id"), nullable=False, index=True),
    Column("seller_id", ForeignKey("sellers.id"), nullable=False, index=True),
    Column("holder_id", ForeignKey("rights_holders.id"), nullable=False, index=True),
    Column("state", enum_column(ItemState), nullable=False, index=True),
    Column("filed_at", UTCDateTime, nullable=False),
    Column("review_due_at", UTCDateTime),
    Column("overdue", Boolean, nullable=False, default=False),
    Column("removed_at", UTCDateTime),
    Column("counter_notice_until", UTCDateTime),
    Column("counter_statement", Text),
    Column("counter_signature", String(300)),
    Column("contested_at", UTCDateTime),
    Column("reply_due_at", UTCDateTime),
    Column("reply_statement", Text),
    Column("appeal_due_at", UTCDateTime),
    Column("decided_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Column("manifestly_unfounded", Boolean, nullable=False, default=False),
    Column("updated_at", UTCDateTime),
    # At most one open item per (rights holder, listing), whatever races the callers run.
    Index(
        "uq_notice_items_open_per_holder_listing", "holder_id", "listing_id", unique=True,
        sqlite_where=text(f"state IN ({_open_states})"),
        postgresql_where=text(f"state IN ({_open_states})"),
    ),
)

statements_of_reasons = Table(
    "statements_of_reasons", metadata,
    Column("id", Integer, primary_key=True),
    Column("seller_id", ForeignKey("sellers.id"), nullable=False, index=True),
    Column("item_id", ForeignKey("notice_items.id"), index=True),
    Column("listing_id", ForeignKey("listings.id")),
    Column("measure", enum_column(Measure), nullable=False),
    Column("scope", Text, nullable=False),
    Column("facts", Text, nullable=False),
    Column("ground", enum_column(DecisionGround), nullable=False),
    Column("legal_ground", Text, nullable=False),
    Column("category", String(100), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("source", enum_column(NoticeSource), nullable=False),
    Column("automated_detection", Boolean, nullable=False),
    Column("automated_decision", enum_column(AutomatedDecision), nullable=False),
    Column("redress", Text, nullable=False),
    Column("redress_deadline", UTCDateTime),
    Column("decided_at", UTCDateTime, nullable=False),
    Column("decided_by", String(200), nullable=False),
)

strikes = Table(
    "strikes", metadata,
    Column("id", Integer, primary_key=True),
    Column("seller_id", ForeignKey("sellers.id"), nullable=False, index=True),
    Column("item_id", ForeignKey("notice_items.id"), nullable=False, unique=True),
    Column("kind", enum_column(InfringementType), nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

audit_events = Table(
    "audit_events", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("entity_type", String(50), nullable=False),
    Column("entity_id", String(100), nullable=False),
    Column("before", JSON),
    Column("after", JSON),
    Column("reason", Text),
    Column("request_id", String(100)),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_events_entity", "entity_type", "entity_id"),
)

# One row: the last sequence number and hash. Updating it serialises appenders,
# so two transactions can never both extend the chain from the same event.
audit_head = Table(
    "audit_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

# Each distinct image file once, by content: PDQ for near-duplicate matching, and what
# detection searches the bank with (assay.services.images.query_photo), kept because the
# snapshot's files are not: the trimmed photo's PDQ in its eight orientations (8 x 64 hex
# digits, "" when the file is no image or its hash is untrusted) and its colour layout
# (8 x 8 x 3 float32). NULL: not computed yet (stored before there were query forms).
images = Table(
    "images", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("pdq", String(64)),
    Column("pdq_quality", Integer),
    Column("width", Integer),
    Column("height", Integer),
    Column("query_pdq", String(512)),
    Column("layout", LargeBinary),
    # How many views of the photo image_views holds; NULL until they are computed, which
    # happens for official catalog photos only.
    Column("views", Integer),
)

# The views of an official catalog photo that detection banks (assay.services.images.photo_views),
# in their order: the photo as it is, trimmed, cropped, turned.
image_views = Table(
    "image_views", metadata,
    Column("sha256", ForeignKey("images.sha256"), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("view", String(40), nullable=False),
    Column("pdq", String(64), nullable=False),
    Column("layout", LargeBinary, nullable=False),
)

# One row per `assay ingest` of a snapshot: where it got to, so a killed run resumes.
ingest_runs = Table(
    "ingest_runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("snapshot", Text, nullable=False),
    Column("fingerprint", String(64), nullable=False, index=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("phase", String(20), nullable=False),
    Column("offset", Integer, nullable=False),
    Column("line", Integer, nullable=False),
    Column("counts", JSON, nullable=False),
)

ingest_rejects = Table(
    "ingest_rejects", metadata,
    Column("run_id", ForeignKey("ingest_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("file", String(50), primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("reason", Text, nullable=False),
)

# What a newer snapshot changed, field by field: {"price": ["19.90", "17.50"]}.
feed_changes = Table(
    "feed_changes", metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", ForeignKey("ingest_runs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("ref", String(300), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("changes", JSON, nullable=False),
)

# What detection found in the store: one per (listing, brand), for the brand to confirm or dismiss.
suggestions = Table(
    "suggestions", metadata,
    Column("id", Integer, primary_key=True),
    Column("listing_id", ForeignKey("listings.id"), nullable=False),
    Column("brand_id", ForeignKey("brands.id"), nullable=False, index=True),
    Column("verdict", String(20), nullable=False),
    Column("score", Float, nullable=False),
    Column("signals", JSON, nullable=False),
    Column("source", String(20), nullable=False),  # "scan" or "stay_down"
    Column("status", String(20), nullable=False, index=True),  # open, confirmed, dismissed
    Column("created_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime),
    Column("decided_by", String(200)),
    Column("reason", Text),
    Column("notice_id", ForeignKey("notices.id")),
    UniqueConstraint("listing_id", "brand_id", name="uq_suggestions_listing_brand"),
)

settings = Table(
    "settings", metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

# -- accounts and access (the API) ------------------------------------------------------------
# Organisations are the rights holders and marketplaces themselves, plus the coalition
# (users with neither); a seller's user belongs to its storefront.
users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(20), nullable=False),  # admin, reviewer, holder, seller, integration
    Column("holder_id", ForeignKey("rights_holders.id"), index=True),
    Column("marketplace_id", ForeignKey("marketplaces.id"), index=True),
    Column("seller_id", ForeignKey("sellers.id"), index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
)

# Tokens are stored as a SHA-256 of the secret (they are long random strings, so no salt
# or slow hash is needed); the prefix lets a person tell their tokens apart.
api_tokens = Table(
    "api_tokens", metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("prefix", String(20), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("scopes", JSONList, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("last_used_at", UTCDateTime),
)

# One row per (caller, Idempotency-Key): the first answer, replayed for a repeat.
idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("id", Integer, primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("key", String(255), nullable=False),
    Column("method", String(10), nullable=False),
    Column("path", String(500), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer),  # null while the first request is still running
    Column("response_headers", JSON),
    Column("response_body", Text),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("owner", "key", name="uq_idempotency_keys_owner_key"),
)

# -- enforcement actions sent to marketplaces ----------------------------------------------------
webhook_endpoints = Table(
    "webhook_endpoints", metadata,
    Column("id", Integer, primary_key=True),
    Column("marketplace_id", ForeignKey("marketplaces.id"), nullable=False, unique=True),
    Column("url", String(2000), nullable=False),
    Column("secret", String(200), nullable=False),  # whsec_..., the Standard Webhooks form
    # after a rotation the old secret signs too, until then, so receivers can switch without a gap
    Column("previous_secret", String(200)),
    Column("previous_secret_until", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# The outbox: written in the transaction of the action itself, sent after commit.
webhook_events = Table(
    "webhook_events", metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", String(64), nullable=False, unique=True),
    Column("marketplace_id", ForeignKey("marketplaces.id"), nullable=False, index=True),
    Column("event_type", String(100), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("status", String(20), nullable=False, index=True),  # pending, delivered, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, index=True),
    Column("delivered_at", UTCDateTime),
    Column("last_error", Text),
)

webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", ForeignKey("webhook_events.id"), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("url", String(2000), nullable=False),
    Column("attempted_at", UTCDateTime, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Integer, nullable=False),
)

# -- long requests run as jobs the client polls -----------------------------------------------
jobs = Table(
    "jobs", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(50), nullable=False),
    Column("user_id", ForeignKey("users.id"), nullable=False, index=True),
    Column("holder_id", ForeignKey("rights_holders.id"), index=True),
    Column("status", String(20), nullable=False, index=True),  # queued, running, done, failed
    Column("total", Integer, nullable=False, default=0),
    Column("done", Integer, nullable=False, default=0),
    Column("params", JSON, nullable=False),
    Column("result", JSON),
    Column("error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

mapper_registry = registry(metadata=metadata)
_mapped = False


def map_domain() -> None:
    """Map the domain classes onto the tables, once per process."""
    global _mapped
    if _mapped:
        return
    _mapped = True
    m = mapper_registry.map_imperatively
    m(RightsHolder, rights_holders)
    m(TrademarkRight, trademark_rights)
    m(Brand, brands)
    m(Product, products)
    m(Marketplace, marketplaces)
    m(Seller, sellers, properties={
        "identity": composite(
            TraderIdentity, sellers.c.legal_name, sellers.c.email, sellers.c.phone,
            sellers.c.address, sellers.c.tax_id, sellers.c.payment_account,
        ),
    })
    m(Listing, listings)
    m(NoticeItem, notice_items)
    m(Notice, notices, properties={
        "items": relationship(NoticeItem, order_by=notice_items.c.id, lazy="selectin"),
    })
    m(StatementOfReasons, statements_of_reasons)
    m(Strike, strikes)
