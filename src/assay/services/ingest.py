"""`assay ingest`: load a marketplace snapshot (FORMATS.md) into the store.

Streams each file line by line, so memory does not grow with the snapshot.
Batches commit together with a checkpoint (file, byte offset), and rows upsert on
their natural keys, so a killed run started again ends exactly where an
uninterrupted one would. Invalid records go to the rejects (file, line, reason);
they never stop the load and are never dropped silently."""

from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from assay.domain import feeds
from assay.domain.errors import DomainError
from assay.domain.identity import IdentityKey, identity_keys
from assay.domain.model import ListingStatus, Seller, SellerStatus
from assay.services.app import Assay
from assay.services.feed_reader import Chunk, chunks, reject_line
from assay.services.sanctions import close_and_ban_linked
from assay.services.snapshots import jsonable
from assay.services.suggestions import act_for_opted_in_brands
from assay.store.audit_log import append_event
from assay.store.bulk import bulk_load, insert_rows
from assay.store.repository import batches
from assay.store.tables import (
    brands,
    feed_changes,
    image_views,
    images,
    ingest_rejects,
    ingest_runs,
    listings,
    marketplaces,
    products,
    rights_holders,
    seller_identity_keys,
    sellers,
    settings,
    suggestions,
)

if TYPE_CHECKING:
    from assay.services.images import ImageFingerprint

REQUIRED = ("brands.jsonl", "sellers.jsonl", "listings.jsonl")
PHASES = ("brands", "sellers", "listings", "done")
BATCH = 2000
SNIFF_LINES = 20
SELLER_CACHE = 200_000  # about 40 MB
LOAD_GC_THRESHOLD = 50_000  # allocations between collections of the youngest generation, during a load
POOL_MIN_FILES = 64  # image files to fingerprint in one batch before worker processes share them


