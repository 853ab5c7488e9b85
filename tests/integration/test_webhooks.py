"""Enforcement actions reach marketplaces as signed webhooks: written in the action's own
transaction, sent after it commits, retried with growing delays, logged attempt by attempt.
A real HTTP receiver listens on 127.0.0.1; every other network access is refused."""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from sqlalchemy import select, text
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from tests.integration.world import MARKET, World, build_world
from typer.testing import CliRunner

from assay.cli import app as cli_app
from assay.domain.errors import NotFound, ValidationFailed
from assay.domain.model import Seller
from assay.services import notices, sanctions, webhooks
from assay.services.app import Assay
from assay.services.webhooks import Dispatcher, EventStatus, RetryPolicy
from assay.store.tables import audit_events

PUBLIC = "93.184.216.34"


# -- the network: a local receiver, and nothing else ------------------------------------------------

@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Connections go to loopback addresses only (the receiver, the test database)."""
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = str(address[0])  # type: ignore[index]
            if not _is_loopback(host):
                raise OSError(f"the tests may not reach the network: a connection to {host} was attempted")
        real_connect(sock, address)

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> list:
        if host not in ("localhost", b"localhost") and not _is_loopback(str(host)):
            raise socket.gaierror(socket.EAI_NONAME, f"the tests may not resolve {host}")
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@dataclass
class Receiver:
    """A marketplace's webhook receiver: answers with the scripted statuses (then 200), keeps what it got."""

    url: str = ""
    replies: list[int] = field(default_factory=list)
    delay: float = 0.0
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    def message_ids(self) -> list[str]:
        return [headers["webhook-id"] for headers, _ in self.received]

    def payloads(self) -> list[dict]:
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
def receiver():
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
            body = self.rfile.read(int(self.headers["content-length"]))
            time.sleep(state.delay)
            with lock:
                state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = state.replies.pop(0) if state.replies else 200
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"receiver broken")
            state.arrived.set()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/assay/hooks"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def dispatchers():
    """Dispatchers made by a test, closed after it."""
    made: list[Dispatcher] = []

    def make(app: Assay, **options: object) -> Dispatcher:
        options.setdefault("allow_private", True)
        made.append(Dispatcher(app, **options))  # type: ignore[arg-type]
        return made[-1]

    yield make
    for dispatcher in made:
        dispatcher.stop(timeout=5)


# -- a small world -------------------------------------------------------------------------------------

def world_with_listing(app: Assay, *refs: str) -> World:
    world = build_world(app)
    world.seller("lux", phone="+86 138 0013 8000")
    for ref in refs or ("L1",):
        world.listing(ref, "lux")
    return world


def market_id(app: Assay) -> int:
    with app.uow() as uow:
        return uow.repo.marketplace(MARKET).id


def register(app: Assay, url: str, **options: object) -> str:
    with app.uow("marketplace") as uow:
        return webhooks.set_endpoint(uow, market_id(app), url, allow_private=True, **options)  # type: ignore[arg-type]


def remove(world: World, ref: str = "L1") -> int:
    """File a notice against the listing and have a reviewer take it down; returns the item."""
    [item] = world.file(ref).item_ids
    world.review(item)
    return item


def outbox(app: Assay, status: str | None = None) -> list[webhooks.OutboxEvent]:
    with app.uow() as uow:
        return list(reversed(webhooks.events(uow, market_id(app), status=status, limit=500)))


def delivery_log(app: Assay) -> list[webhooks.Delivery]:
    with app.uow() as uow:
        return webhooks.deliveries(uow, market_id(app), limit=500)


def close_storefront(app: Assay, seller_id: int, reason: str = "repeat infringer") -> None:
    with app.uow("coalition") as uow:
        sanctions.close_and_ban(uow, uow.repo.get(Seller, seller_id), reason=reason)
        uow.commit()


# -- what is written ------------------------------------------------------------------------------------

