"""Enforcement actions sent to marketplaces by signed webhooks.

Three parts:
- the outbox: an action (a listing taken down or put back, a storefront closed) writes
  its event in its own transaction, so an event exists exactly when its action does;
- the endpoints: each marketplace registers one URL and gets the secret its requests
  are signed with (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature);
- the dispatcher: after commit, it claims the events that are due, sends them, logs each
  attempt, and retries a failure later, waiting longer each time, until it gives up.

docs/webhooks.md is the receiver's side of it."""

from __future__ import annotations

import base64
import json
import logging
import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Row
from standardwebhooks import Webhook

from assay.domain.errors import NotFound, ValidationFailed
from assay.domain.model import Listing, Marketplace, Seller
from assay.domain.notices import ItemState, NoticeItem
from assay.domain.time import Clock
from assay.services.addresses import IPAddress, Resolver, check_url
from assay.services.app import Assay
from assay.services.clock import SystemClock
from assay.store.tables import webhook_deliveries, webhook_endpoints, webhook_events
from assay.store.uow import UnitOfWork

log = logging.getLogger(__name__)

LISTING_REMOVED = "listing.removed"
LISTING_REINSTATED = "listing.reinstated"
SELLER_CLOSED = "seller.closed"
MAX_PAGE = 500
ANSWER_SHOWN = 200  # bytes of a failed answer kept in the delivery log
ROTATION_OVERLAP = timedelta(hours=24)  # how long the old secret signs too after a rotation, by default
MAX_ROTATION_OVERLAP = timedelta(days=7)


class EventStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


# -- the outbox: written in the action's own transaction ---------------------------------------

def enqueue(uow: UnitOfWork, marketplace_id: int, event_type: str, data: dict[str, Any]) -> str:
    """Write an event for a marketplace; it is sent once this transaction commits (and once the
    marketplace has an endpoint: events wait for it, so none is lost by registering late).
    Returns its message id, the webhook-id its receiver deduplicates by."""
    message_id = f"msg_{uuid.uuid4().hex}"
    payload = {"type": event_type, "timestamp": uow.now.isoformat(), "data": data}
    uow.session.execute(insert(webhook_events).values(
        message_id=message_id, marketplace_id=marketplace_id, event_type=event_type, payload=payload,
        created_at=uow.now, status=EventStatus.PENDING.value, attempts=0, next_attempt_at=uow.now,
    ))
    uow.outbox_written()
    return message_id


def listing_removed(uow: UnitOfWork, listing: Listing, *, reason: str) -> None:
    enqueue(uow, listing.marketplace_id, LISTING_REMOVED,
            _listing_data(uow, listing, reason, _item_keeping_down(uow, listing)))


def listing_reinstated(uow: UnitOfWork, listing: Listing, *, reason: str) -> None:
    enqueue(uow, listing.marketplace_id, LISTING_REINSTATED,
            _listing_data(uow, listing, reason, _item_reinstated_now(uow, listing)))


def seller_closed(uow: UnitOfWork, seller: Seller, *, reason: str) -> None:
    """The storefront is closed and its trader banned; a listing.removed follows for each listing."""
    enqueue(uow, seller.marketplace_id, SELLER_CLOSED, {
        "marketplace": _marketplace_code(uow, seller.marketplace_id), "seller_ref": seller.seller_ref,
        "seller_id": seller.id, "reason": reason,
    })


def _listing_data(uow: UnitOfWork, listing: Listing, reason: str, item: NoticeItem | None) -> dict[str, Any]:
    seller = uow.repo.get(Seller, listing.seller_id)
    data: dict[str, Any] = {
        "marketplace": _marketplace_code(uow, listing.marketplace_id), "listing_ref": listing.listing_ref,
        "seller_ref": seller.seller_ref, "listing_id": listing.id, "seller_id": seller.id, "reason": reason,
    }
    if item is not None:
        data.update(notice_id=item.notice_id, notice_item_id=item.id)
    return data


def _marketplace_code(uow: UnitOfWork, marketplace_id: int) -> str:
    return uow.repo.get(Marketplace, marketplace_id).code


