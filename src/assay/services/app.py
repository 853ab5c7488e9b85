"""The application: a database, a clock and a policy, handing out units of work."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from assay.domain.policies import Policy
from assay.domain.time import Clock
from assay.services.clock import SystemClock
from assay.store.database import make_engine, require_current_schema
from assay.store.uow import UnitOfWork


class Assay:
    def __init__(self, engine: Engine, *, clock: Clock | None = None, policy: Policy | None = None) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        self.policy = policy or Policy()
        # Called after a commit that wrote to the webhook outbox: a dispatcher in this
        # process adds its wake-up here, so new events go out at once instead of at its next poll.
        self.outbox_listeners: list[Callable[[], None]] = []

    @classmethod
    def open(cls, url: str | None = None, *, clock: Clock | None = None, policy: Policy | None = None) -> Assay:
        """Connect and check the schema is current (raises SchemaOutOfDate with what to do)."""
        engine = make_engine(url)
        require_current_schema(engine)
        return cls(engine, clock=clock, policy=policy)

    def uow(self, actor: str = "system", request_id: str | None = None) -> UnitOfWork:
        return UnitOfWork(self.engine, self.clock, actor, policy=self.policy, request_id=request_id,
                          outbox_listeners=self.outbox_listeners)
