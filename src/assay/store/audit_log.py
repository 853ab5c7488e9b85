"""Appending to and verifying the hash-chained audit log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.event import listen
from sqlalchemy.orm import Session, SessionTransaction

from assay.domain.audit import (
    AuditEvent,
    ChainBreak,
    canonical_json,
    chain_hash,
    event_content,
    event_hash,
    verify_chain,
)
from assay.store.bulk import insert_rows
from assay.store.tables import audit_events, audit_head


def append_event(
    session: Session | Connection, *, at: datetime, actor: str, action: str, entity_type: str, entity_id: object,
    before: dict[str, Any] | None, after: dict[str, Any] | None, reason: str | None, request_id: str | None,
) -> int:
    """Append one event in the caller's transaction. Locking the head row first makes
    concurrent appenders take turns, so the chain never forks."""
    head = session.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1).with_for_update()).one()
    seq = head.seq + 1
    fields = dict(
        seq=seq, at=at, actor=actor, action=action, entity_type=entity_type, entity_id=str(entity_id),
        before=before, after=after, reason=reason, request_id=request_id, prev_hash=head.hash,
    )
    digest = event_hash(**fields)
    session.execute(insert(audit_events).values(**fields, hash=digest))
    session.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=digest))
    return seq


class PendingEvents:
    """The events one transaction records, appended to the log together as it commits.

    Appending one at a time costs three round trips each (lock the head, insert, move the
    head). Held until commit, they cost one lock, one batch insert and one head update,
    and the chain comes out exactly as if they had been appended one by one. The head is
    locked at commit, the transaction's last step, so it is held for the shortest time.
    A rollback drops them with the rest of the transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.events: list[dict[str, Any]] = []
        self.starts: dict[SessionTransaction, int] = {}  # where each open transaction's events begin
        listen(session, "after_transaction_create", self._begun)
        listen(session, "before_commit", self._write)
        listen(session, "after_soft_rollback", self._rolled_back)

    def add(
        self, *, at: datetime, actor: str, action: str, entity_type: str, entity_id: object,
        before: dict[str, Any] | None, after: dict[str, Any] | None, reason: str | None, request_id: str | None,
    ) -> None:
        if not self.session.in_transaction():
            self.session.begin()  # so that a rollback, even before any SQL, takes the event with it
        self.events.append(dict(
            at=at, actor=actor, action=action, entity_type=entity_type, entity_id=str(entity_id),
            before=before, after=after, reason=reason, request_id=request_id,
        ))

    def _write(self, session: Session) -> None:
        if not self.events:
            return
        events, self.events = self.events, []
        head = session.execute(
            select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1).with_for_update()).one()
        seq, prev_hash = head.seq, head.hash
        rows = []
        for fields in events:
            seq += 1
            # before and after are serialised once: the hash covers the very text that is stored
            before, after = canonical_json(fields["before"]), canonical_json(fields["after"])
            content = event_content(at=fields["at"], actor=fields["actor"], action=fields["action"],
                                    entity_type=fields["entity_type"], entity_id=fields["entity_id"],
                                    before_json=before, after_json=after, reason=fields["reason"],
                                    request_id=fields["request_id"])
            digest = chain_hash(seq, content, prev_hash)
            rows.append({**fields, "before": before, "after": after, "seq": seq, "prev_hash": prev_hash,
                         "hash": digest})
            prev_hash = digest
        insert_rows(session.connection(), audit_events, rows, json_text=("before", "after"))
        session.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=prev_hash))

    def _begun(self, session: Session, transaction: SessionTransaction) -> None:
        self.starts[transaction] = len(self.events)

    def _rolled_back(self, session: Session, transaction: SessionTransaction) -> None:
        """A rollback drops the events of the transaction (or savepoint) rolled back."""
        del self.events[self.starts.pop(transaction, 0):]


def pending_events(session: Session) -> PendingEvents:
    """The session's pending events, set up on first use."""
    pending = session.info.get("audit")
    if pending is None:
        pending = session.info["audit"] = PendingEvents(session)
    return pending


def _stream(session: Session) -> Iterator[AuditEvent]:
    rows = session.execute(select(audit_events).order_by(audit_events.c.seq).execution_options(yield_per=2000))
    for row in rows:
        yield AuditEvent(**row._mapping)


def verify_log(session: Session) -> tuple[int, ChainBreak | None]:
    """How many events were read, and the first break in the chain if any."""
    head = session.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).one_or_none()
    counted = 0

    def counting() -> Iterator[AuditEvent]:
        nonlocal counted
        for event in _stream(session):
            counted += 1
            yield event

    problem = verify_chain(counting(), (head.seq, head.hash) if head else None)
    return counted, problem


def events_for(session: Session, entity_type: str, entity_id: object) -> list[AuditEvent]:
    rows = session.execute(
        select(audit_events)
        .where(audit_events.c.entity_type == entity_type, audit_events.c.entity_id == str(entity_id))
        .order_by(audit_events.c.seq)
    )
    return [AuditEvent(**row._mapping) for row in rows]
