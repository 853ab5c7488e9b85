"""Time to takedown over HTTP, and sustained notice throughput, on a served API.

    .venv/bin/python bench/api_bench.py --database postgresql --notices 1000 --clients 8

`assay serve` runs as a child process on a fresh database (PostgreSQL by default) with
its webhook dispatcher; a marketplace's receiver listens on loopback in this process.

- Expedited time to takedown: for each of `--notices` notices, one at a time, from the
  moment the POST is sent to the moment the receiver holds the signed `listing.removed`
  webhook for that listing (so: the request, the removal, the commit, the outbox, the
  delivery). The baseline is the latency of the server's most trivial endpoint
  (`GET /health/live`) measured in the same run.
- Sustained throughput: `--clients` concurrent clients filing notices of `--per-notice`
  listings each for `--seconds` seconds; notice items per second.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from databases import fresh_database  # bench/databases.py, beside this script
from sqlalchemy import insert, select

from assay.domain.access import Role, Scope
from assay.domain.model import ListingStatus, SellerStatus
from assay.services import accounts, enrolment, marketplace, notices, webhooks
from assay.services.app import Assay
from assay.store import database
from assay.store.tables import listings as listings_table
from assay.store.tables import sellers as sellers_table

SECRET = "bench-secret-bench-secret-bench-secret"
MARKET = "bazaar"


class Receiver:
    """Records when each listing's removal webhook arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                at = time.perf_counter()
                ref = json.loads(body)["data"].get("listing_ref")
                if ref:
                    with receiver.lock:
                        receiver.arrived.setdefault(ref, at)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"