def test_a_removal_reaches_the_marketplace_signed_and_verifiable(app, receiver, dispatchers):
    world = world_with_listing(app)
    secret = register(app, receiver.url)
    item = remove(world)
    [event] = outbox(app)

    assert dispatchers(app).deliver_due() == 1
    [(headers, body)] = receiver.received
    payload = Webhook(secret).verify(body, headers)
    assert payload == {
        "type": "listing.removed", "timestamp": app.clock.now().isoformat(),
        "data": {"marketplace": MARKET, "listing_ref": "L1", "seller_ref": "lux",
                 "listing_id": world.listings["L1"], "seller_id": world.sellers["lux"],
                 "notice_id": event.payload["data"]["notice_id"], "notice_item_id": item,
                 "reason": f"notice {event.payload['data']['notice_id']}, item {item}"},
    }
    assert headers["webhook-id"] == event.message_id
    with pytest.raises(WebhookVerificationError):  # the signature is the endpoint's own secret's
        Webhook(webhooks.new_secret()).verify(body, headers)
    [delivered] = outbox(app)
    assert (delivered.status, delivered.attempts, delivered.delivered_at) == (EventStatus.DELIVERED, 1, app.clock.now())
    [attempt] = delivery_log(app)
    assert (attempt.attempt, attempt.status_code, attempt.error, attempt.url) == (1, 200, None, receiver.url)
    assert attempt.succeeded and attempt.message_id == event.message_id
    assert dispatchers(app).deliver_due() == 0  # delivered once, not again


def test_reinstatement_and_closure_name_what_the_marketplace_knows(app):
    world = world_with_listing(app, "L1", "L2")
    item = remove(world)
    with app.uow("holder") as uow:
        notices.withdraw(uow, uow.repo.get(notices.NoticeItem, item).notice_id, holder_id=world.holder)
    close_storefront(app, world.sellers["lux"], reason="counterfeits, three strikes")

    types = [(e.event_type, e.payload["data"].get("listing_ref"), e.payload["data"].get("notice_item_id"))
             for e in outbox(app)]
    assert types == [
        ("listing.removed", "L1", item),
        ("listing.reinstated", "L1", item),
        ("seller.closed", None, None),  # the closure first, then each listing it takes down
        ("listing.removed", "L1", None),
        ("listing.removed", "L2", None),
    ]
    reinstated, closed, taken_down = (outbox(app)[i].payload["data"] for i in (1, 2, 4))
    assert reinstated["reason"] == f"item {item} reinstated"
    assert closed == {"marketplace": MARKET, "seller_ref": "lux", "seller_id": world.sellers["lux"],
                      "reason": "counterfeits, three strikes"}
    assert taken_down["reason"] == "storefront lux closed"
    assert all(e.status is EventStatus.PENDING and e.attempts == 0 for e in outbox(app))


def test_a_rolled_back_action_leaves_no_event_and_wakes_no_one(app):
    world = world_with_listing(app, "L1", "L2")
    wakes: list[str] = []
    app.outbox_listeners.append(lambda: wakes.append("woken"))
    with pytest.raises(RuntimeError), app.uow("coalition") as uow:
        sanctions.close_and_ban(uow, uow.repo.get(Seller, world.sellers["lux"]), reason="repeat infringer")
        raise RuntimeError("the use case failed after the ban")
    assert outbox(app) == [] and wakes == []

    close_storefront(app, world.sellers["lux"])
    assert len(outbox(app)) == 3 and wakes == ["woken"]  # once per transaction, not once per event


# -- sending and retrying --------------------------------------------------------------------------------

