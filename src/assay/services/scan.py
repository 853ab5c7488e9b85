"""`assay scan`: judge every listing of a snapshot and write the flags (FORMATS.md).

The snapshot's brands and sellers are read first (bad records to the rejects, as
everywhere), the official catalog photos are fingerprinted into a hash bank, then
`listings.jsonl` goes to the detector in blocks of raw lines, which the workers parse,
validate and judge: in this process, in worker processes (`--workers`, both cores by
default), or on Ray Data (`--engine ray`). Every engine runs the same `Judge` on the same
blocks, and the driver writes flags in listing order, so their outputs are identical.

One signal is about a seller rather than a listing: a new account listing many branded
items cheaply (`detection.activity`). As the listings stream past, the driver counts
what the sellers that may be new list; when the file ends, the listings of the sellers
it fires for are judged again with it, and their flags take the place of the first ones.
That second look costs a fraction of the few listings new accounts hold, where a first
pass over the whole file before judging would cost every listing a second parse."""

from __future__ import annotations

import heapq
import json
import multiprocessing
import os
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from assay.detection.activity import SellerActivity, SellerKey
from assay.detection.images import Photo, PhotoBank
from assay.detection.pipeline import Detector, Flag
from assay.detection.profiles import SellerBook, brand_profile
from assay.detection.score import INFRINGING, SUSPECT
from assay.domain.errors import DomainError
from assay.domain.feeds import ListingRecord
from assay.services.feed_reader import UniqueIds, block_lines, chunks, line_blocks, parse_line, reject_line, validate
from assay.services.images import photo_views, query_photo
from assay.services.ingest import check_snapshot
from assay.services.workers import in_order

CHUNK = 1000


@dataclass
class ScanSummary:
    listings: int = 0
    infringing: int = 0
    suspect: int = 0
    rejected: int = 0

    def count(self, flag: Flag) -> None:
        self.count_verdict(flag.verdict)

    def count_verdict(self, verdict: str) -> None:
        self.infringing += verdict == INFRINGING
        self.suspect += verdict == SUSPECT

    def uncount(self, verdict: str) -> None:
        self.infringing -= verdict == INFRINGING
        self.suspect -= verdict == SUSPECT

    def line(self) -> str:
        return (f"scan: {self.listings:,} listings judged, {self.infringing:,} infringing, {self.suspect:,} suspect, "
                f"{self.rejected:,} records rejected")


class Rejects:
    """The rejects file: one JSON object per bad record (file, line, reason)."""

    def __init__(self, out: TextIO | None) -> None:
        self.out, self.count = out, 0

    def add(self, file: str, rejects: Sequence[tuple[int, str]]) -> None:
        for line, reason in rejects:
            self.count += 1
            if self.out is not None:
                self.out.write(reject_line(file, line, reason))


def build_detector(root: Path, rejects: Rejects, *, beside: bool = False) -> Detector:
    """The detector for a snapshot: its brands, sellers, fx and official photos. `beside`: read
    the sellers and link them to banned accounts in a second process while this one reads the
    brands and indexes their marks and photos (the two take about as long)."""
    fx = check_snapshot(root)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) if beside else nullcontext() as pool:
        sellers = pool.submit(_seller_book, root, fx) if pool else None
        brand_rejects: list[tuple[int, str]] = []
        brand_records = list(_records(root, "brands", fx, brand_rejects))
        bank = PhotoBank()
        bank.add(_official_views(root, brand_records))
        brands = [brand_profile(b, fx) for b in brand_records]
        marks = Detector.index_marks(brands)
        book, seller_rejects = sellers.result() if sellers else _seller_book(root, fx)
    rejects.add("brands.jsonl", brand_rejects)
    rejects.add("sellers.jsonl", seller_rejects)
    return Detector(brands, book, fx, bank, marks=marks)


def _seller_book(root: Path, fx: dict[str, float] | None) -> tuple[SellerBook, list[tuple[int, str]]]:
    seller_rejects: list[tuple[int, str]] = []
    return SellerBook.build(_records(root, "sellers", fx, seller_rejects)), seller_rejects


def _records(root: Path, kind: str, fx: dict[str, float] | None, rejects: list[tuple[int, str]]) -> Iterator[Any]:
    for chunk in chunks(root / f"{kind}.jsonl", kind, fx, 0, 0, CHUNK):
        rejects.extend(chunk.rejects)
        yield from (record for _, record in chunk.accepted)


def _official_views(root: Path, brands: Sequence[Any]) -> Iterator[tuple[str, str, str, Any]]:
    """The views of each catalog photo (upright: a listing's copy is queried in every orientation)."""
    for brand in brands:
        for product in brand.products:
            for path in product.images:
                if (root / path).is_file():
                    for pdq, view, layout in photo_views(root / path):
                        yield pdq, f"official:{brand.brand_id}:{product.sku}", view, layout


