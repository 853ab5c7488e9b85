"""Detection in the product: scan the store, keep what it finds as suggestions that a
brand confirms (which files a notice) or dismisses (which is remembered), and let
brands that opted in have infringing listings taken down on the platform's own
initiative."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from assay.detection.activity import NEW_ACCOUNT, SellerActivity, SellerKey
from assay.detection.images import AS_IS, PDQ_HEX_DIGITS, Photo, PhotoBank, is_trusted
from assay.detection.pipeline import Detector, Flag
from assay.detection.profiles import SellerBook, brand_profile
from assay.detection.score import Evidence
from assay.domain import feeds
from assay.domain.errors import DomainError, NotFound, NotPermitted, ValidationFailed
from assay.domain.model import Brand, Listing, ListingStatus, Marketplace, Product, RightsHolder, Seller, TrademarkRight
from assay.domain.notices import InfringementType, NoticeSource
from assay.services import notices
from assay.services.images import layout_from_bytes
from assay.store.repository import batches
from assay.store.tables import image_views, images, listings, suggestions
from assay.store.uow import UnitOfWork

OPEN, CONFIRMED, DISMISSED = "open", "confirmed", "dismissed"
CHUNK = 1000


@dataclass
class StoreScan:
    listings: int = 0
    suggested: int = 0
    filed: int = 0


# -- the detector, built from the store ---------------------------------------------------------

def detector_from_store(uow: UnitOfWork) -> tuple[Detector, dict[str, int]]:
    """The same detector a snapshot scan builds, from what the store holds; and brand ref -> id.
    Its bank holds the views of each official photo that ingest stored, in the order a snapshot
    scan banks them (brand, product, photo, view), then the photos of listings taken down."""
    session = uow.session
    fx_text = uow.repo.setting("fx")
    fx = json.loads(fx_text) if fx_text else None
    records, official, brand_ids = [], [], {}
    for brand in session.scalars(select(Brand).order_by(Brand.id)):
        catalog = session.scalars(select(Product).where(Product.brand_id == brand.id).order_by(Product.id)).all()
        records.append(feeds.BrandRecord(
            brand.brand_ref, brand.name, "", tuple(brand.marks), tuple(brand.categories),
            tuple(feeds.ProductRecord(p.sku, p.title, p.category, p.msrp, p.currency, tuple(p.images)) for p in catalog),
            tuple(brand.authorized_sellers)))
        brand_ids[brand.brand_ref] = brand.id
        official += [(f"official:{brand.brand_ref}:{p.sku}", sha) for p in catalog for sha in p.image_hashes if sha]
    views = stored_views(session, (sha for _, sha in official))
    bank = PhotoBank()
    bank.add((pdq, ref, view, layout) for ref, sha in official for pdq, view, layout in views.get(sha, ()))
    bank.add(_taken_down_photos(uow))
    markets = {m.id: m.code for m in session.scalars(select(Marketplace))}
    sellers = SellerBook.build(
        feeds.SellerRecord(s.seller_ref, markets[s.marketplace_id], s.store_name, s.registered_at, s.is_banned,
                           s.identity) for s in session.scalars(select(Seller)))
    detector = Detector([brand_profile(r, fx) for r in records], sellers, fx, bank)
    return detector.knowing(_new_accounts(uow, detector)), brand_ids


def stored_photos(session: Session, shas: Iterable[str]) -> dict[str, tuple[Photo, str]]:
    """For each of these image files, what the bank is searched with, as ingest stored it
    (`assay.services.images.query_photo`), and the view its upright hash is of (the photo as it
    is, or trimmed). A file stored before query forms were kept has only its plain PDQ hash:
    that is searched with, as it is, without a layout (the next ingest of the file completes it)."""
    found: dict[str, tuple[Photo, str]] = {}
    for sha, query, layout, pdq, quality in _rows_of(session, select(
            images.c.sha256, images.c.query_pdq, images.c.layout, images.c.pdq, images.c.pdq_quality), images.c.sha256, shas):
        if query:
            hashes = tuple(query[i:i + PDQ_HEX_DIGITS] for i in range(0, len(query), PDQ_HEX_DIGITS))
            found[sha] = (Photo(hashes, layout_from_bytes(layout)), AS_IS if hashes[0] == pdq else "trimmed")
        elif query is None and pdq and is_trusted(quality):
            found[sha] = (Photo((pdq,)), AS_IS)
    return found


def stored_views(session: Session, shas: Iterable[str]) -> dict[str, list[tuple[str, str, np.ndarray | None]]]:
    """The views ingest stored of each of these official photos, in order; a photo stored before
    views were kept, its plain PDQ hash as its one view (without a layout)."""
    found: dict[str, list[tuple[str, str, np.ndarray | None]]] = {}
    with_views = []
    for sha, count, pdq, quality in _rows_of(session, select(
            images.c.sha256, images.c.views, images.c.pdq, images.c.pdq_quality), images.c.sha256, shas):
        if count:
            with_views.append(sha)
        elif count is None and pdq and is_trusted(quality):
            found[sha] = [(pdq, AS_IS, None)]
    query = select(image_views.c.sha256, image_views.c.pdq, image_views.c.view, image_views.c.layout)
    for sha, pdq, view, layout in _rows_of(session, query.order_by(image_views.c.sha256, image_views.c.position),
                                           image_views.c.sha256, with_views):
        found.setdefault(sha, []).append((pdq, view, layout_from_bytes(layout)))
    return found


def _rows_of(session: Session, query: Any, key: Any, values: Iterable[str]) -> Iterator[Any]:
    """The rows of `query` whose `key` is one of these values (a few thousand asked for at a time)."""
    for batch in batches(sorted(set(values) - {""})):
        yield from session.execute(query.where(key.in_(batch)))


def _new_accounts(uow: UnitOfWork, detector: Detector) -> dict[SellerKey, Evidence]:
    """The seller signal of accounts new at the clock's time: their listings that are up, counted."""
    activity = SellerActivity(detector, now=uow.now)
    query = (select(Listing, Marketplace.code, Seller.seller_ref)
             .join(Marketplace, Marketplace.id == Listing.marketplace_id).join(Seller, Seller.id == Listing.seller_id)
             .where(Seller.registered_at > uow.now - NEW_ACCOUNT, Listing.status != ListingStatus.REMOVED))
    for listing, market, seller in uow.session.execute(query):
        activity.add(_as_record(listing, market, seller))
    return activity.signals()