def test_a_failing_receiver_gets_the_event_once_it_recovers(app, clock, receiver, dispatchers):
    world = world_with_listing(app)
    register(app, receiver.url)
    remove(world)
    receiver.replies = [500, 503]
    dispatcher = dispatchers(app)

    assert dispatcher.deliver_due() == 1
    [event] = outbox(app)
    assert (event.status, event.attempts, event.next_attempt_at) == (EventStatus.PENDING, 1,
                                                                     clock.now() + timedelta(seconds=5))
    assert event.last_error == "HTTP 500: receiver broken"
    clock.advance(timedelta(seconds=4))
    assert dispatcher.deliver_due() == 0  # not due yet
    clock.advance(timedelta(seconds=1))
    assert dispatcher.deliver_due() == 1
    assert outbox(app)[0].next_attempt_at == clock.now() + timedelta(seconds=10)  # the delay doubles
    clock.advance(timedelta(seconds=10))
    assert dispatcher.deliver_due() == 1

    assert [(d.attempt, d.status_code) for d in delivery_log(app)] == [(3, 200), (2, 503), (1, 500)]
    assert len(set(receiver.message_ids())) == 1 and len(receiver.received) == 3  # one event, three tries
    [event] = outbox(app)
    assert (event.status, event.attempts, event.last_error) == (EventStatus.DELIVERED, 3, None)


def test_after_the_last_attempt_the_dispatcher_gives_up_until_asked_again(app, clock, receiver, dispatchers):
    world = world_with_listing(app)
    register(app, receiver.url)
    remove(world)
    receiver.replies = [500, 500]
    dispatcher = dispatchers(app, retry=RetryPolicy(max_attempts=2))
    dispatcher.deliver_due()
    clock.advance(timedelta(seconds=5))
    dispatcher.deliver_due()
    [event] = outbox(app)
    assert (event.status, event.attempts, event.next_attempt_at) == (EventStatus.FAILED, 2, None)
    clock.advance(timedelta(days=2))
    assert dispatcher.deliver_due() == 0

    with app.uow("marketplace") as uow:
        assert webhooks.redeliver_failed(uow, market_id(app)) == 1
    assert dispatcher.deliver_due() == 1
    assert outbox(app)[0].status is EventStatus.DELIVERED
    with app.uow() as uow:
        assert webhooks.outbox_counts(uow) == {EventStatus.PENDING: 0, EventStatus.DELIVERED: 1,
                                               EventStatus.FAILED: 0}


def test_the_backoff_doubles_up_to_its_cap():
    retry = RetryPolicy(first_delay=timedelta(seconds=5), max_delay=timedelta(seconds=60))
    assert [retry.delay_after(n).total_seconds() for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]
    assert RetryPolicy().delay_after(10_000) == timedelta(hours=6)
    with pytest.raises(ValueError):
        RetryPolicy(first_delay=timedelta(0))


def test_an_unreachable_endpoint_costs_one_try_per_pass_for_all_its_events(app, dispatchers):
    world = world_with_listing(app, "L1", "L2", "L3")
    register(app, "http://127.0.0.1:9/closed-port")  # the discard port: nothing listens
    close_storefront(app, world.sellers["lux"])
    assert dispatchers(app).deliver_due() == 4
    errors = [d.error or "" for d in reversed(delivery_log(app))]
    assert "ConnectError" in errors[0]
    assert all(e.startswith("not sent: the endpoint did not answer") for e in errors[1:])
    assert {e.status for e in outbox(app)} == {EventStatus.PENDING}


def test_events_wait_for_the_marketplace_to_register_an_endpoint(app, receiver, dispatchers):
    world = world_with_listing(app)
    remove(world)
    dispatcher = dispatchers(app)
    assert dispatcher.deliver_due() == 0
    assert outbox(app)[0].status is EventStatus.PENDING
    register(app, receiver.url)
    assert dispatcher.deliver_due() == 1
    assert [p["type"] for p in receiver.payloads()] == ["listing.removed"]