def _item_keeping_down(uow: UnitOfWork, listing: Listing) -> NoticeItem | None:
    """The notice item behind a removal. A listing that was up had no removal standing, so the
    one standing now is the one that took it down; a storefront's closure has none."""
    standing = [item for item in uow.repo.items_of_listing(listing.id) if item.state.keeps_listing_down]
    return standing[-1] if standing else None


def _item_reinstated_now(uow: UnitOfWork, listing: Listing) -> NoticeItem | None:
    """The notice item whose reinstatement, in this very transaction, put the listing back."""
    now = [item for item in uow.repo.items_of_listing(listing.id)
           if item.state is ItemState.REINSTATED and item.closed_at == uow.now]
    return now[-1] if now else None


# -- endpoints ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Endpoint:
    marketplace_id: int
    url: str
    created_at: datetime
    updated_at: datetime
    previous_secret_until: datetime | None = None  # the secret before the last rotation signs too until then


def set_endpoint(
    uow: UnitOfWork, marketplace_id: int, url: str, *, allow_private: bool = False,
    resolve: Resolver = socket.getaddrinfo, commit: bool = True,
) -> str:
    """Register (or change) the marketplace's webhook URL; returns the signing secret (`whsec_...`).
    Changing the URL keeps the secret; `rotate_secret` replaces it. The URL must be http(s)
    and its host resolve to public addresses only, unless `allow_private` (development)."""
    uow.repo.get(Marketplace, marketplace_id, lock=True)  # concurrent registrations take turns
    url = url.strip()
    check_url(url, allow_private=allow_private, resolve=resolve)
    current = _endpoint_row(uow, marketplace_id)
    if current is None:
        secret = new_secret()
        uow.session.execute(insert(webhook_endpoints).values(
            marketplace_id=marketplace_id, url=url, secret=secret, created_at=uow.now, updated_at=uow.now))
        uow.record("webhook.endpoint_set", "marketplace", marketplace_id, after={"url": url})
    else:
        secret = current.secret
        if current.url != url:
            uow.session.execute(update(webhook_endpoints).where(webhook_endpoints.c.id == current.id)
                                .values(url=url, updated_at=uow.now))
            uow.record("webhook.endpoint_set", "marketplace", marketplace_id,
                       before={"url": current.url}, after={"url": url})
    uow.outbox_written()  # events that waited for an endpoint can go now
    if commit:
        uow.commit()
    return secret


def rotate_secret(uow: UnitOfWork, marketplace_id: int, *, overlap: timedelta = ROTATION_OVERLAP,
                  commit: bool = True) -> str:
    """A new signing secret, used from the next attempt on. For `overlap` the old one signs too
    (Standard Webhooks sends both signatures), so a receiver verifying with either keeps working
    while it switches; with no overlap the old one stops verifying at once."""
    if not timedelta(0) <= overlap <= MAX_ROTATION_OVERLAP:
        raise ValidationFailed([f"overlap: between 0 and {MAX_ROTATION_OVERLAP.days * 24} hours"])
    current = _endpoint_row(uow, marketplace_id)
    if current is None:
        raise NotFound("webhook endpoint of marketplace", marketplace_id)
    secret = new_secret()
    until = uow.now + overlap if overlap else None
    uow.session.execute(update(webhook_endpoints).where(webhook_endpoints.c.id == current.id).values(
        secret=secret, previous_secret=current.secret if until else None, previous_secret_until=until,
        updated_at=uow.now))
    uow.record("webhook.secret_rotated", "marketplace", marketplace_id,
               after={"previous_secret_until": until.isoformat() if until else None}, reason="new signing secret")
    if commit:
        uow.commit()
    return secret


