"""Detection on the store: the detector built from what ingest stored (the same one a
snapshot scan builds), and the scan of the store's listings, whose flags become
suggestions (`assay.services.suggestions`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from assay.detection.activity import NEW_ACCOUNT, SellerActivity, SellerKey
from assay.detection.images import AS_IS, PDQ_HEX_DIGITS, Photo, PhotoBank, is_trusted
from assay.detection.pipeline import Detector
from assay.detection.profiles import SellerBook, brand_profile
from assay.detection.score import Evidence
from assay.domain import feeds
from assay.domain.model import Brand, Listing, ListingStatus, Marketplace, Product, Seller
from assay.services.images import layout_from_bytes
from assay.services.suggestions import act_for_opted_in_brands, suggest
from assay.store.repository import batches
from assay.store.tables import image_views, images, listings
from assay.store.uow import UnitOfWork

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