# -- judging blocks of lines: the unit of work every engine shares ------------------------------

BLOCK = 256 * 1024  # bytes of listings.jsonl judged as one unit of work: some 800 listings
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def image_hashes(root: Path, paths: Sequence[str]) -> tuple[Photo, ...]:
    """For each of a listing's photos that exists and hashes with trust, what the bank is searched with."""
    photos = (query_photo(root / p) for p in paths if (root / p).is_file())
    return tuple(photo for photo in photos if photo is not None)


def judge_chunk(detector: Detector, root: Path, accepted: Sequence[tuple[int, ListingRecord]]) -> list[Flag | None]:
    """The flags of one chunk of valid listings, in order."""
    return detector.judge_batch([(record, image_hashes(root, record.images)) for _, record in accepted])


@dataclass
class Judged:
    """What judging a block of lines sends back: little, so that the driver, which keeps only
    what concerns the whole file (duplicate ids, the sellers' activity, the order), is never
    the bottleneck. "Valid" listings are those whose records pass the format, in line order."""

    rejects: list[tuple[int, str]]  # (line, reason) of the lines that are no valid listing
    lines: array  # of each valid listing
    ids: list[tuple[str, str]]  # its natural key: (marketplace, listing id)
    created: array  # its created_at, in microseconds since 1970
    offers: dict[int, tuple[SellerKey, bool, float | None]]  # valid listing's index -> seller and
    # `Detector.protected_offer`, for the listings of sellers whose accounts may be new
    flags: list[tuple[int, str, str]]  # (valid listing's index, verdict, line of the flags file)
    size: int  # bytes of the block


