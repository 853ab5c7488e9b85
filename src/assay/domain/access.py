"""Who may see and act on what: pure rules over a principal and an object's owners.

Every tenant check in the API goes through these functions, so the rules are in one
place and testable without a server. An object a principal may not see is reported
exactly like one that does not exist."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"              # coalition administrator: verifies rights, sets policy, sees everything
    REVIEWER = "reviewer"        # works the review queue and appeals
    HOLDER = "holder"            # member of a rights holder: its rights, brands, notices, suggestions
    SELLER = "seller"            # a storefront's owner: its listings, notices against them, strikes
    INTEGRATION = "integration"  # a marketplace's machine client: its listings and sellers, webhooks


STAFF = frozenset({Role.ADMIN, Role.REVIEWER})


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class Principal:
    user_id: int
    email: str
    role: Role
    holder_id: int | None = None
    marketplace_id: int | None = None
    seller_id: int | None = None
    scopes: frozenset[Scope] = field(default_factory=lambda: frozenset(Scope))
    token_id: int | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this principal (at most 200 characters, as the log keeps them)."""
        return f"user:{self.user_id}:{self.email}"[:200]

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF


def sees_holder(p: Principal, holder_id: int) -> bool:
    return p.is_staff or (p.role is Role.HOLDER and p.holder_id == holder_id)


def acts_for_holder(p: Principal, holder_id: int) -> bool:
    """Acting in a rights holder's name (filing, replying, confirming) is for its own members only."""
    return p.role is Role.HOLDER and p.holder_id == holder_id


def sees_seller(p: Principal, seller_id: int, marketplace_id: int) -> bool:
    return (p.is_staff
            or (p.role is Role.SELLER and p.seller_id == seller_id)
            or (p.role is Role.INTEGRATION and p.marketplace_id == marketplace_id))


def sees_listing(p: Principal, seller_id: int, marketplace_id: int) -> bool:
    """Listings are public offers, but their enforcement history is not: rights holders read
    listings to name them in notices; sellers and marketplaces read their own."""
    return p.role is Role.HOLDER or sees_seller(p, seller_id, marketplace_id)


def sees_item(p: Principal, *, holder_id: int, seller_id: int, marketplace_id: int) -> bool:
    """A notice item concerns its filer, the seller of the listing and that listing's marketplace."""
    return sees_holder(p, holder_id) or sees_seller(p, seller_id, marketplace_id)


def may_grant(p: Principal, role: Role, *, marketplace_of_seller: int | None = None) -> bool:
    """Who may create an account of a role: the coalition's admins any; a marketplace's
    integration the accounts of its own sellers."""
    if p.role is Role.ADMIN:
        return True
    return (p.role is Role.INTEGRATION and role is Role.SELLER
            and marketplace_of_seller is not None and marketplace_of_seller == p.marketplace_id)
