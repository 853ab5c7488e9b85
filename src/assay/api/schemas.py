"""Request and response bodies. Inputs forbid unknown fields, so a client cannot set a
field the server owns (ids, status, owner, strikes, timestamps): such a body is a 422."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator
from pydantic_core import PydanticCustomError

from assay.domain.access import Role, Scope
from assay.domain.notices import InfringementType, ItemState, Lane, NoticeSource

T = TypeVar("T")
MAX_ID = 2**31 - 1  # ids are 32-bit integers in the store: a larger one names nothing
Id = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
Text = Field(min_length=1, max_length=10_000)
Name = Field(min_length=1, max_length=200)


NO_NUL = r"^[^\x00]*$"  # PostgreSQL keeps no NUL character in text


def holds_nul(value: Any) -> bool:
    """Whether a NUL character hides anywhere in this JSON value, keys included."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(holds_nul(k) or holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_nul(v) for v in value)
    return False


class In(BaseModel):
    """Booleans and numbers must be JSON booleans and numbers: "yes" or "1" is not taken for one."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if holds_nul(value):
            raise PydanticCustomError("nul_character", "text may not contain NUL characters")
        return value


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(Out, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


# -- accounts ------------------------------------------------------------------------------------
class LoginIn(In):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1000)


class TokenIn(In):
    name: str = Name
    scopes: list[Scope] = Field(default_factory=lambda: [Scope.READ, Scope.WRITE], min_length=1)
    expires_in_days: StrictInt = Field(default=90, ge=1, le=366)


class IssuedTokenOut(Out):
    token: str = Field(description="The secret: shown once, send it as `Authorization: Bearer <token>`")
    token_id: int
    token_type: str = "bearer"
    expires_at: datetime


class TokenOut(Out):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class UserIn(In):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=10, max_length=1000)
    role: Role
    display_name: str = Field(default="", max_length=200)
    holder_id: Id | None = None
    marketplace_id: Id | None = None
    seller_id: Id | None = None


class UserOut(Out):
    id: int
    email: str
    display_name: str
    role: Role
    holder_id: int | None = None
    marketplace_id: int | None = None
    seller_id: int | None = None
    created_at: datetime


class EnrolmentIn(In):
    organisation: str = Name
    contact_email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=10, max_length=1000, description="for the account of the enrolling person")
    display_name: str = Field(default="", max_length=200)
    sign_good_faith: StrictBool = False


class EnrolmentOut(Out):
    holder_id: int
    user_id: int


# -- rights holders and rights ----------------------------------------------------------------------
class HolderOut(Out):
    id: int
    name: str
    contact_email: str
    created_at: datetime
    good_faith_signed_at: datetime | None = None
    warned_at: datetime | None = None
    suspended_until: datetime | None = None


class RightIn(In):
    mark: str = Name
    office: str = Field(min_length=1, max_length=100)
    registration_number: str = Field(min_length=1, max_length=100)
    classes: list[str] = Field(default_factory=list, max_length=45)
    categories: list[str] = Field(min_length=1, max_length=100)
    expires_on: date


class RightOut(Out):
    id: int
    holder_id: int
    mark: str
    office: str
    registration_number: str
    classes: list[str]
    categories: list[str]
    expires_on: date
    status: str
    status_reason: str | None = None
    decided_at: datetime | None = None


class RightDecisionIn(In):
    verified: StrictBool
    reason: str | None = Field(default=None, max_length=10_000)


# -- brands and catalog ---------------------------------------------------------------------------------
class ProductIn(In):
    sku: str = Field(min_length=1, max_length=100)
    title: str = Name
    category: str = Field(min_length=1, max_length=100)
    msrp: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    images: list[str] = Field(default_factory=list, max_length=50)


class ProductOut(Out):
    sku: str
    title: str
    category: str
    msrp: Decimal
    currency: str


class BrandIn(In):
    brand_ref: str = Field(min_length=1, max_length=100, description="your own id for the brand")
    name: str = Name
    marks: list[str] = Field(min_length=1, max_length=100)
    categories: list[str] = Field(min_length=1, max_length=100)
    products: list[ProductIn] = Field(default_factory=list, max_length=10_000)
    authorized_sellers: list[str] = Field(default_factory=list, max_length=10_000)


class BrandOut(Out):
    id: int
    brand_ref: str
    holder_id: int
    name: str
    marks: list[str]
    categories: list[str]
    authorized_sellers: list[str]
    proactive_removal: bool


class AuthorizedSellerIn(In):
    seller_ref: str = Field(min_length=1, max_length=200)
    authorized: StrictBool


class ProactiveIn(In):
    enabled: StrictBool


# -- notices ----------------------------------------------------------------------------------------------------
class NoticeIn(In):
    right_ids: list[Id] = Field(min_length=1, max_length=50)
    listings: list[Id | Annotated[str, Field(min_length=1, max_length=400)]] = Field(min_length=1, max_length=1000, description=(
        "Assay listing ids, or `marketplace:listing_id` as the marketplace knows them; "
        "for more than 1,000 use the bulk endpoint"))
    infringement_type: InfringementType = InfringementType.COUNTERFEIT
    explanation: str = Text
    evidence: list[str] = Field(default_factory=list, max_length=100)
    good_faith: StrictBool
    accurate: StrictBool
    signature: str = Field(min_length=1, max_length=300)


class RejectedListing(Out):
    listing: str
    reason: str


class FilingOut(Out):
    notice_id: int
    lane: Lane
    lane_reasons: list[str]
    item_ids: list[int]
    removed: list[int]
    queued: list[int]
    incomplete_reasons: list[str]
    rejected: list[RejectedListing]


class ItemOut(Out):
    id: int
    notice_id: int
    listing_id: int
    seller_id: int
    holder_id: int
    state: ItemState
    filed_at: datetime
    review_due_at: datetime | None = None
    overdue: bool
    removed_at: datetime | None = None
    counter_notice_until: datetime | None = None
    counter_statement: str | None = None
    contested_at: datetime | None = None
    reply_due_at: datetime | None = None
    reply_statement: str | None = None
    appeal_due_at: datetime | None = None
    decided_at: datetime | None = None
    closed_at: datetime | None = None
    manifestly_unfounded: bool


class NoticeOut(Out):
    id: int
    holder_id: int
    right_ids: list[int]
    infringement_type: InfringementType
    explanation: str
    evidence: list[str]
    good_faith: bool
    accurate: bool
    signature: str
    filed_at: datetime
    source: NoticeSource
    lane: Lane
    incomplete_reasons: list[str]
    items: list[ItemOut]


class WithdrawIn(In):
    item_ids: list[Id] | None = Field(default=None, max_length=100_000)
    reason: str = Field(default="withdrawn by the rights holder", min_length=1, max_length=10_000)


class WithdrawOut(Out):
    withdrawn: list[int]


class ReviewDecisionIn(In):
    remove: StrictBool
    reason: str = Text
    manifestly_unfounded: StrictBool = False


class CounterNoticeIn(In):
    statement: str = Text
    signature: str = Field(min_length=1, max_length=300)


class ReplyIn(In):
    maintain: StrictBool
    statement: str = Field(default="", max_length=10_000)


class AppealDecisionIn(In):
    uphold: StrictBool
    reason: str = Text


class ItemStateOut(Out):
    item_id: int
    state: ItemState


class StatementOut(Out):
    id: int
    item_id: int | None = None
    listing_id: int | None = None
    seller_id: int
    measure: str
    scope: str
    facts: str
    ground: str
    legal_ground: str
    source: str
    automated_detection: bool
    automated_decision: str
    redress: str
    redress_deadline: datetime | None = None
    decided_at: datetime
    decided_by: str
    text: str


class AuditEventOut(Out):
    seq: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reason: str | None = None
    request_id: str | None = None
    hash: str


# -- sellers, listings, strikes ------------------------------------------------------------------------------
class SellerOut(Out):
    id: int
    marketplace_id: int
    seller_ref: str
    store_name: str
    registered_at: datetime
    status: str
    banned_at: datetime | None = None
    ban_reason: str | None = None
    sanction_level: int


class ListingOut(Out):
    id: int
    marketplace_id: int
    listing_ref: str
    seller_id: int
    title: str
    description: str
    category: str
    price: Decimal
    currency: str
    created_at: datetime
    status: str


class StrikeOut(Out):
    id: int
    seller_id: int
    item_id: int
    kind: str
    issued_at: datetime
    revoked_at: datetime | None = None
    standing: bool


# -- detection's suggestions ------------------------------------------------------------------------------------
class SuggestionOut(Out):
    id: int
    listing_id: int
    brand_id: int
    verdict: str
    score: float
    signals: list[dict[str, Any]]
    source: str
    status: str
    created_at: datetime
    decided_at: datetime | None = None
    reason: str | None = None
    notice_id: int | None = None


class ConfirmIn(In):
    right_ids: list[Id] = Field(min_length=1, max_length=50)
    signature: str = Field(min_length=1, max_length=300)


class ConfirmOut(Out):
    notice_id: int


class DismissIn(In):
    reason: str = Text


# -- marketplace integration ----------------------------------------------------------------------------------------
class RecordsIn(BaseModel):
    """Each record is checked on its own (a bad one is reported, the others kept), so the
    body's own rules stop at its shape."""

    model_config = ConfigDict(extra="forbid")
    records: list[dict[str, Any]] = Field(min_length=1, max_length=1000, description=(
        "Records exactly as in the snapshot format (sellers.jsonl or listings.jsonl lines); "
        "`marketplace` may be left out and must otherwise be your own"))


class RejectedRecord(Out):
    index: int
    reason: str


class RecordsOut(Out):
    accepted: list[int] = Field(description="Assay ids of the records accepted, in request order")
    rejected: list[RejectedRecord]


class WebhookIn(In):
    url: str = Field(min_length=8, max_length=2000)


class RotateSecretIn(In):
    overlap_hours: int = Field(default=24, ge=0, le=168, description=(
        "how long the previous secret keeps signing beside the new one (each request then carries "
        "both signatures), so your receiver can switch without rejecting a delivery; 0 ends it at once"))


class WebhookOut(Out):
    url: str
    secret: str | None = Field(default=None, description="the signing secret: shown when it is set")
    created_at: datetime | None = None
    updated_at: datetime | None = None
    previous_secret_until: datetime | None = Field(
        default=None, description="after a rotation, until when the previous secret signs too")


# -- reports ---------------------------------------------------------------------------------------------------------
class TransparencyOut(Out):
    notice_items: int
    listings_removed: int
    storefronts_closed: int
    decided: int
    taken_down: int
    reversals: int
    takedown_rate: float
    median_hours_to_takedown: float | None = None
    suggestions: dict[str, int]
