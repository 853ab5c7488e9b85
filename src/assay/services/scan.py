"""`assay scan`: judge every listing of a snapshot and write the flags (FORMATS.md).

The snapshot's brands and sellers are read first (bad records to the rejects, as
everywhere), the official catalog photos are fingerprinted into a hash bank, then the
listings stream through the detector in chunks: in this process, in worker processes
(`--workers`, both cores by default), or on Ray (`--engine ray`). Every engine runs the
same `Detector` on the same chunks and writes flags in listing order, so their outputs
are identical."""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from assay.detection.images import HashBank
from assay.detection.pipeline import Detector, Flag
from assay.detection.profiles import SellerBook, brand_profile
from assay.domain.feeds import ListingRecord
from assay.services.feed_reader import Chunk, chunks, reject_line
from assay.services.images import pdq_variants
from assay.services.ingest import check_snapshot

CHUNK = 1000


@dataclass
class ScanSummary:
    listings: int = 0
    infringing: int = 0
    suspect: int = 0
    rejected: int = 0

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


def build_detector(root: Path, rejects: Rejects) -> Detector:
    """The detector for a snapshot: its brands, sellers, fx and official photos."""
    fx = check_snapshot(root)
    brand_records = list(_records(root, "brands", fx, rejects))
    seller_records = list(_records(root, "sellers", fx, rejects))
    bank = HashBank.build(_official_hashes(root, brand_records))
    return Detector([brand_profile(b, fx) for b in brand_records], SellerBook.build(seller_records), fx, bank)


def _records(root: Path, kind: str, fx: dict[str, float] | None, rejects: Rejects) -> Iterator[Any]:
    for chunk in chunks(root / f"{kind}.jsonl", kind, fx, 0, 0, CHUNK):
        rejects.add(f"{kind}.jsonl", chunk.rejects)
        yield from (record for _, record in chunk.accepted)


def _official_hashes(root: Path, brands: Sequence[Any]) -> Iterator[tuple[str, str]]:
    """The catalog photos, upright: a listing's copy is queried in every orientation instead."""
    for brand in brands:
        for product in brand.products:
            for variants in image_hashes(root, product.images):
                yield variants[0], f"official:{brand.brand_id}:{product.sku}"


# -- judging chunks: the unit of work every engine shares --------------------------------------

_DETECTOR: Detector | None = None
_ROOT: Path | None = None


def image_hashes(root: Path, paths: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """For each of a listing's photos that exists and hashes with trust, its PDQ variants."""
    photos = (pdq_variants(root / p) for p in paths if (root / p).is_file())
    return tuple(variants for variants in photos if variants)


def judge_chunk(detector: Detector, root: Path, accepted: Sequence[tuple[int, ListingRecord]]) -> list[Flag | None]:
    """The flags of one chunk of valid listings, in order."""
    return detector.judge_batch([(record, image_hashes(root, record.images)) for _, record in accepted])


def _judge_in_worker(accepted: Sequence[tuple[int, ListingRecord]]) -> list[Flag | None]:
    assert _DETECTOR is not None and _ROOT is not None
    return judge_chunk(_DETECTOR, _ROOT, accepted)


def _local(detector: Detector, root: Path, stream: Iterator[Chunk], workers: int) -> Iterator[tuple[Chunk, list]]:
    if workers <= 1:
        for chunk in stream:
            yield chunk, judge_chunk(detector, root, chunk.accepted)
        return
    global _DETECTOR, _ROOT
    _DETECTOR, _ROOT = detector, root  # inherited by the forked workers, built once
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        pending: list[tuple[Chunk, Any]] = []
        for chunk in stream:
            pending.append((chunk, pool.apply_async(_judge_in_worker, (chunk.accepted,))))
            if len(pending) >= workers * 2:  # bounded: memory stays flat however big the file
                done, result = pending.pop(0)
                yield done, result.get()
        for done, result in pending:
            yield done, result.get()


def scan(root: Path, out: Path, *, rejects_path: Path | None = None, engine: str = "local",
         workers: int | None = None, progress: Callable[[int], None] | None = None) -> ScanSummary:
    root = root.resolve()
    summary = ScanSummary()
    rejects_file = rejects_path.open("w", encoding="utf-8") if rejects_path else None
    try:
        rejects = Rejects(rejects_file)
        detector = build_detector(root, rejects)
        stream = chunks(root / "listings.jsonl", "listings", detector.fx, 0, 0, CHUNK)
        workers = workers or os.cpu_count() or 1
        if engine == "ray":
            from assay.services.scan_ray import judged_on_ray

            judged = judged_on_ray(detector, root, stream, workers)
        else:
            judged = _local(detector, root, stream, workers)
        last = 0
        with out.open("w", encoding="utf-8") as flags:
            for chunk, results in judged:
                rejects.add("listings.jsonl", chunk.rejects)
                summary.listings += len(chunk.accepted)
                for flag in results:
                    if flag is not None:
                        flags.write(json.dumps(flag.as_json(), ensure_ascii=False) + "\n")
                        summary.infringing += flag.verdict == "infringing"
                        summary.suspect += flag.verdict == "suspect"
                if progress:
                    progress(chunk.end_offset - last)
                last = chunk.end_offset
        summary.rejected = rejects.count
    finally:
        if rejects_file:
            rejects_file.close()
    return summary