class SnapshotError(DomainError):
    """The snapshot as a whole cannot be read: a missing file, or one that is not JSON Lines."""


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def add(self, other: Counts) -> None:
        for name in ("created", "updated", "unchanged", "rejected"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class IngestSummary:
    run_id: int
    resumed: bool
    counts: dict[str, Counts] = field(default_factory=dict)
    banned: int = 0
    suggested: int = 0
    filed: int = 0

    def line(self) -> str:
        parts = [f"{name} {c.created} new, {c.updated} updated, {c.unchanged} unchanged, {c.rejected} rejected"
                 for name, c in self.counts.items()]
        tail = f"; {self.banned} linked sellers banned" if self.banned else ""
        tail += f"; {self.suggested} suggestions from detection" if self.suggested else ""
        tail += f"; {self.filed} filed for removal on brands' standing instructions" if self.filed else ""
        return "ingest: " + "; ".join(parts) + tail


def check_snapshot(root: Path) -> dict[str, float] | None:
    """Fail early and clearly on what would make the whole load meaningless."""
    if not root.is_dir():
        raise SnapshotError(f"{root}: not a directory")
    for name in REQUIRED:
        path = root / name
        if not path.is_file():
            raise SnapshotError(f"{path}: required file is missing")
        _sniff(path)
    fx_path = root / "fx.json"
    if not fx_path.exists():
        return None
    try:
        return feeds.exchange_rates(json.loads(fx_path.read_text(encoding="utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError) as problem:
        raise SnapshotError(f"{fx_path}: not valid JSON ({problem})") from None
    except feeds.RecordError as problem:
        raise SnapshotError(str(problem)) from None


def _sniff(path: Path) -> None:
    """A file is JSON Lines if its first non-blank lines hold JSON objects; one bad line among
    good ones is a reject, but a file with none at all is the wrong file."""
    seen = 0
    with path.open("rb") as handle:
        for raw in handle:
            if not raw.strip():
                continue
            seen += 1
            try:
                if isinstance(json.loads(raw), dict):
                    return
            except (UnicodeDecodeError, json.JSONDecodeError):
                pass
            if seen >= SNIFF_LINES:
                break
    if seen:
        raise SnapshotError(f"{path}: not JSON Lines (no JSON object in its first {seen} non-blank lines)")


def snapshot_fingerprint(root: Path) -> str:
    digest = hashlib.sha256()
    for name in (*REQUIRED, "fx.json"):
        path = root / name
        if path.exists():
            stat = path.stat()
            digest.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()


class Ingest:
    def __init__(self, app: Assay, root: Path, *, actor: str = "ingest", batch_size: int = BATCH,
                 scan: bool = True, progress: Callable[[int], None] | None = None,
                 workers: int | None = None) -> None:
        self.app, self.root, self.actor, self.batch_size = app, root.resolve(), actor, batch_size
        self.scan = scan  # judge every new or changed listing as it arrives
        self.progress = progress or (lambda _n: None)
        self.fx = check_snapshot(self.root)
        self.hashed: dict[str, str | None] = {}  # image path -> sha256, once per file per run
        self.viewed: set[str] = set()  # image paths whose views (official photos) are stored
        self.workers = workers or os.cpu_count() or 1  # processes that fingerprint photos
        self.pool: Any = None
        self.marketplace_ids: dict[str, int] = {}
        self.first_load: dict[int, bool] = {}
        self.taken_down = TakenDown()
        self.seller_cache: dict[tuple[int, str], tuple[int, bool]] = {}
        self.changes: list[dict[str, Any]] = []  # the feed changes of the batch in hand

    @property
    def total_bytes(self) -> int:
        return sum((self.root / name).stat().st_size for name in REQUIRED)

    # -- the run and its checkpoint ------------------------------------------------------
    def _open_run(self, connection: Connection, now: datetime) -> tuple[dict[str, Any], bool]:
        fingerprint_ = snapshot_fingerprint(self.root)
        row = connection.execute(
            select(ingest_runs).where(ingest_runs.c.fingerprint == fingerprint_, ingest_runs.c.finished_at.is_(None))
            .order_by(ingest_runs.c.id.desc()).limit(1)
        ).mappings().first()
        if row is not None:
            return dict(row), True
        values = dict(snapshot=str(self.root), fingerprint=fingerprint_, started_at=now, phase=PHASES[0],
                      offset=0, line=0, counts={})
        run_id = connection.execute(insert(ingest_runs).values(**values)).inserted_primary_key[0]
        return {**values, "id": run_id}, False

    def run(self) -> IngestSummary:
        with _collector_for_a_load():
            return self._run()

    def _run(self) -> IngestSummary:
        engine = self.app.engine
        with engine.begin() as connection:
            run, resumed = self._open_run(connection, self.app.clock.now())
            if self.fx is not None:  # detection on the store converts prices with the latest rates
                connection.execute(delete(settings).where(settings.c.key == "fx"))
                connection.execute(insert(settings).values(key="fx", value=json.dumps(self.fx, sort_keys=True)))
        summary = IngestSummary(run["id"], resumed)
        counts = {name: Counts(**run["counts"].get(name, {})) for name in PHASES[:3]}
        summary.counts = counts
        phase_index = PHASES.index(run["phase"])
        for name in PHASES[:3]:
            index = PHASES.index(name)
            size = (self.root / f"{name}.jsonl").stat().st_size
            if index < phase_index:
                self.progress(size)
                continue
            start_offset, start_line = (run["offset"], run["line"]) if index == phase_index else (0, 0)
            self.progress(start_offset)
            if name == "listings":
                summary.banned = self._ban_linked()
                self.taken_down = taken_down_fingerprints(self.app)
            try:
                with closing(self._reader(name, start_offset, start_line)) as reader:
                    self._load(name, run["id"], reader, start_offset, counts)
            finally:
                self._close_pool()
        with engine.begin() as connection:
            connection.execute(update(ingest_runs).where(ingest_runs.c.id == run["id"]).values(
                phase="done", finished_at=self.app.clock.now()))
        if self.scan:
            from assay.services.store_scan import scan_store  # detection loads only for a load that scans

            found = scan_store(lambda: self.app.uow(self.actor), only_pending=True)
            summary.suggested, summary.filed = found.suggested, found.filed
        else:
            summary.filed = act_for_opted_in_brands(lambda: self.app.uow(self.actor))
        return summary

    def _reader(self, name: str, offset: int, line: int) -> Iterator[Chunk]:
        """The file's batches from a checkpoint on. With more than one worker, a second process
        reads and validates the next batch while this one writes the last; it also derives the
        sellers' identity keys, the costliest part of a seller."""
        derive = (lambda record: identity_keys(record.identity)) if name == "sellers" else None
        return chunks(self.root / f"{name}.jsonl", name, self.fx, offset, line, self.batch_size,
                      ahead=self.workers > 1, derive=derive)

    def _load(self, name: str, run_id: int, reader: Iterator[Chunk], offset: int, counts: dict[str, Counts]) -> None:
        last_offset = offset
        with bulk_load(self.app.engine) as connection:
            for chunk in reader:
                next_phase = PHASES[PHASES.index(name) + 1] if chunk.last else None
                self._commit(connection, name, run_id, chunk, counts, next_phase=next_phase)
                self.progress(chunk.end_offset - last_offset)
                last_offset = chunk.end_offset

    def _commit(self, connection: Connection, name: str, run_id: int, chunk: Chunk, counts: dict[str, Counts],
                next_phase: str | None = None) -> None:
        """One batch and its checkpoint, in one transaction."""
        now = self.app.clock.now()
        self.changes = []
        rejects, offset, line = chunk.rejects, chunk.end_offset, chunk.end_line
        with connection.begin():
            batch_counts = Counts()
            if chunk.accepted:
                rejects = rejects + getattr(self, f"_upsert_{name}")(connection, run_id, chunk, batch_counts, now)
            insert_rows(connection, feed_changes, self.changes)
            batch_counts.rejected = len(rejects)
            insert_rows(connection, ingest_rejects, [
                {"run_id": run_id, "file": f"{name}.jsonl", "line": n, "reason": reason} for n, reason in rejects])
            counts[name].add(batch_counts)
            checkpoint = {"counts": {k: vars(v) for k, v in counts.items()}}
            if next_phase:
                checkpoint.update(phase=next_phase, offset=0, line=0)
            else:
                checkpoint.update(phase=name, offset=offset, line=line)
            connection.execute(update(ingest_runs).where(ingest_runs.c.id == run_id).values(**checkpoint))
            if batch_counts.created or batch_counts.updated or batch_counts.rejected:
                append_event(connection, at=now, actor=self.actor, action=f"ingest.{name}", entity_type="ingest_run",
                             entity_id=run_id, before=None, after=vars(batch_counts),
                             reason=f"{name}.jsonl up to byte {offset}", request_id=None)

    # -- marketplaces ------------------------------------------------------------------------
    def _marketplace(self, connection: Connection, code: str) -> int:
        if code not in self.marketplace_ids:
            found = connection.execute(select(marketplaces.c.id).where(marketplaces.c.code == code)).scalar()
            if found is None:
                found = connection.execute(insert(marketplaces).values(code=code, name=code)).inserted_primary_key[0]
            self.marketplace_ids[code] = found
        return self.marketplace_ids[code]

    def _markets(self, connection: Connection, codes: set[str]) -> dict[str, int]:
        """The ids of these marketplaces, by code (added if new)."""
        for code in codes - self.marketplace_ids.keys():
            self._marketplace(connection, code)
        return self.marketplace_ids

    # -- images -----------------------------------------------------------------------------------
    def _store_images(self, connection: Connection, paths: Iterable[str], *, official: bool = False) -> None:
        """Store what detection needs of the image files at these paths, once per distinct content,
        in the batch's transaction: PDQ of the photo as it is and its query form (what the bank is
        searched with), and for official catalog photos their views (what the bank holds). A
        content the store holds already is only read for its SHA-256, not decoded again; one
        stored before query forms or views were kept gets what it lacks now, while its file is at
        hand (the store does not keep the files). Each path is read once a run (an official photo
        once more if a listing named it first); `_image_hashes` then answers from memory."""
        todo = [path for path in dict.fromkeys(paths)
                if path not in self.hashed or (official and path not in self.viewed)]
        if not todo:
            return
        from assay.services.images import content_hash, layout_bytes  # numpy and PIL load only for photos

        files: dict[str, Path] = {}  # content -> one of its files
        for path in todo:
            file = self.root / path
            self.hashed[path] = sha = content_hash(file.read_bytes()) if file.is_file() else None
            if sha is not None:
                files.setdefault(sha, file)
        if official:
            self.viewed.update(todo)
        if not files:
            return
        stored = {sha: (query is not None, views is not None) for batch in batches(list(files))
                  for sha, query, views in connection.execute(select(images.c.sha256, images.c.query_pdq, images.c.views)
                                                              .where(images.c.sha256.in_(batch)))}
        work = []  # (content, whether its query form is missing, whether its views are)
        for sha in files:
            has_query, has_views = stored.get(sha, (False, False))
            if not has_query or (official and not has_views):
                work.append((sha, not has_query, official and not has_views))
        new_rows, view_rows = [], []
        for (sha, need_query, need_views), fp in zip(work, self._fingerprints(
                [(files[sha], need_views) for sha, _, need_views in work]), strict=True):
            values: dict[str, Any] = {}
            if need_query:
                query = fp.query
                values.update(query_pdq="".join(query.hashes) if query else "",
                              layout=layout_bytes(query.layout) if query and query.layout is not None else None)
            if need_views:
                values["views"] = len(fp.views or ())
                view_rows += [dict(sha256=sha, position=n, view=view, pdq=pdq, layout=layout_bytes(layout))
                              for n, (pdq, view, layout) in enumerate(fp.views or ())]
            if sha in stored:
                connection.execute(update(images).where(images.c.sha256 == sha).values(**values))
            else:
                new_rows.append(dict(sha256=sha, pdq=fp.pdq, pdq_quality=fp.quality, width=fp.width, height=fp.height,
                                     query_pdq=values["query_pdq"], layout=values["layout"],
                                     views=values.get("views")))
        insert_rows(connection, images, new_rows)
        insert_rows(connection, image_views, view_rows)

    def _fingerprints(self, files: list[tuple[Path, bool]]) -> list[ImageFingerprint]:
        """`fingerprint` of each (file, with views), on `workers` processes when there are enough
        files to pay for them (decoding and hashing a photo takes a few milliseconds of a core)."""
        if self.workers <= 1 or len(files) < POOL_MIN_FILES:
            return [_fingerprint(item) for item in files]
        if self.pool is None:  # forked once a run, when first needed; the run closes it
            self.pool = multiprocessing.get_context("fork").Pool(self.workers)
        return self.pool.map(_fingerprint, files, chunksize=16)

    def _image_hashes(self, paths: tuple[str, ...]) -> list[str]:
        """The SHA-256 of each file `_store_images` has seen, "" for a missing one."""
        return [self.hashed.get(path) or "" for path in paths]

    def _close_pool(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool.join()
            self.pool = None

    # -- brands -----------------------------------------------------------------------------------
    def _upsert_brands(self, connection: Connection, run_id: int, chunk: Chunk, counts: Counts,
                       now: datetime) -> list[tuple[int, str]]:
        """The batch's brands in a few queries: their owners, the brands stored, then the new rows
        together (a first load of a million listings brings two thousand brands)."""
        batch: list[tuple[int, feeds.BrandRecord]] = chunk.accepted
        self._store_images(connection, (path for _, record in batch for product in record.products
                                        for path in product.images), official=True)
        holders = self._holders(connection, [record.owner for _, record in batch], now)
        existing = {row["brand_ref"]: row for row in connection.execute(
            select(brands).where(brands.c.brand_ref.in_([record.brand_id for _, record in batch]))).mappings()}
        new_brands, catalogs = [], []  # catalogs: (brand ref, its products), in the order of the file
        for _, record in batch:
            values = dict(holder_id=holders[record.owner], name=record.name, marks=list(record.marks),
                          categories=list(record.categories), authorized_sellers=sorted(set(record.authorized_sellers)))
            catalog = [dict(sku=p.sku, title=p.title, category=p.category, msrp=p.msrp, currency=p.currency,
                            images=list(p.images), image_hashes=self._image_hashes(p.images))
                       for p in record.products]
            old = existing.get(record.brand_id)
            if old is None:
                new_brands.append(dict(brand_ref=record.brand_id, proactive_removal=False, **values))
                catalogs.append((record.brand_id, catalog))
                counts.created += 1
                continue
            old_catalog = [dict(sku=r.sku, title=r.title, category=r.category, msrp=r.msrp, currency=r.currency,
                                images=r.images, image_hashes=r.image_hashes) for r in connection.execute(
                select(products).where(products.c.brand_id == old["id"]).order_by(products.c.id))]
            changes = _diff({k: old[k] for k in values}, values)
            if old_catalog != catalog:
                changes["products"] = [len(old_catalog), len(catalog)]
            if not changes:
                counts.unchanged += 1
                continue
            connection.execute(update(brands).where(brands.c.id == old["id"]).values(**values))
            connection.execute(products.delete().where(products.c.brand_id == old["id"]))
            catalogs.append((record.brand_id, catalog))
            self._change(run_id, "brand", record.brand_id, now, changes)
            counts.updated += 1
        insert_rows(connection, brands, new_brands)
        ids = {ref: row["id"] for ref, row in existing.items()} | dict(connection.execute(
            select(brands.c.brand_ref, brands.c.id).where(brands.c.brand_ref.in_([b["brand_ref"] for b in new_brands]))
        ).all() if new_brands else {})
        insert_rows(connection, products, [{"brand_id": ids[ref], **product} for ref, catalog in catalogs
                                           for product in catalog])
        return []

    def _holders(self, connection: Connection, names: list[str], now: datetime) -> dict[str, int]:
        """The ids of these rights holders by name; those not yet known are added, in order."""
        wanted = list(dict.fromkeys(names))
        found = dict(connection.execute(
            select(rights_holders.c.name, rights_holders.c.id).where(rights_holders.c.name.in_(wanted))).all())
        missing = [name for name in wanted if name not in found]
        if missing:
            insert_rows(connection, rights_holders, [
                dict(name=name, contact_email="", created_at=now) for name in missing])
            found.update(connection.execute(
                select(rights_holders.c.name, rights_holders.c.id).where(rights_holders.c.name.in_(missing))).all())
        return found

    # -- sellers ----------------------------------------------------------------------------------
    def _upsert_sellers(self, connection: Connection, run_id: int, chunk: Chunk, counts: Counts,
                        now: datetime) -> list[tuple[int, str]]:
        """The batch's sellers, with the identity keys the reader derived (`_load`)."""
        by_key: dict[tuple[int, str], feeds.SellerRecord] = {}
        keys_of: dict[tuple[int, str], frozenset[IdentityKey]] = {}
        for (_, record), keys in zip(chunk.accepted, chunk.derived, strict=True):
            key = (self._marketplace(connection, record.marketplace), record.seller_id)
            by_key[key], keys_of[key] = record, keys
        existing = _existing(connection, sellers, sellers.c.seller_ref, by_key,
                             ("store_name", "status", "banned_at", *feeds.IDENTITY_FIELDS))
        new_rows, changed_rows, key_rows, touched = [], [], [], []
        for (market_id, ref), record in by_key.items():
            identity = {name: getattr(record.identity, name) for name in feeds.IDENTITY_FIELDS}
            values = dict(store_name=record.store_name, **identity)
            old = existing.get((market_id, ref))
            if old is None:
                status = SellerStatus.CLOSED if record.banned else SellerStatus.ACTIVE
                new_rows.append(dict(marketplace_id=market_id, seller_ref=ref, registered_at=record.registered_at,
                                     status=status, banned_at=now if record.banned else None,
                                     ban_reason=_MARKETPLACE_BAN.format(record.marketplace) if record.banned else None,
                                     sanction_level=3 if record.banned else 0, **values))
                counts.created += 1
                continue
            changes = _diff({k: old[k] for k in values}, values)
            if record.banned and old["banned_at"] is None:
                changes["status"] = [old["status"].value, "closed"]
            if not changes:
                counts.unchanged += 1
                continue
            row = dict(_id=old["id"], **values)
            if "status" in changes:
                row.update(status=SellerStatus.CLOSED, banned_at=now, sanction_level=3,
                           ban_reason=_MARKETPLACE_BAN.format(record.marketplace))
            changed_rows.append(row)
            touched.append(old["id"])
            self._change(run_id, "seller", f"{record.marketplace}:{ref}", now, changes)
            counts.updated += 1
        insert_rows(connection, sellers, new_rows)
        for row in changed_rows:
            row_id = row.pop("_id")
            connection.execute(update(sellers).where(sellers.c.id == row_id).values(**row))
        # Identity keys for every new or changed seller, for linking by normalised identity.
        if touched:
            connection.execute(seller_identity_keys.delete().where(seller_identity_keys.c.seller_id.in_(touched)))
        ids = _existing(connection, sellers, sellers.c.seller_ref, by_key, ())
        for key in by_key:
            seller_id = ids[key]["id"]
            if seller_id in touched or key not in existing:
                key_rows += [{"seller_id": seller_id, "kind": k.kind.value, "value": k.value}
                             for k in keys_of[key]]
        insert_rows(connection, seller_identity_keys, key_rows)
        return []

    def _ban_linked(self) -> int:
        """Once every seller is in, extend each ban to the accounts linked to it. Idempotent,
        so a resumed run simply does it again before loading listings."""
        with self.app.uow(self.actor) as uow:
            banned = 0
            linked = set(uow.session.scalars(_BANNED_WITH_UNBANNED_LINKS))
            for seller in uow.repo.session.scalars(select(Seller).where(Seller.banned_at.is_not(None))).all():
                if seller.id in linked:  # the others have nothing left to extend their ban to
                    banned += len(close_and_ban_linked(uow, seller))
            uow.commit()
        return banned

    # -- listings ---------------------------------------------------------------------------------
    def _first_listings(self, connection: Connection, market_id: int) -> bool:
        """Whether the marketplace had no listings when this run first met it. Then none of its
        listings can exist yet (ids are unique within the file), and no lookup is needed: the
        common case of a first load. A resumed run finds rows and takes the general path."""
        if market_id not in self.first_load:
            self.first_load[market_id] = connection.execute(
                select(listings.c.id).where(listings.c.marketplace_id == market_id).limit(1)).first() is None
        return self.first_load[market_id]

    def _sellers(self, connection: Connection, keys: set[tuple[int, str]]) -> dict[tuple[int, str], tuple[int, bool]]:
        """(id, banned) of the sellers of a batch of listings, by (marketplace id, seller ref). Sellers
        do not change while listings load, so answers are kept from batch to batch (up to
        SELLER_CACHE of them, so that memory stays bounded whatever the number of sellers)."""
        missing = {key for key in keys if key not in self.seller_cache}  # not `keys - cache.keys()`: that walks the cache
        if missing:
            if len(self.seller_cache) + len(missing) > SELLER_CACHE:
                self.seller_cache.clear()
            for key, row in _existing(connection, sellers, sellers.c.seller_ref, missing, ("banned_at",)).items():
                self.seller_cache[key] = (row["id"], row["banned_at"] is not None)
        return self.seller_cache

    def _upsert_listings(self, connection: Connection, run_id: int, chunk: Chunk, counts: Counts,
                         now: datetime) -> list[tuple[int, str]]:
        batch: list[tuple[int, feeds.ListingRecord]] = chunk.accepted
        market = self._markets(connection, {r.marketplace for _, r in batch})
        by_key = {(market[r.marketplace], r.listing_id): (n, r) for n, r in batch}
        seller_rows = self._sellers(connection, {(market[r.marketplace], r.seller_id) for _, r in batch})
        first = {market_id: self._first_listings(connection, market_id) for market_id in {m for m, _ in by_key}}
        stored = [key for key in by_key if not first[key[0]]]
        existing = _existing(connection, listings, listings.c.listing_ref, stored, LISTING_FIELDS)
        new_rows, changed, rejects, accepted = [], [], [], []
        for (market_id, ref), (line, record) in by_key.items():
            seller = seller_rows.get((market_id, record.seller_id))
            if seller is None:
                rejects.append((line, f"seller_id: {record.seller_id!r} is not a seller on {record.marketplace}"))
                continue
            if record.images:
                missing = [p for p in record.images if not (self.root / p).is_file()]
                if missing:
                    rejects.append((line, f"images: {missing[0]!r} is not a file in the snapshot"))
                    continue
            accepted.append((market_id, ref, record, seller))
        self._store_images(connection, (path for *_, record, _ in accepted for path in record.images))
        new_rows, changed = [], []
        for market_id, ref, record, seller in accepted:
            hashes = self._image_hashes(record.images) if record.images else []
            old = existing.get((market_id, ref))
            if old is None:
                new_rows.append(NewListing(
                    market_id, ref, seller[0], record.title, record.description, record.category, record.price,
                    record.currency, list(record.images), hashes, record.created_at,
                    ListingStatus.REMOVED if seller[1] else ListingStatus.ACTIVE, True))
                continue
            values = dict(seller_id=seller[0], title=record.title, description=record.description,
                          category=record.category, price=record.price, currency=record.currency,
                          images=list(record.images), image_hashes=hashes)
            changes = _diff({k: old[k] for k in LISTING_FIELDS}, values)
            if not changes:
                counts.unchanged += 1
                continue
            changed.append((market_id, ref, {**values, "needs_scan": True, "listing_id": old["id"]}))
            self._change(run_id, "listing", f"{record.marketplace}:{ref}", now, changes)
            counts.updated += 1
        counts.created += len(new_rows)
        insert_rows(connection, listings, new_rows)
        if changed:
            connection.execute(update(listings).where(listings.c.id == bindparam("listing_id")),
                               [values for _, _, values in changed])
        if self.taken_down:  # something was taken down for good (never so on a first load)
            self._stay_down(connection, now, [(r.marketplace_id, r.listing_ref, r.title, r.image_hashes) for r in new_rows]
                            + [(m, ref, v["title"], v["image_hashes"]) for m, ref, v in changed])
        return rejects

    def _stay_down(self, connection: Connection, now: datetime, arrived: list[tuple[int, str, str, list[str]]]) -> None:
        """A new or changed listing (marketplace id, ref, title, photo hashes) that repeats one taken
        down for good (its title, or one of its photos) is caught as it arrives, as a suggestion for
        the brand (filed at once for brands that opted in to proactive removal, when the run ends)."""
        for market_id, ref, title, image_hashes in arrived:
            caught = self.taken_down.match(title, image_hashes)
            if caught is None:
                continue
            brand_id, detail = caught
            listing_id = connection.execute(select(listings.c.id).where(
                listings.c.marketplace_id == market_id, listings.c.listing_ref == ref)).scalar_one()
            if connection.execute(select(suggestions.c.id).where(
                    suggestions.c.listing_id == listing_id, suggestions.c.brand_id == brand_id)).first():
                continue
            connection.execute(insert(suggestions).values(
                listing_id=listing_id, brand_id=brand_id, verdict="infringing", score=0.99, source="stay_down",
                status="open", created_at=now,
                signals=[{"kind": "taken_down_copy", "detail": detail, "weight": 9.0}]))

    def _change(self, run_id: int, kind: str, ref: str, now: datetime, changes: dict[str, Any]) -> None:
        """Record what changed; the batch's changes are written together when it commits."""
        self.changes.append(dict(run_id=run_id, kind=kind, ref=ref, at=now, changes=jsonable(changes)))


def _banned_with_unbanned_links() -> Any:
    """The banned sellers that share an identity key with a seller not banned: one query, where
    asking each banned seller in turn took a few for each (a marketplace bans hundreds)."""
    own, other = seller_identity_keys.alias(), seller_identity_keys.alias()
    banned, free = sellers.alias(), sellers.alias()
    return (select(banned.c.id).distinct()
            .join(own, own.c.seller_id == banned.c.id)
            .join(other, (other.c.kind == own.c.kind) & (other.c.value == own.c.value)
                  & (other.c.seller_id != own.c.seller_id))
            .join(free, (free.c.id == other.c.seller_id) & free.c.banned_at.is_(None))
            .where(banned.c.banned_at.is_not(None)))


_BANNED_WITH_UNBANNED_LINKS = _banned_with_unbanned_links()


class NewListing(NamedTuple):
    """A listing's row as a first load inserts it: its fields are the columns."""

    marketplace_id: int
    listing_ref: str
    seller_id: int
    title: str
    description: str
    category: str
    price: Decimal
    currency: str
    images: list[str]
    image_hashes: list[str]
    created_at: datetime
    status: ListingStatus
    needs_scan: bool


LISTING_FIELDS = ("seller_id", "title", "description", "category", "price", "currency", "images", "image_hashes")
_MARKETPLACE_BAN = "storefront closed for infringement by {} before it reached Assay"


def _fingerprint(item: tuple[Path, bool]) -> ImageFingerprint:
    """`fingerprint` of (file, with views): what the pool's workers run."""
    from assay.services.images import fingerprint

    file, views = item
    return fingerprint(file, views=views)


@contextmanager
def _collector_for_a_load() -> Iterator[None]:
    """The garbage collector, tuned for a load (and the child reading ahead, forked inside it).
    The objects that exist before the load (modules, SQLAlchemy's mappers and caches: over a
    hundred thousand) are left out of its reach: each collection of the oldest generation
    would walk them all again, which cost a sixth of a load's time. And it collects the
    youngest every 50,000 allocations rather than 700: a batch of records passing through
    pickle makes a few hundred thousand objects, none in a cycle, and at a million listings
    the collections they set off took a sixth of the time again. Cycles are still found."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(LOAD_GC_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [old[k], new[k]] for k in new if old[k] != new[k]}


def _existing(connection: Connection, table: Any, ref_column: Any, keys: Any,
              columns: tuple[str, ...]) -> dict[tuple[int, str], Any]:
    """The rows already stored for these (marketplace id, ref) keys: only the columns asked for."""
    by_market: dict[int, list[str]] = {}
    for market_id, ref in keys:
        by_market.setdefault(market_id, []).append(ref)
    wanted = [table.c[name] for name in ("id", ref_column.name, *columns)]
    found = {}
    for market_id, refs in by_market.items():
        rows = connection.execute(select(*wanted).where(table.c.marketplace_id == market_id, ref_column.in_(refs)))
        for row in rows.mappings():
            found[(market_id, row[ref_column.name])] = row
    return found


def write_rejects(app: Assay, run_id: int, target: Path) -> int:
    """The run's rejected records as JSON Lines (file, line, reason), in file order, streamed."""
    written = 0
    with app.engine.connect() as connection, target.open("w", encoding="utf-8") as out:
        for name in REQUIRED:
            rows = connection.execute(
                select(ingest_rejects.c.line, ingest_rejects.c.reason)
                .where(ingest_rejects.c.run_id == run_id, ingest_rejects.c.file == name)
                .order_by(ingest_rejects.c.line).execution_options(yield_per=5000))
            for line, reason in rows:
                out.write(reject_line(name, line, reason))
                written += 1
    if not written:
        target.unlink()
    return written


class TakenDown:
    """Fingerprints of the listings taken down for good: normalised titles and photo hashes."""

    def __init__(self, titles: dict[str, tuple[int, str]] | None = None,
                 photos: dict[str, tuple[int, str]] | None = None,
                 normalise: Callable[[str], str] | None = None) -> None:
        self.titles, self.photos = titles or {}, photos or {}
        self.normalise = normalise  # detection's, which titles were normalised with (given with them)

    def __bool__(self) -> bool:
        return bool(self.titles or self.photos)

    def match(self, title: str, image_hashes: list[str]) -> tuple[int, str] | None:
        """(brand id, why) if the listing repeats a taken-down one."""
        for sha in image_hashes:
            if sha in self.photos:
                brand_id, ref = self.photos[sha]
                return brand_id, f"a photo is the very file of listing {ref}, taken down"
        found = self.titles.get(self.normalise(title)) if self.titles and self.normalise else None
        if found:
            return found[0], f"the title repeats that of listing {found[1]}, taken down"
        return None


def taken_down_fingerprints(app: Assay) -> TakenDown:
    with app.uow() as uow:
        rows = uow.repo.taken_down()
    if not rows:  # a first load: nothing to compare, and no need to load detection
        return TakenDown()
    from assay.detection.normalise import normalise

    found = TakenDown(normalise=normalise)
    for listing, brand in rows:
        found.titles.setdefault(normalise(listing.title), (brand.id, listing.listing_ref))
        for sha in listing.image_hashes:
            found.photos.setdefault(sha, (brand.id, listing.listing_ref))
    return found