def test_an_event_written_before_a_restart_is_sent_by_the_next_process(backend, clock, receiver, dispatchers):
    first = Assay(backend.engine(), clock=clock)
    world = world_with_listing(first)
    register(first, receiver.url)
    remove(world)
    first.engine.dispose()  # the process stops before anything was sent

    second = Assay(backend.engine(), clock=clock)
    try:
        assert dispatchers(second).deliver_due() == 1
        assert [p["type"] for p in receiver.payloads()] == ["listing.removed"]
    finally:
        second.engine.dispose()


class Crash(BaseException):
    """The process dies in the middle of sending."""


def test_an_event_claimed_by_a_dispatcher_that_died_is_sent_once_its_lease_runs_out(app, clock, receiver,
                                                                                     dispatchers):
    world = world_with_listing(app)
    register(app, receiver.url)
    remove(world)

    def crash(request: httpx.Request) -> httpx.Response:
        raise Crash
    with pytest.raises(Crash):
        dispatchers(app, client=httpx.Client(transport=httpx.MockTransport(crash))).deliver_due()

    survivor = dispatchers(app)
    assert survivor.deliver_due() == 0  # still leased to the one that died
    clock.advance(RetryPolicy().lease)
    assert survivor.deliver_due() == 1
    assert len(receiver.received) == 1 and outbox(app)[0].status is EventStatus.DELIVERED


def test_a_background_dispatcher_sends_as_soon_as_an_action_commits(app, receiver, dispatchers):
    world = world_with_listing(app)
    register(app, receiver.url)
    dispatcher = dispatchers(app)
    dispatcher.start(poll_interval=60)  # only the wake-up after commit can make it prompt
    try:
        time.sleep(0.1)  # let the first pass find nothing
        remove(world)
        assert receiver.arrived.wait(10), "the dispatcher was not woken by the commit"
    finally:
        dispatcher.stop(timeout=10)
    assert app.outbox_listeners == []
    assert [p["type"] for p in receiver.payloads()] == ["listing.removed"]


def test_a_stopping_dispatcher_leaves_its_backlog_due_for_the_next(app, clock, receiver, dispatchers):
    """A server shutting down stops after the request in flight, not after every event due;
    the events it had claimed but not sent are due at once again, not after their lease."""
    world = world_with_listing(app, *(f"L{n}" for n in range(12)))
    register(app, receiver.url)
    close_storefront(app, world.sellers["lux"])  # twelve listings down, thirteen events
    receiver.delay = 0.2
    dispatcher = dispatchers(app, batch_size=10)
    dispatcher.start(poll_interval=60)
    assert receiver.arrived.wait(10)
    dispatcher.stop(timeout=10)
    sent = len(receiver.received)
    assert 1 <= sent <= 3
    pending = outbox(app, status="pending")
    assert len(pending) == 13 - sent
    assert all(event.next_attempt_at <= clock.now() for event in pending)
    assert dispatchers(app).deliver_due() == 13 - sent
    assert sorted(receiver.message_ids()) == sorted(e.message_id for e in outbox(app))


# -- where requests may go -------------------------------------------------------------------------------

def test_requests_go_to_the_address_checked_and_not_to_one_the_host_turns_to(app, clock, dispatchers):
    world = world_with_listing(app, "L1", "L2")
    answers = {"hooks.bazaar.example": [PUBLIC]}

    def resolve(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[host]]

    sent: list[httpx.Request] = []
    client = httpx.Client(transport=httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(204)))
    with app.uow("marketplace") as uow:
        webhooks.set_endpoint(uow, market_id(app), "https://hooks.bazaar.example/in", resolve=resolve)
    dispatcher = dispatchers(app, client=client, resolve=resolve, allow_private=False)
    remove(world, "L1")
    assert dispatcher.deliver_due() == 1
    [request] = sent
    assert (request.url.host, request.url.path, request.headers["host"]) == (PUBLIC, "/in", "hooks.bazaar.example")
    assert request.extensions["sni_hostname"] == "hooks.bazaar.example"

    answers["hooks.bazaar.example"] = ["10.0.0.5"]  # the host's DNS now points inside
    remove(world, "L2")
    assert dispatcher.deliver_due() == 1
    assert len(sent) == 1  # nothing went to 10.0.0.5
    refused = delivery_log(app)[0]
    assert refused.status_code is None
    assert "resolves to 10.0.0.5, a private address" in (refused.error or "")
    assert outbox(app)[-1].next_attempt_at == clock.now() + timedelta(seconds=5)


