"""Marketplaces hand over their sellers and listings; Assay keeps them current."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from assay.domain.errors import ValidationFailed
from assay.domain.identity import TraderIdentity, identity_keys
from assay.domain.model import Listing, ListingStatus, Marketplace, Seller, SellerStatus
from assay.services.sanctions import ban_if_linked_to_banned, close_and_ban
from assay.services.snapshots import snapshot
from assay.store.uow import UnitOfWork


def ensure_marketplace(uow: UnitOfWork, code: str, name: str | None = None) -> Marketplace:
    """The marketplace with this code, created on first sight (does not commit)."""
    found = uow.repo.first(Marketplace, code=code)
    if found is None:
        if not code.strip():
            raise ValidationFailed(["marketplace: required"])
        found = Marketplace(code=code, name=name or code)
        uow.repo.add(found)
        uow.flush()
        uow.record("marketplace.created", "marketplace", found.id, after=snapshot(found))
    return found


def upsert_seller(
    uow: UnitOfWork, *, marketplace: str, seller_ref: str, store_name: str, registered_at: datetime,
    identity: TraderIdentity, banned: bool = False,
) -> int:
    """Create or update a seller. A seller the marketplace already banned arrives closed; one whose
    identity links it to a banned seller is banned on arrival (ban evasion)."""
    problems = []
    if not seller_ref.strip():
        problems.append("seller_id: required")
    if not store_name.strip():
        problems.append("store_name: required")
    if problems:
        raise ValidationFailed(problems)
    market = ensure_marketplace(uow, marketplace)
    seller = uow.repo.seller_by_ref(marketplace, seller_ref)
    if seller is None:
        seller = Seller(marketplace_id=market.id, seller_ref=seller_ref, store_name=store_name,
                        registered_at=registered_at, identity=identity)
        uow.repo.add(seller)
        uow.flush()
        uow.record("seller.created", "seller", seller.id, after=snapshot(seller))
    else:
        before = snapshot(seller, "store_name", "identity")
        seller.store_name, seller.identity = store_name, identity
        after = snapshot(seller, "store_name", "identity")
        if after != before:
            uow.record("seller.updated", "seller", seller.id, before=before, after=after)
    uow.repo.replace_identity_keys(seller.id, identity_keys(identity))
    if banned and not seller.is_banned:
        close_and_ban(uow, seller, reason=f"storefront closed for infringement by {marketplace} before it reached Assay")
    elif not seller.is_banned:
        ban_if_linked_to_banned(uow, seller)
    uow.commit()
    return seller.id


def upsert_listing(
    uow: UnitOfWork, *, marketplace: str, listing_ref: str, seller_ref: str, title: str, category: str,
    price: Decimal | str | float, currency: str, created_at: datetime, description: str = "",
    images: list[str] | None = None,
) -> int:
    problems = []
    if not listing_ref.strip():
        problems.append("listing_id: required")
    if not title.strip():
        problems.append("title: required")
    try:
        amount = Decimal(str(price))
        if not amount.is_finite() or amount <= 0:
            problems.append(f"price: must be a number greater than 0, not {price!r}")
    except InvalidOperation:
        problems.append(f"price: {price!r} is not a number")
    if len(currency) != 3 or not currency.isalpha():
        problems.append(f"currency: {currency!r} is not an ISO 4217 code")
    seller = uow.repo.seller_by_ref(marketplace, seller_ref)
    if seller is None:
        problems.append(f"seller_id: no seller {seller_ref!r} on {marketplace}")
    if problems:
        raise ValidationFailed(problems)
    assert seller is not None
    listing = uow.repo.listing_by_ref(marketplace, listing_ref)
    fields = dict(title=title, description=description, category=category, price=amount,
                  currency=currency.upper(), images=list(images or []), seller_id=seller.id)
    if listing is None:
        listing = Listing(marketplace_id=seller.marketplace_id, listing_ref=listing_ref, created_at=created_at,
                          status=ListingStatus.REMOVED if seller.status is SellerStatus.CLOSED else ListingStatus.ACTIVE,
                          **fields)
        uow.repo.add(listing)
        uow.flush()
        uow.record("listing.created", "listing", listing.id, after=snapshot(listing))
    else:
        before = snapshot(listing, *fields)
        for name, value in fields.items():
            setattr(listing, name, value)
        after = snapshot(listing, *fields)
        if after != before:
            changed = sorted(k for k in fields if before[k] != after[k])
            uow.record("listing.updated", "listing", listing.id,
                       before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    uow.commit()
    return listing.id
