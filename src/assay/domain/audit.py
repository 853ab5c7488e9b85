"""The audit log's hash chain: each event stores the hash of the one before, so an
edit, a deletion or a reordering made behind the application's back shows."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
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
    # Canonical JSON (sorted keys, fixed separators, microsecond UTC time) so that the
    # same event hashes the same on every database and Python version.
    body = json.dumps(
        [seq, at.isoformat(timespec="microseconds"), actor, action, entity_type, entity_id,
         before, after, reason, request_id, prev_hash],
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


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
