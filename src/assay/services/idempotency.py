"""Idempotency keys: the first answer to a request is kept and replayed for its repeats.

The reservation is its own committed transaction, before the request runs, so that a
concurrent duplicate finds it (and is told to wait) instead of doing the work twice."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from assay.store.tables import idempotency_keys
from assay.store.uow import UnitOfWork

PATH_KEPT = idempotency_keys.c.path.type.length or 500


class Outcome(Enum):
    FIRST = "first"          # go ahead, then complete() or release()
    REPLAY = "replay"        # the same request was answered before: answer the same
    IN_FLIGHT = "in_flight"  # the same key is being processed right now
    MISMATCH = "mismatch"    # the key was used for a different request


@dataclass(frozen=True)
class Reservation:
    outcome: Outcome
    id: int | None = None
    status_code: int | None = None
    headers: dict[str, str] | None = None
    body: str | None = None


def reserve(uow: UnitOfWork, *, owner: str, key: str, method: str, path: str, request_hash: str) -> Reservation:
    try:
        row_id = uow.session.execute(insert(idempotency_keys).values(
            # The path is kept for people reading the table; the hash, over the whole path, decides.
            owner=owner, key=key, method=method, path=path[:PATH_KEPT], request_hash=request_hash, created_at=uow.now,
        ).returning(idempotency_keys.c.id)).scalar_one()
        uow.commit()
        return Reservation(Outcome.FIRST, row_id)
    except IntegrityError:
        uow.session.rollback()
    row = uow.session.execute(select(idempotency_keys).where(
        idempotency_keys.c.owner == owner, idempotency_keys.c.key == key)).mappings().first()
    if row is None:  # released between our insert and this read: the caller may retry
        return Reservation(Outcome.IN_FLIGHT)
    if row["request_hash"] != request_hash:
        return Reservation(Outcome.MISMATCH, row["id"])
    if row["status_code"] is None:
        return Reservation(Outcome.IN_FLIGHT, row["id"])
    return Reservation(Outcome.REPLAY, row["id"], row["status_code"], row["response_headers"] or {},
                       row["response_body"])


def complete(uow: UnitOfWork, reservation_id: int, *, status_code: int, headers: dict[str, Any], body: str) -> None:
    uow.session.execute(update(idempotency_keys).where(idempotency_keys.c.id == reservation_id).values(
        status_code=status_code, response_headers=headers, response_body=body))
    uow.commit()


def release(uow: UnitOfWork, reservation_id: int) -> None:
    """The request failed on the server's side: forget the key, so a retry runs afresh."""
    uow.session.execute(delete(idempotency_keys).where(idempotency_keys.c.id == reservation_id))
    uow.commit()
