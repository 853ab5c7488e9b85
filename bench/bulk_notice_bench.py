"""A bulk notice of 100,000 listings, end to end, against filing the same listings one
notice at a time, measured in the same run.

    .venv/bin/python bench/bulk_notice_bench.py --rows 100000 --database postgresql
    .venv/bin/python bench/bulk_notice_bench.py --rows 100000 --database sqlite --sellers mix

A rights holder in the expedited lane files one notice naming `--rows` listings: each comes
down at once with a strike on its seller, a statement of reasons, a webhook event and its
audit events. `--sellers one` gives every listing its own seller (a warning each);
`--sellers mix` groups them as sweeps find them, most sellers with one or two listings and
a quarter with three or more, whose storefronts close at their third strike. One row in a
hundred is bad (not found, or named twice). Sellers and listings are loaded with bulk
inserts, so setting up takes seconds.

The baseline files the first `--baseline` rows of the same setup, in a database of its own,
through `notices.file_notice`, one notice per listing; it is reported in listings per second
beside the bulk filing's rate. The last columns are the filing's wall time, the CPU time of
this process (the database's own work is not in it), and the load average as it ended: the
machine is shared. `--profile FILE` writes a cProfile of the bulk filing."""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import random
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from databases import fresh_database  # bench/databases.py, beside this script
from sqlalchemy import select, text

from assay.domain.errors import ValidationFailed
from assay.domain.identity import TraderIdentity
from assay.domain.notices import InfringementType
from assay.services import enrolment, marketplace, notices
from assay.services.app import Assay
from assay.services.bulk_notices import BulkRow, file_bulk
from assay.services.clock import ManualClock
from assay.store import database
from assay.store.audit_log import verify_log
from assay.store.bulk import insert_rows
from assay.store.tables import listings, marketplaces, seller_identity_keys, sellers

MARKET = "bazaar"
NOTICE = dict(infringement_type=InfringementType.COUNTERFEIT, good_faith=True, accurate=True, signature="J. Doe",
              explanation="Replicas of the Quorvex Stride 1 under the QUORVEX mark, sold at a tenth of the MSRP.")
MIX = [1] * 6 + [2] * 3 + [3, 5, 12]  # listings per seller, repeated: a quarter of sellers close


def expedited_holder(app: Assay) -> tuple[int, int]:
    """A holder with a verified right and ten removals that stood: the expedited lane."""
    with app.uow("holder") as uow:
        holder = enrolment.enroll_holder(uow, name="Quorvex Sports Ltd", contact_email="bp@example.com",
                                         sign_good_faith=True)
    with app.uow("holder") as uow:
        right = enrolment.add_right(uow, holder_id=holder, mark="QUORVEX", office="EUIPO",
                                    registration_number="018000001", classes=["25"], categories=["footwear"],
                                    expires_on=date(2034, 1, 1))
    with app.uow("coalition") as uow:
        enrolment.decide_right(uow, right, verified=True)
    for n in range(10):
        with app.uow("marketplace") as uow:
            marketplace.upsert_seller(uow, marketplace=MARKET, seller_ref=f"past-{n}", store_name=f"Past {n}",
                                      registered_at=uow.now, identity=TraderIdentity(email=f"past{n}@mail.example"))
            marketplace.upsert_listing(uow, marketplace=MARKET, listing_ref=f"P-{n}", seller_ref=f"past-{n}",
                                       title="QUORVEX replica", category="footwear", price="19.90", currency="USD",
                                       created_at=uow.now)
        with app.uow(f"holder:{holder}") as uow:
            filed = notices.file_notice(uow, holder_id=holder, right_ids=[right], listings=[f"{MARKET}:P-{n}"],
                                        **NOTICE)
        with app.uow("reviewer") as uow:
            notices.decide_review(uow, filed.item_ids[0], remove=True, reason="Checked.")
    return holder, right


def seller_sizes(rows: int, shape: str) -> list[int]:
    """How many listings each seller has, adding up to `rows`."""
    pattern = MIX if shape == "mix" else [1]
    sizes: list[int] = []
    total = 0
    while total < rows:
        sizes.append(min(pattern[len(sizes) % len(pattern)], rows - total))
        total += sizes[-1]
    return sizes


