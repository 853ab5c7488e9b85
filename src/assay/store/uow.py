"""The unit of work: one transaction per use case, all or nothing, with its audit trail."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from assay.domain.policies import Policy
from assay.domain.time import Clock
from assay.store.audit_log import pending_events
from assay.store.repository import Repository
from assay.store.tables import map_domain


class UnitOfWork:
    """Use as `with uow:`; nothing is kept unless `commit()` is called inside.
    The moment is read from the clock once, so one use case has one time."""

    def __init__(
        self, engine: Engine, clock: Clock, actor: str, *, policy: Policy | None = None, request_id: str | None = None,
        outbox_listeners: Sequence[Callable[[], None]] = (),
    ) -> None:
        map_domain()
        self.policy = policy or Policy()
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.clock = clock
        self.actor = actor
        self.request_id = request_id
        self._after_commit: list[Callable[[], None]] = []
        self._outbox_listeners = outbox_listeners
        self._outbox_written = False

    def __enter__(self) -> UnitOfWork:
        self.session: Session = self._sessions()
        self.repo = Repository(self.session)
        self.now: datetime = self.clock.now()
        self._after_commit = []
        self._outbox_written = False
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # close() rolls back whatever was not committed but leaves loaded objects readable
        # (detached, not expired), so a caller can still look at what it fetched.
        self.session.close()

    def commit(self) -> None:
        self.session.commit()
        callbacks, self._after_commit = self._after_commit, []
        self._outbox_written = False
        for callback in callbacks:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Side effects (messages to others) run only once the transaction has committed."""
        self._after_commit.append(callback)

    def outbox_written(self) -> None:
        """This transaction wrote messages to the outbox: wake the listeners (whoever sends them)
        once it commits; once per transaction, however many messages it wrote."""
        if not self._outbox_written:
            self._outbox_written = True
            for listener in self._outbox_listeners:
                self.after_commit(listener)

    def flush(self) -> None:
        self.session.flush()

    def record(
        self, action: str, entity_type: str, entity_id: object, *,
        before: dict[str, Any] | None = None, after: dict[str, Any] | None = None, reason: str | None = None,
    ) -> None:
        """Append an audit event in this transaction: it is chained onto the log as the transaction
        commits, together with the others the transaction recorded (see `PendingEvents`)."""
        pending_events(self.session).add(
            at=self.now, actor=self.actor, action=action, entity_type=entity_type,
            entity_id=entity_id, before=before, after=after, reason=reason, request_id=self.request_id,
        )
