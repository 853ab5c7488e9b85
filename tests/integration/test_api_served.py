"""The API served for real (uvicorn on a loopback port): concurrent duplicate notices take a
listing down once and send one webhook; a served process restarted loses no webhook."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from sqlalchemy import func, select
from standardwebhooks import Webhook
from tests.conftest import Backend
from tests.integration.world import MARKET, World, build_world, earn_expedited_lane

from assay.api.app import create_app
from assay.api.settings import Settings
from assay.domain.access import Role, Scope
from assay.domain.notices import NoticeItem
from assay.services import accounts, webhooks
from assay.services.app import Assay
from assay.services.clock import SystemClock
from assay.store.tables import webhook_events

SECRET = "a-test-secret-that-is-long-enough"
CONCURRENT = 50


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@dataclass
class Receiver:
    """A marketplace's webhook receiver on loopback, which can be told to fail."""

    failing: bool = False
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    refused: int = 0

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                if receiver.failing:
                    receiver.refused += 1
                    self.send_response(503)
                else:
                    receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"

    def events(self, secret: str) -> list[dict]:
        """Every event received, each verified against the signing secret."""
        return [Webhook(secret).verify(body, headers) for headers, body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def expedited_world(app: Assay, receiver: Receiver) -> tuple[World, dict[str, str], str]:
    """A rights holder with the expedited lane and a token; a marketplace with a webhook endpoint."""
    world = build_world(app)
    earn_expedited_lane(world)
    world.seller("s-lux")
    with app.uow() as uow:
        user = accounts.create_user(uow, email="team@quorvex.example", password="a-long-password",
                                    role=Role.HOLDER, holder_id=world.holder)
    with app.uow() as uow:
        token = accounts.issue_token(uow, user, key=SECRET.encode(), name="tool", scopes=list(Scope),
                                     lifetime=timedelta(days=1))
    with app.uow() as uow:
        secret = webhooks.set_endpoint(uow, uow.repo.marketplace(MARKET).id, receiver.url, allow_private=True)
    return world, {"Authorization": f"Bearer {token.secret}"}, secret


@pytest.fixture
def served(engine, receiver: Receiver) -> Iterator[tuple[str, Assay]]:  # type: ignore[no-untyped-def]
    """The API on a real server (in this process, on the real clock), with its webhook dispatcher."""
    app = Assay(engine, clock=SystemClock())
    settings = Settings(_env_file=None, environment="test", secret_key=SECRET, allow_private_webhooks=True,
                        rate_limit_per_token=100_000, rate_limit_per_address=100_000)  # type: ignore[call-arg]
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, app), host="127.0.0.1", port=port,
                                           log_level="warning", log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_until(lambda: server.started, 20)
    yield f"http://127.0.0.1:{port}", app
    server.should_exit = True
    thread.join(10)


def notice_body(world: World, listing_ref: str) -> dict:
    return {"right_ids": [world.right], "listings": [f"{MARKET}:{listing_ref}"],
            "explanation": "Replica of the Quorvex Stride 1 at a tenth of its price", "evidence": [],
            "good_faith": True, "accurate": True, "signature": "Quorvex brand protection"}


def post_concurrently(base: str, body: dict, headers: dict[str, str]) -> list[httpx.Response]:
    start = threading.Barrier(CONCURRENT)

    def post(_: int) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=60) as client:
            start.wait()
            return client.post("/v1/notices", json=body, headers=headers)

    with ThreadPoolExecutor(CONCURRENT) as pool:
        return list(pool.map(post, range(CONCURRENT)))