def load_listings(app: Assay, rows: int, shape: str, seed: int) -> list[str]:
    """Sellers and listings by bulk insert; the references of the listings, shuffled as a sweep finds them."""
    now = app.clock.now()
    sizes = seller_sizes(rows, shape)
    with app.engine.begin() as connection:
        market = connection.execute(select(marketplaces.c.id).where(marketplaces.c.code == MARKET)).scalar_one()
        insert_rows(connection, sellers, [dict(
            marketplace_id=market, seller_ref=f"s-{n}", store_name=f"Store {n}", registered_at=now, status="active",
            sanction_level=0, legal_name=None, email=f"s{n}@mail.example", phone=None, address=None, tax_id=None,
            payment_account=None) for n in range(len(sizes))])
        ids = dict(connection.execute(select(sellers.c.seller_ref, sellers.c.id)).all())
        insert_rows(connection, seller_identity_keys, [
            dict(seller_id=ids[f"s-{n}"], kind="email", value=f"s{n}@mail.example") for n in range(len(sizes))])
        owners = [ids[f"s-{n}"] for n, size in enumerate(sizes) for _ in range(size)]
        insert_rows(connection, listings, [dict(
            marketplace_id=market, listing_ref=f"B-{n}", seller_id=owner, title=f"QUORVEX Stride replica {n}",
            description="", category="footwear", price="9.90", currency="USD", images=[], image_hashes=[],
            created_at=now, status="active", needs_scan=False) for n, owner in enumerate(owners)])
    refs = [f"{MARKET}:B-{n}" for n in range(rows)]
    random.Random(seed).shuffle(refs)
    return refs


def with_bad_rows(refs: list[str]) -> list[BulkRow]:
    """One row in a hundred is bad: alternately a listing not found, and one named again."""
    rows = []
    for n, ref in enumerate(refs):
        if n % 100 == 50:
            ref = f"{MARKET}:NO-SUCH-{n}" if n % 200 == 50 else refs[n - 1]
        rows.append(BulkRow(n + 2, ref))
    return rows


def setup(kind: str, workdir: Path, name: str, rows: int, shape: str, seed: int) -> tuple[Assay, int, int, list[str]]:
    url = fresh_database(kind, workdir, name)
    engine = database.make_engine(url)
    database.upgrade(engine)
    app = Assay(engine, clock=ManualClock(datetime(2026, 6, 1, 9, tzinfo=timezone.utc)))
    holder, right = expedited_holder(app)
    refs = load_listings(app, rows, shape, seed)
    app.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    return app, holder, right, refs


def baseline_rate(app: Assay, holder: int, right: int, refs: list[str], count: int) -> float:
    start = time.perf_counter()
    for ref in refs[:count]:
        with app.uow(f"holder:{holder}") as uow, contextlib.suppress(ValidationFailed):
            notices.file_notice(uow, holder_id=holder, right_ids=[right], listings=[ref], **NOTICE)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--sellers", choices=["one", "mix"], default="one")
    parser.add_argument("--baseline", type=int, default=300, help="listings filed one notice at a time")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the bulk filing here")
    parser.add_argument("--verify", action="store_true", help="verify the whole audit chain afterwards")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="assay-bench-") as tmp:
        workdir = Path(tmp)
        app, holder, right, refs = setup(args.database, workdir, "single", args.baseline, args.sellers, args.seed)
        base = baseline_rate(app, holder, right, refs, args.baseline)
        app.engine.dispose()
        print(f"baseline: {args.baseline} notices of one listing, {base:,.1f} listings/s")

        started = time.perf_counter()
        app, holder, right, refs = setup(args.database, workdir, "bulk", args.rows, args.sellers, args.seed)
        print(f"set up {args.rows:,} listings in {time.perf_counter() - started:.1f} s")
        rows = with_bad_rows(refs)
        profiler = cProfile.Profile() if args.profile else None
        start, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        result = file_bulk(app, actor=f"holder:{holder}", holder_id=holder, right_ids=[right], rows=rows,
                           progress=lambda done, total: print(f"  {done:,}/{total:,} rows, "
                                                              f"{time.perf_counter() - start:.1f} s"), **NOTICE)
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        with app.engine.connect() as connection:
            events = connection.execute(text("SELECT count(*) FROM audit_events")).scalar_one()
            closed = connection.execute(text("SELECT count(*) FROM sellers WHERE status = 'closed'")).scalar_one()
        print(f"filed {result.filed:,} ({result.removed:,} removed), rejected {len(result.rejected):,}, "
              f"{len(result.notice_ids)} notices, {closed:,} storefronts closed, {events:,} audit events")
        if args.verify:
            with app.uow() as uow:
                counted, problem = verify_log(uow.session)
            print(f"audit chain: {counted:,} events, {'intact' if problem is None else problem}")
        rate = args.rows / elapsed
        print(f"| {args.database} | {args.rows:,} | {args.sellers} | {base:,.1f} /s | {rate:,.0f} /s | "
              f"{rate / base:,.0f}x | {elapsed:.0f} s | {cpu:.0f} s | {os.getloadavg()[0]:.1f} |")


if __name__ == "__main__":
    main()