def _taken_down_photos(uow: UnitOfWork) -> list[tuple[str, str, str, Any]]:
    """The bank of listings taken down for good, one view a photo: the photo upright as a listing's
    photo is searched with (trimmed), with its layout. Its next copy, trimmed too, matches it."""
    down = uow.repo.taken_down()
    photos = stored_photos(uow.session, (sha for listing, _ in down for sha in listing.image_hashes))
    return [(photos[sha][0].hashes[0], f"taken_down:{brand.brand_ref}:{listing.listing_ref}", photos[sha][1],
             photos[sha][0].layout) for listing, brand in down for sha in listing.image_hashes if sha in photos]


def _as_record(listing: Listing, market: str, seller_ref: str) -> feeds.ListingRecord:
    return feeds.ListingRecord(listing.listing_ref, market, seller_ref, listing.title, listing.description,
                               listing.category, listing.price, listing.currency, tuple(listing.images),
                               listing.created_at)


# -- scanning the store ----------------------------------------------------------------------------

def scan_store(new_uow: Callable[[], UnitOfWork], *, only_pending: bool = False) -> StoreScan:
    """Judge every listing that is up (or only those an ingest brought since the last scan);
    keep each flag as a suggestion (a listing already confirmed or dismissed for a brand is not
    suggested again), then act for brands that opted in. Each chunk commits its suggestions with
    the listings' `needs_scan` cleared, so an interrupted scan resumes where it stopped."""
    result = StoreScan()
    with new_uow() as uow:
        detector, brand_ids = detector_from_store(uow)
        after = 0
        while chunk := _listing_chunk(uow, after, only_pending):
            after = chunk[-1][0].id
            photos = stored_photos(uow.session, (sha for listing, _, _ in chunk for sha in listing.image_hashes))
            batch = [(_as_record(listing, market, seller),
                      tuple(photos[sha][0] for sha in listing.image_hashes if sha in photos))
                     for listing, market, seller in chunk]
            for (listing, _, _), flag in zip(chunk, detector.judge_batch(batch), strict=True):
                result.listings += 1
                if flag is not None and flag.brand_id in brand_ids:
                    result.suggested += suggest(uow, listing.id, brand_ids[flag.brand_id], flag, source="scan")
            uow.session.execute(update(listings).where(listings.c.id.in_([row[0].id for row in chunk]))
                                .values(needs_scan=False))
            uow.commit()
    result.filed = act_for_opted_in_brands(new_uow)
    return result