@pytest.mark.slow
@pytest.mark.parametrize("same_key", [False, True], ids=["no-key", "same-idempotency-key"])
def test_fifty_identical_notices_at_once_take_the_listing_down_once(
    backend: Backend, served: tuple[str, Assay], receiver: Receiver, same_key: bool,
) -> None:
    if backend.name != "postgresql":
        pytest.skip("concurrent writers are a PostgreSQL matter: SQLite takes one writer at a time")
    base, app = served
    world, headers, secret = expedited_world(app, receiver)
    listing_id = world.listing("L-race", "s-lux")
    if same_key:
        headers = {**headers, "Idempotency-Key": "one-notice-please"}

    answers = post_concurrently(base, notice_body(world, "L-race"), headers)

    statuses = sorted(a.status_code for a in answers)
    assert all(status in (201, 409, 422) for status in statuses), statuses
    created = [a.json() for a in answers if a.status_code == 201]
    if same_key:  # the first answer, and replays of it: all name the same notice
        assert {c["notice_id"] for c in created} == {created[0]["notice_id"]}
    else:
        assert len(created) == 1
    assert created[0]["removed"] == created[0]["item_ids"]
    for refused in (a for a in answers if a.status_code != 201):
        assert refused.headers["content-type"] == "application/problem+json"
    with app.uow() as uow:
        items = uow.session.scalar(select(func.count()).where(NoticeItem.listing_id == listing_id))
        removal_events = uow.session.scalar(select(func.count()).select_from(webhook_events).where(
            webhook_events.c.event_type == "listing.removed",
            webhook_events.c.payload["data"]["listing_id"].as_integer() == listing_id))
    assert items == 1
    assert removal_events == 1
    assert wait_until(lambda: len(receiver.received) >= 1)
    time.sleep(0.5)  # a second delivery, if there were one, would arrive now
    delivered = [e for e in receiver.events(secret) if e["data"]["listing_id"] == listing_id]
    assert [e["type"] for e in delivered] == ["listing.removed"]


# -- a restart of `assay serve` loses nothing ---------------------------------------------------------

def start_serve(backend: Backend, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "ASSAY_DATABASE_URL": backend.standalone_url, "ASSAY_PORT": str(port),
           "ASSAY_SECRET_KEY": SECRET, "ASSAY_ENVIRONMENT": "test", "ASSAY_ALLOW_PRIVATE_WEBHOOKS": "true"}
    process = subprocess.Popen([sys.executable, "-m", "assay", "serve"], env=env, stdout=log.open("ab"),
                               stderr=subprocess.STDOUT)
    assert wait_until(lambda: _answers(f"http://127.0.0.1:{port}/health/live"), 30), log.read_text()
    return process


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.slow
def test_an_event_the_receiver_refused_is_delivered_by_the_restarted_server(
    backend: Backend, engine, receiver: Receiver, tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    if backend.name != "postgresql":
        pytest.skip("two server processes in turn: once is enough, and the dispatcher's restart "
                    "is tested on both databases in test_webhooks.py")
    app = Assay(engine, clock=SystemClock())
    world, headers, secret = expedited_world(app, receiver)
    world.listing("L-restart", "s-lux")
    receiver.failing = True
    port, log = free_port(), tmp_path / "serve.log"

    first = start_serve(backend, port, log)
    try:
        answer = httpx.post(f"http://127.0.0.1:{port}/v1/notices", json=notice_body(world, "L-restart"),
                            headers=headers, timeout=30)
        assert answer.status_code == 201, answer.text
        assert answer.json()["removed"], answer.text
        assert wait_until(lambda: receiver.refused >= 1), log.read_text()
    finally:
        first.terminate()
        first.wait(20)
    assert receiver.received == []

    receiver.failing = False
    second = start_serve(backend, port, log)
    try:
        # The first retry is due 5 s after the refused attempt; the restarted dispatcher finds it.
        assert wait_until(lambda: any(b"L-restart" in body for _, body in receiver.received), 40), log.read_text()
    finally:
        second.terminate()
        second.wait(20)
    (event,) = [e for e in receiver.events(secret) if e["data"]["listing_ref"] == "L-restart"]
    assert event["type"] == "listing.removed" and event["data"]["marketplace"] == MARKET
    with app.uow() as uow:
        attempts = [d for d in webhooks.deliveries(uow, uow.repo.marketplace(MARKET).id)
                    if d.message_id == event_message_id(receiver, "L-restart")]
    assert [d.status_code for d in sorted(attempts, key=lambda d: d.attempt)][-1] == 204
    assert len(attempts) >= 2  # refused by the receiver under the first server, delivered by the second


def event_message_id(receiver: Receiver, listing_ref: str) -> str:
    (headers,) = [h for h, body in receiver.received if json.loads(body)["data"]["listing_ref"] == listing_ref]
    return headers["webhook-id"]