def new_secret() -> str:
    """32 random bytes, in the Standard Webhooks form that its libraries read."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def endpoint_of(uow: UnitOfWork, marketplace_id: int) -> Endpoint | None:
    row = _endpoint_row(uow, marketplace_id)
    if row is None:
        return None
    until = row.previous_secret_until if row.previous_secret_until and row.previous_secret_until > uow.now else None
    return Endpoint(row.marketplace_id, row.url, row.created_at, row.updated_at, until)


def signing_secrets(secret: str, previous: str | None, previous_until: datetime | None, now: datetime) -> list[str]:
    """The secrets a request is signed with: the current one, and the one before while it overlaps."""
    return [secret, previous] if previous and previous_until and previous_until > now else [secret]


def _endpoint_row(uow: UnitOfWork, marketplace_id: int) -> Row[Any] | None:
    return uow.session.execute(
        select(webhook_endpoints).where(webhook_endpoints.c.marketplace_id == marketplace_id)
    ).first()


# -- what was sent: the outbox and the delivery log ------------------------------------------------

@dataclass(frozen=True)
class OutboxEvent:
    id: int
    message_id: str
    event_type: str
    payload: dict[str, Any]
    status: EventStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class Delivery:
    """One attempt to send one event."""

    id: int
    message_id: str
    event_type: str
    attempt: int
    url: str
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def events(uow: UnitOfWork, marketplace_id: int, *, status: str | None = None,
           limit: int = 50, offset: int = 0) -> list[OutboxEvent]:
    """The marketplace's events, newest first, optionally only those in one status."""
    _check_page(limit, offset)
    query = select(webhook_events).where(webhook_events.c.marketplace_id == marketplace_id)
    if status is not None:
        if status not in set(EventStatus):
            raise ValidationFailed([f"status: one of {', '.join(EventStatus)}, not {status!r}"])
        query = query.where(webhook_events.c.status == status)
    rows = uow.session.execute(query.order_by(webhook_events.c.id.desc()).limit(limit).offset(offset))
    return [OutboxEvent(r.id, r.message_id, r.event_type, r.payload, EventStatus(r.status), r.attempts,
                        r.created_at, r.next_attempt_at, r.delivered_at, r.last_error) for r in rows]


def deliveries(uow: UnitOfWork, marketplace_id: int, limit: int = 50, offset: int = 0) -> list[Delivery]:
    """The delivery log of the marketplace's endpoint, newest attempt first."""
    _check_page(limit, offset)
    d, e = webhook_deliveries, webhook_events
    rows = uow.session.execute(
        select(d, e.c.message_id, e.c.event_type).join(e, e.c.id == d.c.event_id)
        .where(e.c.marketplace_id == marketplace_id)
        .order_by(d.c.attempted_at.desc(), d.c.id.desc()).limit(limit).offset(offset)
    )
    return [Delivery(r.id, r.message_id, r.event_type, r.attempt, r.url, r.attempted_at, r.status_code, r.error,
                     r.duration_ms) for r in rows]


def outbox_counts(uow: UnitOfWork, marketplace_id: int | None = None) -> dict[EventStatus, int]:
    """How many events are pending, delivered and failed (for one marketplace, or all)."""
    query = select(webhook_events.c.status, func.count()).group_by(webhook_events.c.status)
    if marketplace_id is not None:
        query = query.where(webhook_events.c.marketplace_id == marketplace_id)
    counted = dict(uow.session.execute(query).all())
    return {status: counted.get(status.value, 0) for status in EventStatus}


def redeliver_failed(uow: UnitOfWork, marketplace_id: int, *, commit: bool = True) -> int:
    """Send the events the dispatcher gave up on once more, with a fresh series of attempts
    (for example once a marketplace has fixed its receiver). Returns how many."""
    requeued = uow.session.execute(
        update(webhook_events)
        .where(webhook_events.c.marketplace_id == marketplace_id, webhook_events.c.status == EventStatus.FAILED.value)
        .values(status=EventStatus.PENDING.value, attempts=0, next_attempt_at=uow.now)
    ).rowcount
    if requeued:
        uow.record("webhook.redelivery", "marketplace", marketplace_id, after={"events": requeued},
                   reason="failed events sent again")
        uow.outbox_written()
    if commit:
        uow.commit()
    return requeued