def _listing_chunk(uow: UnitOfWork, after: int, only_pending: bool) -> list[tuple[Listing, str, str]]:
    """The next listings that are up, by id (keyset paging: each chunk is its own transaction)."""
    query = (select(Listing, Marketplace.code, Seller.seller_ref)
             .join(Marketplace, Marketplace.id == Listing.marketplace_id).join(Seller, Seller.id == Listing.seller_id)
             .where(Listing.status != ListingStatus.REMOVED, Listing.id > after).order_by(Listing.id).limit(CHUNK))
    if only_pending:
        query = query.where(listings.c.needs_scan.is_(True))
    return [tuple(row) for row in uow.session.execute(query)]  # type: ignore[misc]


def suggest(uow: UnitOfWork, listing_id: int, brand_id: int, flag: Flag, *, source: str) -> int:
    """Keep a flag as an open suggestion; refresh an open one; leave a decided one alone."""
    existing = uow.session.execute(select(suggestions).where(
        suggestions.c.listing_id == listing_id, suggestions.c.brand_id == brand_id)).mappings().first()
    values = dict(verdict=flag.verdict, score=round(flag.score, 4), signals=[s.as_json() for s in flag.signals])
    if existing is None:
        uow.session.execute(suggestions.insert().values(listing_id=listing_id, brand_id=brand_id, source=source,
                                                        status=OPEN, created_at=uow.now, **values))
        return 1
    if existing["status"] == OPEN and existing["source"] == source:  # a stay-down catch keeps its own reasons
        uow.session.execute(update(suggestions).where(suggestions.c.id == existing["id"]).values(**values))
    return 0


# -- the brand's answer ------------------------------------------------------------------------------

def _open_suggestion(uow: UnitOfWork, suggestion_id: int, holder_id: int) -> tuple[dict, Brand]:
    row = uow.session.execute(select(suggestions).where(suggestions.c.id == suggestion_id)).mappings().first()
    brand = uow.session.get(Brand, row["brand_id"]) if row else None
    if row is None or brand is None or brand.holder_id != holder_id:
        raise NotFound("suggestion", suggestion_id)  # another brand's suggestion is not there for you
    if row["status"] != OPEN:
        raise DomainError(f"suggestion {suggestion_id} is already {row['status']}")
    return dict(row), brand


def confirm(uow: UnitOfWork, suggestion_id: int, *, holder_id: int, right_ids: list[int], signature: str) -> int:
    """The brand confirms: a notice is filed in its name, on the reasons detection gave."""
    row, brand = _open_suggestion(uow, suggestion_id, holder_id)
    reasons = "; ".join(s["detail"] for s in row["signals"] if s["weight"] > 0)
    result = notices.file_notice(
        uow, holder_id=holder_id, right_ids=right_ids, listings=[row["listing_id"]],
        infringement_type=InfringementType.COUNTERFEIT, explanation=f"Found by Assay's detection: {reasons}",
        evidence=[f"suggestion {suggestion_id}"], good_faith=True, accurate=True, signature=signature, commit=False)
    _decide(uow, suggestion_id, CONFIRMED, notice_id=result.notice_id)
    uow.commit()
    return result.notice_id


