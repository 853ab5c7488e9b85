"""The audit log's hash chain: each event stores the hash of the one before, so an
edit, a deletion or a reordering made behind the application's back shows."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from json.encoder import encode_basestring
from typing import Any

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    request_id: str | None
    prev_hash: str
    hash: str


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, fixed separators and unescaped text: the same value always
    gives the same string, on every database and Python version."""
    return _CANONICAL.encode(value)


def _text(value: str | None) -> str:
    """`canonical_json` of a text or nothing, without the encoder's dispatch: events hold many."""
    return "null" if value is None else encode_basestring(value)


def _moment(at: datetime) -> str:
    """An event's time as its canonical JSON. The events of one transaction share it, so it is
    remembered; by offset too, since equal instants in other zones are equal but print otherwise."""
    return _moment_in(at, at.utcoffset())


@lru_cache(maxsize=256)
def _moment_in(at: datetime, offset: timedelta | None) -> str:
    return _text(at.isoformat(timespec="microseconds"))


def event_content(
    *, at: datetime, actor: str, action: str, entity_type: str, entity_id: str, before_json: str, after_json: str,
    reason: str | None, request_id: str | None,
) -> str:
    """What an event says, as the middle of its canonical JSON (`before_json` and `after_json`
    are `canonical_json` of before and after). Built apart from the event's place in the chain,
    so that appending many events serialises each once, for the hash and for storage alike."""
    return ",".join((_moment(at), _text(actor), _text(action), _text(entity_type),
                     _text(entity_id), before_json, after_json, _text(reason), _text(request_id)))


def chain_hash(seq: int, content: str, prev_hash: str) -> str:
    """The hash of the canonical JSON array [seq, at, actor, action, entity_type, entity_id,
    before, after, reason, request_id, prev_hash], given its middle from `event_content`."""
    return hashlib.sha256(f"[{seq},{content},{_text(prev_hash)}]".encode()).hexdigest()


def event_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None,
    request_id: str | None,
    prev_hash: str,
) -> str:
    content = event_content(at=at, actor=actor, action=action, entity_type=entity_type, entity_id=entity_id,
                            before_json=canonical_json(before), after_json=canonical_json(after), reason=reason,
                            request_id=request_id)
    return chain_hash(seq, content, prev_hash)


def rehash(event: AuditEvent) -> str:
    return event_hash(
        seq=event.seq, at=event.at, actor=event.actor, action=event.action,
        entity_type=event.entity_type, entity_id=event.entity_id, before=event.before,
        after=event.after, reason=event.reason, request_id=event.request_id, prev_hash=event.prev_hash,
    )


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    why: str

    def __str__(self) -> str:
        return f"audit log broken at sequence number {self.seq}: {self.why}"


def verify_chain(events: Iterable[AuditEvent], head: tuple[int, str] | None) -> ChainBreak | None:
    """The first place where the chain does not hold, or None. Streams: `events` may
    be a database cursor, in sequence order. `head` is the last (seq, hash) the
    application recorded, which catches deletions at the end of the log."""
    expected_seq, expected_prev = 1, GENESIS_HASH
    for event in events:
        if event.seq != expected_seq:
            if event.seq > expected_seq:
                return ChainBreak(expected_seq, "the event is missing here (deleted or moved)")
            return ChainBreak(event.seq, "sequence numbers are out of order")
        if event.prev_hash != expected_prev:
            return ChainBreak(event.seq, "it does not follow from the event before it (reordered or replaced)")
        if rehash(event) != event.hash:
            return ChainBreak(event.seq, "its content does not match its hash (edited)")
        expected_seq, expected_prev = event.seq + 1, event.hash
    last_seq = expected_seq - 1
    if head is None:
        return None
    recorded_seq, recorded_hash = head
    if recorded_seq > last_seq:
        return ChainBreak(last_seq + 1, f"the log ends at {last_seq} but {recorded_seq} events were recorded (deleted)")
    if recorded_seq < last_seq:
        return ChainBreak(recorded_seq + 1, f"only {recorded_seq} events were recorded; later ones were added outside Assay")
    if last_seq and recorded_hash != expected_prev:
        return ChainBreak(last_seq, "the last event is not the one recorded (replaced)")
    return None
