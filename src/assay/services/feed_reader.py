"""Reading a feed file: lines parsed, records validated, duplicates caught, in chunks.

Streams: memory holds one chunk and the set of ids seen, whatever the file's size."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from assay.domain import feeds

VALIDATORS = {
    "brands": lambda raw, fx: feeds.brand(raw, fx),
    "sellers": lambda raw, fx: feeds.seller(raw),
    "listings": lambda raw, fx: feeds.listing(raw, fx),
}


class Line(NamedTuple):  # one per line of a snapshot: a tuple is cheaper to make than a frozen dataclass
    number: int
    end_offset: int
    record: Any | None
    error: str | None


@dataclass(frozen=True)
class Chunk:
    """Consecutive lines of one file: the records accepted and the lines rejected."""

    accepted: list[tuple[int, Any]]
    rejects: list[tuple[int, str]]
    end_offset: int
    end_line: int
    last: bool


def read_lines(path: Path, start_offset: int = 0, start_line: int = 0) -> Iterator[Line]:
    """Each non-blank line, decoded and parsed, with the byte offset just after it."""
    with path.open("rb") as handle:
        handle.seek(start_offset)
        offset, number = start_offset, start_line
        for raw in handle:
            number += 1
            offset += len(raw)
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as problem:
                yield Line(number, offset, None, f"not UTF-8 (byte {problem.start})")
                continue
            try:
                yield Line(number, offset, json.loads(text), None)
            except json.JSONDecodeError as problem:
                truncated = not raw.endswith(b"\n")
                yield Line(number, offset, None, ("truncated line: " if truncated else "") + f"invalid JSON ({problem.msg})")


def reject_line(file: str, line: int, reason: str) -> str:
    """One line of a rejects file (JSON Lines: file, line number, reason), as ingest and scan write it."""
    return json.dumps({"file": file, "line": line, "reason": reason}, ensure_ascii=False) + "\n"


def natural_key(record: Any) -> tuple[str, str]:
    """A record's natural key: brands are global, sellers and listings belong to a marketplace."""
    if isinstance(record, feeds.BrandRecord):
        return ("", record.brand_id)
    if isinstance(record, feeds.SellerRecord):
        return (record.marketplace, record.seller_id)
    return (record.marketplace, record.listing_id)


def validate(kind: str, raw: Any, fx: dict[str, float] | None) -> tuple[Any, str | None]:
    try:
        return VALIDATORS[kind](raw, fx), None
    except feeds.RecordError as problem:
        return None, str(problem)


def chunks(path: Path, kind: str, fx: dict[str, float] | None, start_offset: int, start_line: int,
           size: int) -> Iterator[Chunk]:
    """The file from a checkpoint on, `size` lines at a time; the last chunk ends at the file's end.
    Ids accepted before the checkpoint are read again first, so a duplicate is still caught
    after a resume. Ids are kept as 64-bit hashes: a million cost tens of MB, not hundreds."""
    seen: set[int] = set()
    if start_offset:
        for line in read_lines(path):
            if line.end_offset > start_offset:
                break
            record = validate(kind, line.record, fx)[0] if line.record is not None else None
            if record is not None:
                seen.add(hash(natural_key(record)))
    accepted: list[tuple[int, Any]] = []
    rejects: list[tuple[int, str]] = []
    for line in read_lines(path, start_offset, start_line):
        record, error = (None, line.error) if line.error else validate(kind, line.record, fx)
        if record is not None:
            natural = natural_key(record)
            key = hash(natural)
            if key in seen:
                record, error = None, f"duplicate id {natural[1]!r}: an earlier line has it"
            else:
                seen.add(key)
        if record is None:
            rejects.append((line.number, error or "invalid"))
        else:
            accepted.append((line.number, record))
        if len(accepted) + len(rejects) >= size:
            yield Chunk(accepted, rejects, line.end_offset, line.number, last=False)
            accepted, rejects = [], []
    yield Chunk(accepted, rejects, path.stat().st_size, 0, last=True)