def seed(url: str, receiver: Receiver, listing_count: int) -> tuple[str, int]:
    """A rights holder that has earned the expedited lane, with a token; a seller with listings."""
    engine = database.make_engine(url)
    database.upgrade(engine)
    app = Assay(engine)
    now = datetime.now(timezone.utc)
    with app.uow("bench") as uow:
        holder = enrolment.enroll_holder(uow, name="Quorvex Sports Ltd", contact_email="bp@quorvex.example",
                                         sign_good_faith=True)
    with app.uow("bench") as uow:
        right = enrolment.add_right(uow, holder_id=holder, mark="QUORVEX", office="EUIPO",
                                    registration_number="018000001", classes=["25"], categories=["footwear"],
                                    expires_on=date(2034, 1, 1))
    with app.uow("bench") as uow:
        enrolment.decide_right(uow, right, verified=True)
    with app.uow("bench") as uow:  # a seller per listing: strikes on one seller would close its storefront
        market_id = marketplace.ensure_marketplace(uow, MARKET).id
        uow.session.execute(insert(sellers_table), [
            dict(marketplace_id=market_id, seller_ref=f"s-{n}", store_name=f"Shop {n}",
                 registered_at=now - timedelta(days=400), status=SellerStatus.ACTIVE.value, sanction_level=0)
            for n in range(listing_count)])
        seller_ids = dict(uow.session.execute(select(sellers_table.c.seller_ref, sellers_table.c.id)).all())
        uow.session.execute(insert(listings_table), [
            dict(marketplace_id=market_id, listing_ref=f"L-{n}", seller_id=seller_ids[f"s-{n}"],
                 title="QUORVEX replica", description="", category="footwear", price=Decimal("19.90"),
                 currency="USD", created_at=now, images=[], image_hashes=[], status=ListingStatus.ACTIVE.value,
                 needs_scan=False)
            for n in range(listing_count)])
        uow.commit()
    for n in range(10):  # a record of removals that stood: the expedited lane's bar
        with app.uow("bench") as uow:
            result = notices.file_notice(
                uow, holder_id=holder, right_ids=[right], listings=[f"{MARKET}:L-{n}"],
                infringement_type=notices.InfringementType.COUNTERFEIT, explanation="Replica, checked by a test buy",
                good_faith=True, accurate=True, signature="bench")
        with app.uow("reviewer") as uow:
            notices.decide_review(uow, result.item_ids[0], remove=True, reason="replica")
    with app.uow("bench") as uow:
        user = accounts.create_user(uow, email="bp@quorvex.example", password="bench-password-1",
                                    role=Role.HOLDER, holder_id=holder)
    with app.uow("bench") as uow:
        token = accounts.issue_token(uow, user, key=SECRET.encode(), name="bench", scopes=list(Scope),
                                     lifetime=timedelta(days=1))
    with app.uow("bench") as uow:
        webhooks.set_endpoint(uow, market_id, receiver.url, allow_private=True)
    engine.dispose()
    return token.secret, right


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(url: str, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "ASSAY_DATABASE_URL": url, "ASSAY_PORT": str(port), "ASSAY_SECRET_KEY": SECRET,
           "ASSAY_ENVIRONMENT": "test", "ASSAY_ALLOW_PRIVATE_WEBHOOKS": "true",
           "ASSAY_RATE_LIMIT_PER_TOKEN": "10000000", "ASSAY_RATE_LIMIT_PER_ADDRESS": "10000000"}
    process = subprocess.Popen([sys.executable, "-m", "assay", "serve"], env=env, stdout=log.open("wb"),
                               stderr=subprocess.STDOUT)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"the server did not start: {log.read_text()}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def body(right: int, refs: list[str]) -> dict:
    return {"right_ids": [right], "listings": [f"{MARKET}:{r}" for r in refs],
            "explanation": "Replica of the Quorvex Stride 1 at a tenth of its price",
            "good_faith": True, "accurate": True, "signature": "bench"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--notices", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--per-notice", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="assay-api-bench-"))
    url = fresh_database(args.database, workdir, "api")
    receiver = Receiver()
    spare = 60_000  # listings for the sustained phase
    started = time.perf_counter()
    token, right = seed(url, receiver, 10 + args.notices + spare)
    print(f"seeded {10 + args.notices + spare:,} listings in {time.perf_counter() - started:.0f} s", flush=True)
    port = free_port()
    server = serve(url, port, workdir / "serve.log")
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as client:
            for _ in range(50):  # warm up connections and code paths
                client.get("/health/live")
            trivial = []
            for _ in range(args.notices):
                started = time.perf_counter()
                client.get("/health/live").raise_for_status()
                trivial.append(time.perf_counter() - started)

            to_takedown = []
            for n in range(10, 10 + args.notices):
                ref = f"L-{n}"
                started = time.perf_counter()
                answer = client.post("/v1/notices", json=body(right, [ref]))
                if answer.status_code != 201 or not answer.json()["removed"]:
                    raise SystemExit(f"notice for {ref} was not taken down at once: {answer.text}")
                while ref not in receiver.arrived:
                    time.sleep(0.0005)
                to_takedown.append(receiver.arrived[ref] - started)

        next_listing = iter(range(10 + args.notices, 10 + args.notices + spare, args.per_notice))
        lock = threading.Lock()
        deadline = time.perf_counter() + args.seconds

        def client_loop(_: int) -> int:
            filed = 0
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as client:
                while time.perf_counter() < deadline:
                    with lock:
                        first = next(next_listing)
                    refs = [f"L-{n}" for n in range(first, first + args.per_notice)]
                    answer = client.post("/v1/notices", json=body(right, refs))
                    if answer.status_code == 201:
                        filed += len(answer.json()["item_ids"])
            return filed

        started = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            items = sum(pool.map(client_loop, range(args.clients)))
        sustained = items / (time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(30)

    ms = 1000.0
    print(f"database: {args.database}; {args.notices} notices, one at a time")
    print(f"trivial endpoint (GET /health/live): p50 {percentile(trivial, .5) * ms:.1f} ms, "
          f"p99 {percentile(trivial, .99) * ms:.1f} ms")
    print(f"expedited POST to webhook received: p50 {percentile(to_takedown, .5) * ms:.1f} ms, "
          f"p99 {percentile(to_takedown, .99) * ms:.1f} ms, mean {statistics.mean(to_takedown) * ms:.1f} ms "
          f"({percentile(to_takedown, .5) / percentile(trivial, .5):.1f}x the trivial endpoint's p50)")
    print(f"sustained: {sustained:,.0f} notice items/s with {args.clients} clients, "
          f"{args.per_notice} listings a notice, expedited lane")


if __name__ == "__main__":
    main()