def test_an_endpoint_is_registered_with_a_secret_that_is_never_recorded(app, receiver):
    world_with_listing(app)
    market = market_id(app)
    with app.uow("marketplace") as uow, pytest.raises(ValidationFailed) as refused:
        webhooks.set_endpoint(uow, market, "http://127.0.0.1:8080/hooks")
    assert "resolves to 127.0.0.1, a loopback address" in str(refused.value)
    with app.uow("marketplace") as uow, pytest.raises(NotFound):
        webhooks.set_endpoint(uow, market + 99, receiver.url, allow_private=True)

    secret = register(app, receiver.url)
    assert secret.startswith("whsec_") and len(secret) > 40
    assert register(app, receiver.url + "/v2") == secret  # a new URL keeps the secret
    with app.uow("marketplace") as uow:
        rotated = webhooks.rotate_secret(uow, market)
        endpoint = webhooks.endpoint_of(uow, market)
        trail = uow.session.execute(select(audit_events.c.action, audit_events.c.before, audit_events.c.after)
                                    .where(audit_events.c.action.like("webhook.%"))).all()
    assert rotated != secret and endpoint is not None and endpoint.url == receiver.url + "/v2"
    assert [action for action, *_ in trail] == ["webhook.endpoint_set", "webhook.endpoint_set",
                                                "webhook.secret_rotated"]
    assert secret not in repr(trail) and rotated not in repr(trail)


def test_after_a_rotation_both_secrets_sign_until_the_overlap_ends(app, clock, receiver, dispatchers):
    world = world_with_listing(app, "L1", "L2", "L3")
    market = market_id(app)
    old = register(app, receiver.url)
    with app.uow("marketplace") as uow:
        new = webhooks.rotate_secret(uow, market, overlap=timedelta(hours=2))
        assert webhooks.endpoint_of(uow, market).previous_secret_until == clock.now() + timedelta(hours=2)
    remove(world, "L1")
    dispatchers(app).deliver_due()
    headers, body = receiver.received[-1]
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(old).verify(body, headers) == Webhook(new).verify(body, headers)  # a receiver on either accepts

    clock.advance(timedelta(hours=2))
    remove(world, "L2")
    dispatchers(app).deliver_due()
    headers, body = receiver.received[-1]
    Webhook(new).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body, headers)
    with app.uow("marketplace") as uow:
        assert webhooks.endpoint_of(uow, market).previous_secret_until is None
        newest = webhooks.rotate_secret(uow, market, overlap=timedelta(0))  # no overlap: the old one ends now
        with pytest.raises(ValidationFailed, match="overlap: between 0 and 168 hours"):
            webhooks.rotate_secret(uow, market, overlap=timedelta(days=8))
    remove(world, "L3")
    dispatchers(app).deliver_due()
    headers, body = receiver.received[-1]
    assert len(headers["webhook-signature"].split(" ")) == 1
    Webhook(newest).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(body, headers)


def test_pages_of_the_log_are_bounded(app):
    world_with_listing(app)
    with app.uow() as uow:
        with pytest.raises(ValidationFailed, match="limit: between 1 and 500, not 0"):
            webhooks.deliveries(uow, market_id(app), limit=0)
        with pytest.raises(ValidationFailed, match="status: one of pending, delivered, failed"):
            webhooks.events(uow, market_id(app), status="sent")


# -- several dispatchers at once (PostgreSQL; SQLite has a single writer) -------------------------------------

