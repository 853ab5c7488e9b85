"""The audit log's hash chain: an intact chain verifies, and an edit, a deletion, a
reordering or an append behind the application's back is reported where it happened."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assay.domain.audit import GENESIS_HASH, AuditEvent, ChainBreak, event_hash, rehash, verify_chain

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)
MAX_EVENTS = 25


def content(seq: int) -> dict:
    """What happened at `seq`: everything an event says except its place in the chain."""
    return dict(
        at=T0 + timedelta(minutes=seq), actor=f"reviewer-{seq}", action="item.removed", entity_type="notice_item",
        entity_id=str(seq), before={"state": "in_review", "listing": {"id": seq, "tags": ["a", "b"]}},
        after={"state": "removed"}, reason=f"counterfeit logo, case {seq}", request_id=f"req-{seq}",
    )


def sealed(seq: int, prev_hash: str, fields: dict) -> AuditEvent:
    return AuditEvent(seq=seq, prev_hash=prev_hash, hash=event_hash(seq=seq, prev_hash=prev_hash, **fields), **fields)


def chain(n: int) -> list[AuditEvent]:
    events: list[AuditEvent] = []
    for seq in range(1, n + 1):
        events.append(sealed(seq, events[-1].hash if events else GENESIS_HASH, content(seq)))
    return events


def head(events: list[AuditEvent]) -> tuple[int, str]:
    return (events[-1].seq, events[-1].hash) if events else (0, GENESIS_HASH)


@st.composite
def chain_and_position(draw, min_size: int = 1) -> tuple[list[AuditEvent], int]:
    """A chain of N events and a position k in it (1-based)."""
    n = draw(st.integers(min_value=min_size, max_value=MAX_EVENTS))
    return chain(n), draw(st.integers(min_value=1, max_value=n))


def assert_break(events, recorded_head, seq: int, why: str) -> None:
    found = verify_chain(iter(events), recorded_head)  # a cursor streams: allow one pass only
    assert isinstance(found, ChainBreak), "tampering went unnoticed"
    assert found.seq == seq, found
    assert why in found.why, found
    assert str(found).startswith(f"audit log broken at sequence number {seq}: ")


# --- an intact chain --------------------------------------------------------------------


@given(n=st.integers(min_value=1, max_value=MAX_EVENTS))
def test_chain_is_built_as_documented(n):
    events = chain(n)
    assert [e.seq for e in events] == list(range(1, n + 1))
    assert [e.prev_hash for e in events] == [GENESIS_HASH] + [e.hash for e in events[:-1]]
    assert all(rehash(e) == e.hash for e in events)


@given(n=st.integers(min_value=0, max_value=MAX_EVENTS))
def test_intact_chain_with_its_head_verifies(n):
    events = chain(n)
    assert verify_chain(iter(events), head(events)) is None


def test_hashes_are_distinct_and_hex():
    hashes = [e.hash for e in chain(MAX_EVENTS)]
    assert len(set(hashes)) == len(hashes)
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in hashes)


# --- edits ---------------------------------------------------------------------------------

EDITS = {
    "actor": lambda e: {"actor": e.actor + "-impostor"},
    "action": lambda e: {"action": "item.declined"},
    "entity_id": lambda e: {"entity_id": e.entity_id + "0"},
    "reason": lambda e: {"reason": None},
    "request_id": lambda e: {"request_id": "req-forged"},
    "at": lambda e: {"at": e.at + timedelta(microseconds=1)},
    "before-value": lambda e: {"before": {**e.before, "state": "removed"}},
    "before-nested": lambda e: {"before": {**e.before, "listing": {**e.before["listing"], "tags": ["a"]}}},
    "before-dropped": lambda e: {"before": None},
    "after-extra-key": lambda e: {"after": {**e.after, "note": "hidden"}},
    "before-id-as-text": lambda e: {"before": {**e.before, "listing": {**e.before["listing"], "id": str(e.seq)}}},
    "hash": lambda e: {"hash": "f" * 64},
}


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
@given(case=chain_and_position())
def test_editing_an_event_is_reported_at_that_event(edit, case):
    events, k = case
    events[k - 1] = dataclasses.replace(events[k - 1], **edit(events[k - 1]))
    assert_break(events, head(chain(len(events))), k, "edited")


@given(case=chain_and_position(min_size=2))
def test_an_edit_rehashed_in_place_breaks_the_link_to_the_next_event(case):
    events, k = case
    if k == len(events):
        k -= 1
    forged = {**content(k), "actor": "impostor"}
    events[k - 1] = sealed(k, events[k - 1].prev_hash, forged)
    assert_break(events, head(chain(len(events))), k + 1, "does not follow")


@given(n=st.integers(min_value=1, max_value=MAX_EVENTS))
def test_replacing_the_last_event_is_caught_through_the_head(n):
    events = chain(n)
    recorded = head(events)
    events[-1] = sealed(n, events[-1].prev_hash, {**content(n), "reason": "rewritten"})
    assert_break(events, recorded, n, "replaced")


# --- deletions, reordering, appends ----------------------------------------------------------


@given(case=chain_and_position())
def test_deleting_an_event_is_reported_at_its_place(case):
    events, k = case
    recorded = head(events)
    del events[k - 1]
    assert_break(events, recorded, k, "deleted")


@given(n=st.integers(min_value=1, max_value=MAX_EVENTS))
def test_deleting_the_last_event_is_caught_through_the_head(n):
    events = chain(n)
    recorded = head(events)
    assert verify_chain(iter(events[:-1]), None) is None  # without the head it cannot be seen
    assert_break(events[:-1], recorded, n, "deleted")


@given(data=st.data())
def test_swapping_two_events_is_reported_at_the_first_swapped_position(data):
    events, i = data.draw(chain_and_position(min_size=2))
    if i == len(events):
        i -= 1
    j = data.draw(st.integers(min_value=i + 1, max_value=len(events)), label="j")
    recorded = head(events)
    events[i - 1], events[j - 1] = events[j - 1], events[i - 1]
    found = verify_chain(iter(events), recorded)
    assert found is not None and found.seq == i, found


@given(data=st.data())
def test_swapping_contents_under_the_original_numbers_is_reported_at_the_first_position(data):
    events, i = data.draw(chain_and_position(min_size=2))
    if i == len(events):
        i -= 1
    j = data.draw(st.integers(min_value=i + 1, max_value=len(events)), label="j")
    recorded = head(events)
    a, b = events[i - 1], events[j - 1]
    events[i - 1], events[j - 1] = dataclasses.replace(b, seq=a.seq), dataclasses.replace(a, seq=b.seq)
    found = verify_chain(iter(events), recorded)
    assert found is not None and found.seq == i, found


@given(n=st.integers(min_value=0, max_value=MAX_EVENTS))
def test_event_appended_without_updating_the_head_is_reported(n):
    events = chain(n + 1)  # a well-formed extra event, chained properly
    assert_break(events, head(events[:n]), n + 1, "added outside")


@given(case=chain_and_position())
def test_duplicated_event_is_reported(case):
    events, k = case
    recorded = head(events)
    events.insert(k, events[k - 1])
    assert_break(events, recorded, k, "out of order")


# --- canonical hashing -----------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=6), json_values, max_size=6)


def reordered(value):
    """The same JSON value with every object's keys in reverse insertion order."""
    if isinstance(value, dict):
        return {key: reordered(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reordered(v) for v in value]
    return value


@given(before=json_objects, after=json_objects | st.none())
def test_hash_does_not_depend_on_dict_key_order(before, after):
    fields = {**content(1), "before": before, "after": after}
    shuffled = {**fields, "before": reordered(before), "after": reordered(after)}
    assert event_hash(seq=1, prev_hash=GENESIS_HASH, **fields) == event_hash(seq=1, prev_hash=GENESIS_HASH, **shuffled)


@given(case=chain_and_position())
def test_chain_read_back_with_keys_in_another_order_still_verifies(case):
    events, k = case
    original = events[k - 1]
    events[k - 1] = dataclasses.replace(original, before=reordered(original.before), after=reordered(original.after))
    assert list(events[k - 1].before) != list(original.before)
    assert verify_chain(iter(events), head(events)) is None


def test_same_instant_in_the_same_zone_hashes_the_same():
    fields = content(1)
    again = {**fields, "at": datetime.fromisoformat(fields["at"].isoformat())}
    assert event_hash(seq=1, prev_hash=GENESIS_HASH, **fields) == event_hash(seq=1, prev_hash=GENESIS_HASH, **again)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(before=st.none() | st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4),
       after=st.none() | st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4),
       reason=st.none() | st.text(), actor=st.text(), seq=st.integers(min_value=1, max_value=2**62),
       at=st.datetimes(timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=2)),
                                                  timezone(timedelta(hours=-5, minutes=-30))])))
def test_the_hash_is_sha256_of_the_canonical_json_array(before, after, reason, actor, seq, at):
    """The definition logs already written were hashed by: events serialised piece by piece for
    speed must hash exactly as the whole array serialised at once."""
    fields = {**content(3), "at": at, "before": before, "after": after, "reason": reason, "actor": actor}
    array = [seq, fields["at"].isoformat(timespec="microseconds"), fields["actor"], fields["action"],
             fields["entity_type"], fields["entity_id"], before, after, reason, fields["request_id"], GENESIS_HASH]
    try:
        body = json.dumps(array, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate is no text a person wrote, nor storable
        return
    assert event_hash(seq=seq, prev_hash=GENESIS_HASH, **fields) == hashlib.sha256(body).hexdigest()