def _check_page(limit: int, offset: int) -> None:
    problems = []
    if not 1 <= limit <= MAX_PAGE:
        problems.append(f"limit: between 1 and {MAX_PAGE}, not {limit}")
    if offset < 0:
        problems.append(f"offset: 0 or more, not {offset}")
    if problems:
        raise ValidationFailed(problems)


# -- the dispatcher ------------------------------------------------------------------------------

@dataclass(frozen=True)
class RetryPolicy:
    """When to try again, and when to stop. The defaults wait 5 s, 10 s, 20 s ... doubling up to
    6 hours between attempts, and give up after 16 attempts, about a day after the first."""

    first_delay: timedelta = timedelta(seconds=5)
    factor: int = 2
    max_delay: timedelta = timedelta(hours=6)
    max_attempts: int = 16
    timeout: float = 10.0  # seconds for each of connecting, sending and each read
    lease: timedelta = timedelta(minutes=5)  # how long a claimed batch of events is left to its dispatcher

    def __post_init__(self) -> None:
        if self.first_delay <= timedelta(0) or self.factor < 1 or self.max_attempts < 1:
            raise ValueError("retries need a positive first delay, a factor of at least 1 and at least one attempt")

    def delay_after(self, attempt: int) -> timedelta:
        """The wait after failed attempt number `attempt` (1 for the first)."""
        delay = self.first_delay
        for _ in range(attempt - 1):
            if delay >= self.max_delay:
                break
            delay *= self.factor
        return min(delay, self.max_delay)


@dataclass(frozen=True)
class _Claimed:
    event_id: int
    message_id: str
    marketplace_id: int
    attempt: int
    body: str
    url: str
    secrets: list[str]  # each signs the request: the current secret, and the previous one during a rotation