class Judge:
    """The detector with what it needs to judge raw lines of `listings.jsonl`: built once,
    then inherited by worker processes or shipped to Ray workers."""

    def __init__(self, detector: Detector, root: Path) -> None:
        self.detector, self.root = detector, root
        self.young = frozenset(SellerActivity(detector).young)  # sellers that may be new

    def block(self, first: int, data: bytes) -> Judged:
        """Parse, validate and judge the lines of a block (`line_blocks`): `first` lines precede it."""
        fx = self.detector.fx
        rejects: list[tuple[int, str]] = []
        accepted: list[tuple[int, ListingRecord]] = []
        for number, raw, terminated in block_lines(first, data):
            value, error = parse_line(raw, terminated=terminated)
            record, error = (None, error) if error else validate("listings", value, fx)
            if record is None:
                rejects.append((number, error or "invalid"))
            else:
                accepted.append((number, record))
        offers = {i: ((r.marketplace, r.seller_id), *self.detector.protected_offer(r))
                  for i, (_, r) in enumerate(accepted) if (r.marketplace, r.seller_id) in self.young}
        flags = [(i, flag.verdict, _flag_line(flag))
                 for i, flag in enumerate(judge_chunk(self.detector, self.root, accepted)) if flag is not None]
        return Judged(rejects, array("q", (line for line, _ in accepted)),
                      [(r.marketplace, r.listing_id) for _, r in accepted],
                      array("q", ((r.created_at - _EPOCH) // _MICROSECOND for _, r in accepted)),
                      offers, flags, len(data))

    def records(self, accepted: Sequence[tuple[int, ListingRecord]]) -> list[Flag | None]:
        return judge_chunk(self.detector, self.root, accepted)


_JUDGE: Judge | None = None


def _in_worker(method: str, *args: Any) -> Any:
    assert _JUDGE is not None
    return getattr(_JUDGE, method)(*args)


def _local(judge: Judge, method: str, tasks: Iterator[tuple], workers: int) -> Iterator[Any]:
    """`getattr(judge, method)(*task)` for each task, in order: in this process, or in `workers`
    forked processes, which inherit the judge, built once."""
    global _JUDGE
    _JUDGE = judge
    return in_order(partial(_in_worker, method), tasks, workers if workers > 1 else 0)


def scan(root: Path, out: Path, *, rejects_path: Path | None = None, engine: str = "local",
         workers: int | None = None, progress: Callable[[int], None] | None = None) -> ScanSummary:
    root = root.resolve()
    summary = ScanSummary()
    rejects_file = rejects_path.open("w", encoding="utf-8") if rejects_path else None
    try:
        rejects = Rejects(rejects_file)
        workers = workers or os.cpu_count() or 1
        detector = build_detector(root, rejects, beside=workers > 1)
        judge = Judge(detector, root)
        blocks = line_blocks(root / "listings.jsonl", BLOCK)
        if engine == "ray":
            from assay.services.scan_ray import judged_on_ray

            judged = judged_on_ray(judge, ((first, offset, len(data)) for first, offset, data in blocks), workers)
        else:
            judged = _local(judge, "block", ((first, data) for first, _, data in blocks), workers)
        activity = SellerActivity(detector)
        new_sellers_lines, flag_lines = _write_flags(judged, out, activity, rejects, summary, progress)
        signals = activity.signals()
        if signals:
            lines = sorted(line for seller in signals for line in new_sellers_lines[seller])
            _second_look(Judge(detector.knowing(signals), root), lines, out, flag_lines, summary, workers)
        summary.rejected = rejects.count
    finally:
        if rejects_file:
            rejects_file.close()
    return summary


def _write_flags(judged: Iterator[Judged], out: Path, activity: SellerActivity, rejects: Rejects,
                 summary: ScanSummary, progress: Callable[[int], None] | None) -> tuple[dict[SellerKey, list[int]], array]:
    """Write the flags in listing order, dropping listings whose id an earlier line had, and
    count what the sellers that may be new list as the listings pass. Returns the lines of
    those sellers' listings, and the line of each flag."""
    new_sellers_lines: dict[SellerKey, list[int]] = defaultdict(list)
    flag_lines = array("q")
    ids = UniqueIds()
    latest = -1 << 63
    with out.open("w", encoding="utf-8") as flags:
        for block in judged:
            duplicates: list[tuple[int, str]] = []
            dropped: set[int] = set()
            for i, (line, natural, created) in enumerate(zip(block.lines, block.ids, block.created, strict=True)):
                duplicate = ids.first(natural)
                if duplicate:
                    duplicates.append((line, duplicate))
                    dropped.add(i)
                    continue
                if created > latest:
                    latest = created
                    activity.see(_EPOCH + created * _MICROSECOND)
                offer = block.offers.get(i)
                if offer is not None:
                    seller, branded, ratio = offer
                    if activity.count(seller, lambda b=branded, r=ratio: (b, r)):
                        new_sellers_lines[seller].append(line)
            summary.listings += len(block.lines) - len(dropped)
            rejects.add("listings.jsonl", sorted(block.rejects + duplicates) if duplicates else block.rejects)
            for i, verdict, text in block.flags:
                if i not in dropped:
                    flags.write(text)
                    flag_lines.append(block.lines[i])
                    summary.count_verdict(verdict)
            if progress:
                progress(block.size)
    return new_sellers_lines, flag_lines


def _flag_line(flag: Flag) -> str:
    return json.dumps(flag.as_json(), ensure_ascii=False) + "\n"


# -- the second look: sellers that only all their listings together show -----------------------

def _second_look(judge: Judge, lines: list[int], out: Path, flag_lines: array,
                 summary: ScanSummary, workers: int) -> None:
    """Judge again, knowing what the first look found about their sellers, the listings at
    `lines`, and put their flags in the flags file in place of the first ones. New accounts
    list few of a snapshot's listings, so the local engine serves whatever engine judged the rest.
    Its worker processes, even for one chunk: this process must not search faiss before it
    forks (faiss's OpenMP threads do not survive a fork), so that the next scan can fork too."""
    records = _listings_at(judge.root / "listings.jsonl", lines, judge.detector.fx)
    tasks = [(records[i:i + CHUNK],) for i in range(0, len(records), CHUNK)]
    fresh = [(line, flag) for (chunk,), results in zip(tasks, _local(judge, "records", iter(tasks), workers), strict=True)
             for (line, _), flag in zip(chunk, results, strict=True) if flag is not None]
    again = set(lines)

    def kept(first: TextIO) -> Iterator[tuple[int, str]]:
        for line, text in zip(flag_lines, first, strict=True):
            if line in again:
                summary.uncount(json.loads(text)["verdict"])
            else:
                yield line, text

    merged = out.with_name(out.name + ".partial")
    with out.open(encoding="utf-8") as first, merged.open("w", encoding="utf-8") as flags:
        for _, text in heapq.merge(kept(first), ((line, _flag_line(flag)) for line, flag in fresh)):
            flags.write(text)
    for _, flag in fresh:
        summary.count(flag)
    os.replace(merged, out)


def _listings_at(path: Path, lines: list[int], fx: dict[str, float] | None) -> list[tuple[int, ListingRecord]]:
    """The listings at these line numbers, read again; only those lines are parsed. The first look
    accepted them, so they validate."""
    wanted, found = set(lines), []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number in wanted:
                record, error = validate("listings", json.loads(raw), fx)
                if record is None:
                    raise DomainError(f"listings.jsonl: line {number} changed during the scan ({error})")
                found.append((number, record))
    return found
