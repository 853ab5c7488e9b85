"""Reading a feed file: lines parsed, records validated, duplicates caught, in chunks.

Streams: memory holds one chunk and the set of ids seen, whatever the file's size."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from assay.domain import feeds
from assay.services.workers import ReadAhead

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
    """Consecutive lines of one file: the records accepted and the lines rejected; and, when the
    reader was given a `derive` function, what it derived from each accepted record, in order."""

    accepted: list[tuple[int, Any]]
    rejects: list[tuple[int, str]]
    end_offset: int
    end_line: int
    last: bool
    derived: list[Any] = field(default_factory=list)

    def __reduce__(self) -> Any:
        rest = (self.rejects, self.end_offset, self.end_line, self.last, self.derived)
        # Listing records travel between processes as plain tuples: named ones unpickle at a
        # sixth of the speed, through their class's Python-level constructor.
        if self.accepted and type(self.accepted[0][1]) is feeds.ListingRecord:
            return _with_listings, ([(n, tuple(r)) for n, r in self.accepted], *rest)
        return Chunk, (self.accepted, *rest)


def _with_listings(accepted: list[tuple[int, tuple[Any, ...]]], *rest: Any) -> Chunk:
    make = feeds.ListingRecord._make
    return Chunk([(n, make(r)) for n, r in accepted], *rest)


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
            yield Line(number, offset, *parse_line(raw, terminated=raw.endswith(b"\n")))


def parse_line(raw: bytes, *, terminated: bool) -> tuple[Any, str | None]:
    """A non-blank line's JSON value and None, or None and why it has none. `terminated`:
    whether a newline ended the line (a file's last line may have been cut short); `raw`
    may leave that newline out."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as problem:
        return None, f"not UTF-8 (byte {problem.start})"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as problem:
        if terminated and not text.endswith("\n"):
            return parse_line(raw + b"\n", terminated=True)  # the reason JSON gives depends on the newline
        return None, ("" if terminated else "truncated line: ") + f"invalid JSON ({problem.msg})"


def line_blocks(path: Path, size: int) -> Iterator[tuple[int, int, bytes]]:
    """The file in blocks of whole lines, about `size` bytes each, with the number of lines
    before each block and its byte offset: cheap to cut and to send, and parsed wherever
    they are sent."""
    with path.open("rb") as handle:
        before, offset, rest = 0, 0, b""
        while data := handle.read(size):
            data = rest + data
            cut = data.rfind(b"\n") + 1
            rest = data[cut:]
            if cut:
                yield before, offset, data[:cut]
                before += data.count(b"\n", 0, cut)
                offset += cut
        if rest:
            yield before, offset, rest


def block_lines(first: int, block: bytes) -> Iterator[tuple[int, bytes, bool]]:
    """The non-blank lines of a block from `line_blocks` whose lines before it are `first`:
    (line number, line, whether a newline ends it)."""
    pieces = block.split(b"\n")
    last = len(pieces) - 1
    for k, raw in enumerate(pieces):
        if raw.strip():
            yield first + k + 1, raw, k < last


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


class UniqueIds:
    """The natural keys seen so far in a file, kept as 64-bit hashes: a million cost tens of MB,
    not hundreds."""

    def __init__(self) -> None:
        self.seen: set[int] = set()

    def first(self, natural: tuple[str, str]) -> str | None:
        """None if no earlier record had this key (which is now seen); else why this one is rejected."""
        key = hash(natural)
        if key in self.seen:
            return f"duplicate id {natural[1]!r}: an earlier line has it"
        self.seen.add(key)
        return None


def validate(kind: str, raw: Any, fx: dict[str, float] | None) -> tuple[Any, str | None]:
    try:
        return VALIDATORS[kind](raw, fx), None
    except feeds.RecordError as problem:
        return None, str(problem)


def chunks(path: Path, kind: str, fx: dict[str, float] | None, start_offset: int, start_line: int,
           size: int, *, ahead: bool = False, derive: Callable[[Any], Any] | None = None) -> Iterator[Chunk]:
    """`read_chunks`; if `ahead`, in a child process that reads the next chunk while this one
    works on the last (`workers.ReadAhead`; `derive` runs there too: it need not be picklable,
    the child is forked). Close the iterator to stop it early."""
    if ahead:
        return ReadAhead(read_chunks, path, kind, fx, start_offset, start_line, size, derive)
    return read_chunks(path, kind, fx, start_offset, start_line, size, derive)


def read_chunks(path: Path, kind: str, fx: dict[str, float] | None, start_offset: int, start_line: int,
                size: int, derive: Callable[[Any], Any] | None = None) -> Iterator[Chunk]:
    """The file from a checkpoint on, `size` lines at a time; the last chunk ends at the file's end.
    Ids accepted before the checkpoint are read again first, so a duplicate is still caught
    after a resume. `derive`, if given, is applied to each accepted record (`Chunk.derived`)."""
    seen = UniqueIds()
    if start_offset:
        for line in read_lines(path):
            if line.end_offset > start_offset:
                break
            record = validate(kind, line.record, fx)[0] if line.record is not None else None
            if record is not None:
                seen.first(natural_key(record))
    accepted: list[tuple[int, Any]] = []
    rejects: list[tuple[int, str]] = []
    for line in read_lines(path, start_offset, start_line):
        record, error = (None, line.error) if line.error else validate(kind, line.record, fx)
        if record is not None:
            duplicate = seen.first(natural_key(record))
            if duplicate:
                record, error = None, duplicate
        if record is None:
            rejects.append((line.number, error or "invalid"))
        else:
            accepted.append((line.number, record))
        if len(accepted) + len(rejects) >= size:
            yield Chunk(accepted, rejects, line.end_offset, line.number, False, _derived(derive, accepted))
            accepted, rejects = [], []
    yield Chunk(accepted, rejects, path.stat().st_size, 0, True, _derived(derive, accepted))


def _derived(derive: Callable[[Any], Any] | None, accepted: list[tuple[int, Any]]) -> list[Any]:
    return [derive(record) for _, record in accepted] if derive else []