@dataclass(frozen=True)
class _Outcome:
    attempted_at: datetime
    status_code: int | None = None
    error: str | None = None
    duration_ms: int = 0
    unreachable: bool = False  # the endpoint did not answer at all

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Dispatcher:
    """Sends the outbox. Run `deliver_due()` for one pass, or `start()` a thread that passes
    whenever a commit wrote events (in this process) and every `poll_interval` seconds anyway
    (for events written by other processes, and for retries)."""

    def __init__(
        self, app: Assay, *, client: httpx.Client | None = None, allow_private: bool = False,
        retry: RetryPolicy | None = None, batch_size: int = 10, resolve: Resolver = socket.getaddrinfo,
        signing_clock: Clock | None = None,
    ) -> None:
        self.app = app
        self.allow_private = allow_private
        self.retry = retry or RetryPolicy()
        self.batch_size = batch_size
        # A batch is leased as a whole, so the lease must outlast a batch of slow attempts
        # (connecting and reading, each up to the timeout); else another dispatcher may send them too.
        if batch_size < 1 or self.retry.lease <= timedelta(seconds=batch_size * 2 * self.retry.timeout):
            raise ValueError(f"a batch of {batch_size} needs a lease longer than {batch_size * 2} timeouts")
        self._resolve = resolve
        # The signature's timestamp is the real time even when app.clock is pinned (a rehearsal,
        # a test): receivers compare it with their own clock to refuse replayed requests.
        self._signing_clock = signing_clock or SystemClock()
        self._owns_client = client is None
        # No redirects: a 3xx could point at an address the check refused. No proxies from the
        # environment: the request must go to the address that was checked.
        self._client = client or httpx.Client(timeout=self.retry.timeout, follow_redirects=False, trust_env=False)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one pass ----------------------------------------------------------------------------
    def deliver_due(self) -> int:
        """Send every event that is due now (or, once `stop()` is called, those already in flight);
        returns how many attempts were made."""
        attempted = 0
        unreachable: dict[int, str] = {}  # marketplace -> why its endpoint did not answer in this pass
        while not self._stop.is_set() and (batch := self._claim()):
            for n, claimed in enumerate(batch):
                if self._stop.is_set():  # a server shutting down must not first work off a backlog
                    self._release(batch[n:])
                    break
                outcome = self._attempt(claimed, unreachable.get(claimed.marketplace_id))
                if outcome.unreachable:
                    unreachable[claimed.marketplace_id] = outcome.error or "no answer"
                self._record(claimed, outcome)
                attempted += 1
        return attempted

    def _claim(self) -> list[_Claimed]:
        """Lease a batch of due events to this dispatcher.

        The HTTP requests are made outside any transaction: holding row locks (and, on SQLite,
        the database's one write lock) while a slow receiver answers would stall every use case.
        So the claim is a short transaction of its own that pushes each event's next_attempt_at
        forward by the lease: no other dispatcher finds it due until this one has recorded the
        attempt, or has died and the lease has run out (then the event is retried, which
        receivers tolerate because they deduplicate by webhook-id). On PostgreSQL, FOR UPDATE
        SKIP LOCKED lets concurrent dispatchers claim different events without waiting for each
        other; SQLite lets one writer at a time claim anyway."""
        e, ep = webhook_events, webhook_endpoints
        with self.app.uow("webhooks") as uow:
            rows = uow.session.execute(
                select(e.c.id, e.c.message_id, e.c.marketplace_id, e.c.attempts, e.c.payload, ep.c.url, ep.c.secret,
                       ep.c.previous_secret, ep.c.previous_secret_until)
                .join(ep, ep.c.marketplace_id == e.c.marketplace_id)
                .where(e.c.status == EventStatus.PENDING.value, e.c.next_attempt_at <= uow.now)
                .order_by(e.c.next_attempt_at, e.c.id).limit(self.batch_size)
                .with_for_update(skip_locked=True, of=e)
            ).all()
            if not rows:
                return []
            uow.session.execute(update(e).where(e.c.id.in_([r.id for r in rows]))
                                .values(next_attempt_at=uow.now + self.retry.lease))
            uow.commit()
            now = uow.now
        return [_Claimed(r.id, r.message_id, r.marketplace_id, r.attempts + 1,
                         json.dumps(r.payload, ensure_ascii=False, separators=(",", ":")), r.url,
                         signing_secrets(r.secret, r.previous_secret, r.previous_secret_until, now))
                for r in rows]

    def _attempt(self, claimed: _Claimed, unreachable_since: str | None) -> _Outcome:
        attempted_at = self.app.clock.now()
        if unreachable_since is not None:  # a dead endpoint costs one timeout per pass, not one per event
            return _Outcome(attempted_at, error=f"not sent: the endpoint did not answer the previous attempt "
                                                f"in this pass ({unreachable_since})", unreachable=True)
        try:  # checked again at each send: the host's DNS answer may have changed since registration
            addresses = check_url(claimed.url, allow_private=self.allow_private, resolve=self._resolve)
        except ValidationFailed as refused:
            return _Outcome(attempted_at, error=f"not sent: {refused}")
        started = time.perf_counter()
        try:
            status_code, answer = self._post(claimed, addresses)
        except httpx.HTTPError as problem:
            return _Outcome(attempted_at, error=f"{type(problem).__name__}: {str(problem) or 'no answer'}",
                            duration_ms=_ms_since(started), unreachable=True)
        error = None if 200 <= status_code < 300 else f"HTTP {status_code}: {answer}"
        return _Outcome(attempted_at, status_code, error, _ms_since(started))

    def _post(self, claimed: _Claimed, addresses: list[IPAddress]) -> tuple[int, str]:
        """POST to the addresses that were checked, in turn until one connects, rather than to the
        host name: a second DNS answer (rebinding) cannot then lead the request elsewhere.
        Returns the status and, for a failure, the start of the answer (no more is read)."""
        signed_at = self._signing_clock.now()
        headers = {
            "content-type": "application/json",
            "user-agent": "Assay-Webhooks/1",
            "webhook-id": claimed.message_id,
            "webhook-timestamp": str(int(signed_at.timestamp())),
            "webhook-signature": " ".join(Webhook(secret).sign(claimed.message_id, signed_at, claimed.body)
                                          for secret in claimed.secrets),
        }
        for address in addresses[:-1]:
            try:
                return self._answer(self._client.send(self._pinned_request(claimed, address, headers), stream=True))
            except (httpx.ConnectError, httpx.ConnectTimeout):
                continue
        return self._answer(self._client.send(self._pinned_request(claimed, addresses[-1], headers), stream=True))

    @staticmethod
    def _answer(response: httpx.Response) -> tuple[int, str]:
        try:
            if response.is_success:
                return response.status_code, ""
            start = next(response.iter_bytes(ANSWER_SHOWN), b"")[:ANSWER_SHOWN]
            return response.status_code, start.decode("utf-8", "replace")
        finally:
            response.close()

    def _pinned_request(self, claimed: _Claimed, address: IPAddress, headers: dict[str, str]) -> httpx.Request:
        url = httpx.URL(claimed.url)
        # The Host header and, for https, the TLS server name (and so the certificate check) stay the host's.
        extensions = {"sni_hostname": url.raw_host.decode("ascii")} if url.scheme == "https" else {}
        return self._client.build_request(
            "POST", url.copy_with(host=str(address)), content=claimed.body.encode("utf-8"),
            headers={**headers, "host": url.netloc.decode("ascii")}, extensions=extensions,
        )

    def _record(self, claimed: _Claimed, outcome: _Outcome) -> None:
        """Log the attempt, then mark the event delivered, due again after its backoff, or failed."""
        e = webhook_events
        with self.app.uow("webhooks") as uow:
            uow.session.execute(insert(webhook_deliveries).values(
                event_id=claimed.event_id, attempt=claimed.attempt, url=claimed.url,
                attempted_at=outcome.attempted_at, status_code=outcome.status_code, error=outcome.error,
                duration_ms=outcome.duration_ms,
            ))
            if outcome.succeeded:
                after = dict(status=EventStatus.DELIVERED.value, delivered_at=uow.now, next_attempt_at=None,
                             last_error=None)
            elif claimed.attempt >= self.retry.max_attempts:
                after = dict(status=EventStatus.FAILED.value, next_attempt_at=None, last_error=outcome.error)
            else:
                after = dict(next_attempt_at=uow.now + self.retry.delay_after(claimed.attempt),
                             last_error=outcome.error)
            uow.session.execute(update(e).where(e.c.id == claimed.event_id).values(attempts=claimed.attempt, **after))
            uow.commit()

    def _release(self, unsent: list[_Claimed]) -> None:
        """Give back claimed events not attempted, due at once, rather than after their lease."""
        e = webhook_events
        with self.app.uow("webhooks") as uow:
            uow.session.execute(update(e).where(e.c.id.in_([c.event_id for c in unsent]))
                                .values(next_attempt_at=uow.now))
            uow.commit()

    # -- running in the background ----------------------------------------------------------------
    def wake(self) -> None:
        """There is new work: pass now rather than at the next poll."""
        self._wake.set()

    def run_forever(self, stop: threading.Event, *, poll_interval: float = 5.0) -> None:
        """Pass, then wait for a wake-up or the poll interval, until `stop` is set (then call
        `wake()` to end the wait at once)."""
        self.app.outbox_listeners.append(self.wake)
        try:
            while not stop.is_set():
                try:
                    self.deliver_due()
                except Exception as problem:  # a database or network hiccup must not end the dispatcher
                    log.warning("webhook delivery pass failed (%s); trying again in %g s", problem, poll_interval)
                    log.debug("webhook delivery pass failed", exc_info=True)
                self._wake.wait(poll_interval)
                self._wake.clear()
        finally:
            self.app.outbox_listeners.remove(self.wake)

    def start(self, *, poll_interval: float = 5.0) -> threading.Thread:
        """Run in a background thread until `stop()`."""
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, args=(self._stop,),
                                        kwargs={"poll_interval": poll_interval}, name="assay-webhooks", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float | None = None) -> None:
        """Stop the background thread (after the attempt in flight, if any), wait for it, close."""
        self._stop.set()
        self.wake()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.close()

    def close(self) -> None:
        if self._owns_client:
            self._client.close()


def _ms_since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
