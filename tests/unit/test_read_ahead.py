"""Reading a feed ahead in a child process gives exactly what reading it here gives, and the
child never outlives the reader: not when the reader stops early, not when it is killed."""

from __future__ import annotations

import json
import multiprocessing
import os
import pickle
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.domain.identity import identity_keys
from assay.services.feed_reader import chunks
from assay.services.workers import ReadAhead


def numbers(count: int, pid_file: Path | None = None) -> Iterator[int]:
    if pid_file is not None:
        pid_file.write_text(str(os.getpid()))
    for n in range(count):
        if n == 7 and count == 8:
            raise ValueError("line 8: no such thing")
        yield n


def gone(pid: int, within: float = 10.0) -> bool:
    """Whether the process has ended (a zombie waiting for its reaper counts as ended)."""
    deadline = time.monotonic() + within
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def test_items_come_in_order_and_a_failure_in_the_child_is_raised_here() -> None:
    assert list(ReadAhead(numbers, 500)) == list(range(500))
    with pytest.raises(ValueError, match="line 8: no such thing"):
        list(ReadAhead(numbers, 8))


def test_a_reader_that_stops_early_leaves_no_child_behind(tmp_path: Path) -> None:
    items = ReadAhead(numbers, 10**9, tmp_path / "pid")
    assert [next(items) for _ in range(3)] == [0, 1, 2]
    items.close()
    child = int((tmp_path / "pid").read_text())
    try:
        assert gone(child)
    finally:
        if not gone(child, within=0):
            os.kill(child, signal.SIGKILL)


def _consume_forever(pid_file: Path) -> None:
    for _ in ReadAhead(numbers, 10**12, pid_file):
        pass


def test_a_reader_killed_with_sigkill_leaves_no_child_behind(tmp_path: Path) -> None:
    reader = multiprocessing.get_context("fork").Process(target=_consume_forever, args=(tmp_path / "pid",))
    reader.start()
    deadline = time.monotonic() + 10
    while not (tmp_path / "pid").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    child = int((tmp_path / "pid").read_text())
    time.sleep(0.2)  # well into its work: the child blocked on a full pipe, the reader reading
    os.kill(reader.pid, signal.SIGKILL)
    reader.join(10)
    try:
        assert gone(child)
    finally:  # a child left behind would hold the test run's output open
        if not gone(child, within=0):
            os.kill(child, signal.SIGKILL)


# -- the feed reader, here and ahead ---------------------------------------------------------------

def _listing(n: int, **changes: object) -> dict:
    return {"listing_id": f"L{n}", "marketplace": "m", "seller_id": "s", "title": f"Item {n}", "description": "",
            "category": "bags", "price": 10 + n / 4, "currency": "EUR", "images": [],
            "created_at": "2025-03-01T10:00:00Z", **changes}


LINES = st.lists(st.one_of(
    st.integers(0, 30).map(lambda n: json.dumps(_listing(n))),            # ids repeat: duplicates
    st.integers(0, 30).map(lambda n: json.dumps(_listing(n, price=-1))),  # invalid
    st.sampled_from(["", "  ", "{not json", '"a string"', "\udcff"]),
), max_size=40)


@settings(max_examples=60, deadline=None)
@given(LINES, st.booleans(), st.integers(1, 7), st.data())
def test_chunks_read_ahead_are_the_chunks_read_here_from_any_checkpoint(
        tmp_path_factory: pytest.TempPathFactory, lines: list[str], newline_at_end: bool, size: int,
        data: st.DataObject) -> None:
    path = Path(tmp_path_factory.mktemp("feed")) / "listings.jsonl"
    text = "\n".join(lines) + ("\n" if newline_at_end and lines else "")
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    here = list(chunks(path, "listings", {"EUR": 1.1}, 0, 0, size))
    assert list(chunks(path, "listings", {"EUR": 1.1}, 0, 0, size, ahead=True)) == here
    # resumed from a checkpoint the first reading committed
    resumed = data.draw(st.sampled_from(here))
    if not resumed.last:
        args = (path, "listings", {"EUR": 1.1}, resumed.end_offset, resumed.end_line, size)
        assert list(chunks(*args, ahead=True)) == list(chunks(*args))


def test_what_is_derived_ahead_is_what_is_derived_here(tmp_path: Path) -> None:
    path = tmp_path / "sellers.jsonl"
    path.write_text("".join(json.dumps({
        "seller_id": f"s{n}", "marketplace": "m", "store_name": f"Store {n}", "registered_at": "2024-01-01T00:00:00Z",
        "status": "active", "identity": {"phone": f"+1 415 555 01{n:02d}", "email": f"Shop{n}@Example.com",
                                         "address": f"{n} Main St.", "tax_id": None, "legal_name": None,
                                         "payment_account": None}}) + "\n" for n in range(25)))
    derive = lambda record: identity_keys(record.identity)  # noqa: E731 - not picklable: the child is forked
    here = list(chunks(path, "sellers", None, 0, 0, 10, derive=derive))
    ahead = list(chunks(path, "sellers", None, 0, 0, 10, ahead=True, derive=derive))
    assert ahead == here
    assert [len(chunk.derived) for chunk in ahead] == [10, 10, 5]
    assert all(len(keys) == 3 for chunk in ahead for keys in chunk.derived)


def test_a_chunk_of_listings_survives_pickling_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "listings.jsonl"
    path.write_text("".join(json.dumps(_listing(n, images=["images/a.jpg"] if n % 2 else [])) + "\n"
                            for n in range(5)))
    [chunk] = list(chunks(path, "listings", None, 0, 0, 10))
    back = pickle.loads(pickle.dumps(chunk))
    assert back == chunk
    assert [type(record) for _, record in back.accepted] == [type(record) for _, record in chunk.accepted]
