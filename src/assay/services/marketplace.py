"""Marketplaces hand over their sellers and listings; Assay keeps them current."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import update

from assay.domain.errors import ValidationFailed
from assay.domain.identity import TraderIdentity, identity_keys
from assay.domain.model import Listing, ListingStatus, Marketplace, Seller, SellerStatus
from assay.services.feed_reader import natural_key, validate
from assay.services.sanctions import ban_if_linked_to_banned, close_and_ban
from assay.services.snapshots import snapshot
from assay.store.tables import listings
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
    images: list[str] | None = None, awaiting_detection: bool = False,
) -> int:
    """Create or update a listing; with `awaiting_detection`, a new or changed one is marked for the
    detector to judge (what ingest does, and the worker picks up)."""
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
    listing_is_new, changed_now = listing is None, False
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
            changed_now = True
    if awaiting_detection and (changed_now or listing_is_new):
        uow.flush()
        uow.session.execute(update(listings).where(listings.c.id == listing.id).values(needs_scan=True))
    uow.commit()
    return listing.id


def upsert_records(
    new_uow: Callable[[], UnitOfWork], *, marketplace: str, kind: str, records: list[dict[str, Any]],
) -> tuple[list[int], list[tuple[int, str]]]:
    """A marketplace's batch of seller or listing records, validated exactly as `assay ingest`
    validates snapshot lines. Each record stands alone: a bad one is reported by its index
    (0-based, in request order) and the others are kept. New or changed listings wait for
    detection, as at ingest."""
    accepted: list[int] = []
    rejected: list[tuple[int, str]] = []
    seen: set[str] = set()
    for index, raw in enumerate(records):
        raw = {**raw, "marketplace": raw.get("marketplace", marketplace)} if isinstance(raw, dict) else raw
        record, error = validate(kind, raw, None)
        if record is None:
            rejected.append((index, error or "invalid"))
            continue
        if record.marketplace != marketplace:
            rejected.append((index, f"marketplace: {record.marketplace!r} is not yours ({marketplace!r})"))
            continue
        key = natural_key(record)[1]
        if key in seen:
            rejected.append((index, f"duplicate id {key!r}: an earlier record of this batch has it"))
            continue
        seen.add(key)
        try:
            with new_uow() as uow:
                accepted.append(_upsert_record(uow, kind, record))
        except ValidationFailed as problem:
            rejected.append((index, str(problem)))
    return accepted, rejected


def _upsert_record(uow: UnitOfWork, kind: str, record: Any) -> int:
    if kind == "sellers":
        return upsert_seller(uow, marketplace=record.marketplace, seller_ref=record.seller_id,
                             store_name=record.store_name, registered_at=record.registered_at,
                             identity=record.identity, banned=record.banned)
    listing_id = upsert_listing(
        uow, marketplace=record.marketplace, listing_ref=record.listing_id, seller_ref=record.seller_id,
        title=record.title, category=record.category, price=record.price, currency=record.currency,
        created_at=record.created_at, description=record.description, images=list(record.images),
        awaiting_detection=True)
    return listing_id