def dismiss(uow: UnitOfWork, suggestion_id: int, *, holder_id: int, reason: str) -> None:
    """The brand dismisses: remembered, never suggested again, and counted against detection's accuracy."""
    if not reason.strip():
        raise ValidationFailed(["reason: say why the listing is not infringing (it teaches the detector)"])
    _open_suggestion(uow, suggestion_id, holder_id)
    _decide(uow, suggestion_id, DISMISSED, reason=reason.strip())
    uow.commit()


def _decide(uow: UnitOfWork, suggestion_id: int, status: str, *, notice_id: int | None = None,
            reason: str | None = None) -> None:
    uow.session.execute(update(suggestions).where(suggestions.c.id == suggestion_id).values(
        status=status, decided_at=uow.now, decided_by=uow.actor, notice_id=notice_id, reason=reason))
    uow.record(f"suggestion.{status}", "suggestion", suggestion_id, before={"status": OPEN},
               after={"status": status, "notice_id": notice_id}, reason=reason)


def accuracy(uow: UnitOfWork) -> dict[str, int]:
    """How brands answered detection: confirmed against dismissed, and still open."""
    rows = uow.session.execute(select(suggestions.c.status, func.count()).group_by(suggestions.c.status)).all()
    return {OPEN: 0, CONFIRMED: 0, DISMISSED: 0, **dict(rows)}


# -- proactive removal ---------------------------------------------------------------------------------

def act_for_opted_in_brands(new_uow: Callable[[], UnitOfWork]) -> int:
    """For brands that opted in, every open `infringing` suggestion files an own-initiative notice
    on the brand's verified rights for the mark: expedited, the automated detection on record.
    Idempotent: a listing already in an open item of the brand's is confirmed, not filed twice."""
    with new_uow() as uow:
        pending = uow.session.execute(
            select(suggestions.c.id, suggestions.c.listing_id, suggestions.c.brand_id, suggestions.c.signals)
            .join(Brand, Brand.id == suggestions.c.brand_id)
            .where(suggestions.c.status == OPEN, suggestions.c.verdict == "infringing",
                   Brand.proactive_removal.is_(True)).order_by(suggestions.c.id)).all()
    filed = 0
    for suggestion_id, listing_id, brand_id, signals in pending:
        with new_uow() as uow:
            brand = uow.repo.get(Brand, brand_id)
            holder = uow.repo.get(RightsHolder, brand.holder_id)
            marks = {m.casefold() for m in brand.marks}
            rights = [r.id for r in uow.repo.all(TrademarkRight, holder_id=holder.id)
                      if r.is_usable(uow.now) and r.mark.casefold() in marks]
            already = uow.repo.open_item(holder.id, listing_id)
            if already is not None:
                _decide(uow, suggestion_id, CONFIRMED, notice_id=already.notice_id)
                uow.commit()
                continue
            if not rights:
                continue  # nothing to file on; the suggestion waits for the brand
            reasons = "; ".join(s["detail"] for s in signals if s["weight"] > 0)
            try:
                result = notices.file_notice(
                    uow, holder_id=holder.id, right_ids=rights, listings=[listing_id],
                    infringement_type=InfringementType.COUNTERFEIT,
                    explanation=f"Found by Assay's own-initiative detection: {reasons}",
                    evidence=[f"suggestion {suggestion_id}"], good_faith=holder.good_faith_signed_at is not None,
                    accurate=True, signature=f"{holder.name}, by its standing instruction for proactive removal",
                    source=NoticeSource.OWN_INITIATIVE, commit=False)
            except (ValidationFailed, NotPermitted, DomainError):
                continue
            _decide(uow, suggestion_id, CONFIRMED, notice_id=result.notice_id)
            uow.commit()
            filed += 1
    return filed
