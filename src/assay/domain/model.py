"""The parties and things of a takedown: rights holders and their rights, brands,
marketplaces, sellers and listings. Plain classes; the store maps them to tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from assay.domain.identity import TraderIdentity


class RightStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"
    EXPIRED = "expired"


class SellerStatus(StrEnum):
    ACTIVE = "active"
    RESTRICTED = "restricted"
    CLOSED = "closed"


class ListingStatus(StrEnum):
    ACTIVE = "active"
    REMOVED = "removed"
    REINSTATED = "reinstated"

    @property
    def is_visible(self) -> bool:
        return self is not ListingStatus.REMOVED


@dataclass(eq=False)
class RightsHolder:
    """An organisation that owns IP rights and files notices."""

    name: str
    contact_email: str
    created_at: datetime
    good_faith_signed_at: datetime | None = None
    warned_at: datetime | None = None
    suspended_until: datetime | None = None
    id: int | None = None

    def is_suspended(self, now: datetime) -> bool:
        return self.suspended_until is not None and now < self.suspended_until


@dataclass(eq=False)
class TrademarkRight:
    """A trademark registration that a rights holder claims, to be proven."""

    holder_id: int
    mark: str
    office: str
    registration_number: str
    classes: list[str]
    categories: list[str]
    expires_on: date
    status: RightStatus = RightStatus.PENDING
    status_reason: str | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    id: int | None = None

    def is_usable(self, now: datetime) -> bool:
        """Only a verified registration that has not expired may back a notice."""
        return self.status is RightStatus.VERIFIED and now.date() <= self.expires_on

    def unusable_reason(self, now: datetime) -> str | None:
        if self.status is not RightStatus.VERIFIED:
            return f"right {self.id} ({self.mark}) is {self.status.value}, not verified"
        if now.date() > self.expires_on:
            return f"right {self.id} ({self.mark}) expired on {self.expires_on.isoformat()}"
        return None

    def describe(self) -> str:
        return f"trademark {self.mark!r}, {self.office} registration {self.registration_number}"


@dataclass(eq=False)
class Product:
    """One item of a brand's official catalog."""

    sku: str
    title: str
    category: str
    msrp: Decimal
    currency: str
    images: list[str] = field(default_factory=list)
    image_hashes: list[str] = field(default_factory=list)
    brand_id: int | None = None
    id: int | None = None


@dataclass(eq=False)
class Brand:
    """A brand a rights holder protects: its marks, catalog and authorized sellers."""

    brand_ref: str
    holder_id: int
    name: str
    marks: list[str]
    categories: list[str]
    authorized_sellers: list[str] = field(default_factory=list)
    proactive_removal: bool = False
    id: int | None = None


@dataclass(eq=False)
class Marketplace:
    code: str
    name: str
    id: int | None = None


@dataclass(eq=False)
class Seller:
    """A storefront on a marketplace, with the trader identity the marketplace verified."""

    marketplace_id: int
    seller_ref: str
    store_name: str
    registered_at: datetime
    identity: TraderIdentity
    status: SellerStatus = SellerStatus.ACTIVE
    banned_at: datetime | None = None
    ban_reason: str | None = None
    sanction_level: int = 0
    id: int | None = None

    @property
    def is_banned(self) -> bool:
        return self.banned_at is not None


@dataclass(eq=False)
class Listing:
    """An offer on a marketplace: what notices name and takedowns remove."""

    marketplace_id: int
    listing_ref: str
    seller_id: int
    title: str
    category: str
    price: Decimal
    currency: str
    created_at: datetime
    description: str = ""
    images: list[str] = field(default_factory=list)
    status: ListingStatus = ListingStatus.ACTIVE
    image_hashes: list[str] = field(default_factory=list)
    id: int | None = None