def _postgresql_only(backend) -> None:
    if backend.name != "postgresql":
        pytest.skip("row locks: SQLite lets one writer at a time claim events anyway")


def test_events_locked_by_another_dispatcher_are_skipped_not_waited_for(backend, app, receiver, dispatchers):
    _postgresql_only(backend)
    world = world_with_listing(app, "L1", "L2")
    register(app, receiver.url)
    close_storefront(app, world.sellers["lux"])
    [first, *rest] = outbox(app)

    with app.engine.connect() as other:  # another dispatcher, in the middle of its claim
        other.execute(text("SELECT id FROM webhook_events WHERE id = :id FOR UPDATE"), {"id": first.id})
        done: list[int] = []
        passing = threading.Thread(target=lambda: done.append(dispatchers(app).deliver_due()))
        passing.start()
        passing.join(10)
        assert done == [len(rest)], "the pass waited for the locked event, or sent it"
        other.rollback()
    assert first.message_id not in receiver.message_ids()
    assert dispatchers(app).deliver_due() == 1
    assert sorted(receiver.message_ids()) == sorted(e.message_id for e in [first, *rest])


def test_two_dispatchers_at_once_send_each_event_once(backend, app, clock, receiver, dispatchers):
    _postgresql_only(backend)
    world = world_with_listing(app, *(f"L{n}" for n in range(15)))
    register(app, receiver.url)
    close_storefront(app, world.sellers["lux"])
    receiver.delay = 0.01
    apps = [Assay(backend.engine(), clock=clock) for _ in range(2)]
    start = threading.Barrier(2)
    counts: list[int] = []

    def run(each: Assay) -> None:
        dispatcher = dispatchers(each, batch_size=4)
        start.wait()
        counts.append(dispatcher.deliver_due())

    threads = [threading.Thread(target=run, args=(each,)) for each in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for each in apps:
        each.engine.dispose()
    assert sum(counts) == 16 and len(counts) == 2
    assert sorted(receiver.message_ids()) == sorted(e.message_id for e in outbox(app))  # each once
    assert {e.status for e in outbox(app)} == {EventStatus.DELIVERED}


# -- the command line ------------------------------------------------------------------------------------------

def test_the_command_line_registers_sends_and_shows_the_log(backend, app, receiver, monkeypatch):
    world = world_with_listing(app)
    remove(world)
    monkeypatch.setenv("ASSAY_DATABASE_URL", backend.standalone_url)
    monkeypatch.setenv("ASSAY_NOW", app.clock.now().isoformat())
    cli = CliRunner()

    refused = cli.invoke(cli_app, ["webhooks", "set", MARKET, receiver.url])
    assert refused.exit_code == 1 and "a loopback address" in refused.output
    registered = cli.invoke(cli_app, ["webhooks", "set", MARKET, receiver.url, "--allow-private"])
    assert registered.exit_code == 0, registered.output
    first = registered.output.split("signing secret: ")[1].split()[0]
    rotated = cli.invoke(cli_app, ["webhooks", "rotate", MARKET, "--overlap-hours", "0"])
    assert rotated.exit_code == 0 and "the old one no longer signs" in rotated.output, rotated.output
    secret = rotated.output.split("new signing secret: ")[1].split(";")[0]
    assert secret != first

    sent = cli.invoke(cli_app, ["webhooks", "deliver", "--once", "--allow-private"])
    assert sent.exit_code == 0, sent.output
    assert "attempts 1; events pending 0, delivered 1, failed 0" in " ".join(sent.output.split())
    [(headers, body)] = receiver.received
    assert Webhook(secret).verify(body, headers)["type"] == "listing.removed"
    with pytest.raises(WebhookVerificationError):
        Webhook(first).verify(body, headers)
    shown = cli.invoke(cli_app, ["webhooks", "log", MARKET])
    assert shown.exit_code == 0 and "listing.removed" in shown.output and "200" in shown.output
