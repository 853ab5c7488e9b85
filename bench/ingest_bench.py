"""Ingest throughput and peak memory, against a naive loader measured in the same run.

    .venv/bin/python bench/ingest_bench.py --listings 100000 --database sqlite
    .venv/bin/python bench/ingest_bench.py --listings 1000000 --database postgresql

The naive loader is what one writes first: parse, validate, one ORM object and one
commit per listing. It runs on the first `--baseline` listings of the same snapshot
(a full million that way would take hours); both are reported in listings per second,
the median of `--runs` runs of each, taken in turn on fresh databases.
Loading is measured on its own (`--no-scan`); detection has its own benchmark.
`assay ingest` runs in a child process, so its peak resident memory is its own; the
last column is the peak of its processes together, sampled twice a second."""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from databases import fresh_database  # bench/databases.py, beside this script

from assay.demo.generator import generate
from assay.domain import feeds
from assay.domain.model import Listing, Marketplace, Seller
from assay.services.app import Assay
from assay.services.ingest import Ingest
from assay.store import database


def migrated(url: str) -> Assay:
    engine = database.make_engine(url)
    database.upgrade(engine)
    return Assay(engine)


def naive_rate(url: str, snapshot: Path, workdir: Path, limit: int) -> float:
    """Brands and sellers by the real loader, then listings one object and one commit each."""
    app = migrated(url)
    no_listings = workdir / "no-listings"
    no_listings.mkdir()
    for name in ("brands.jsonl", "sellers.jsonl", "fx.json"):
        (no_listings / name).symlink_to(snapshot / name)
    (no_listings / "listings.jsonl").write_text("")
    Ingest(app, no_listings, scan=False).run()
    fx = feeds.exchange_rates(json.loads((snapshot / "fx.json").read_text()))
    with app.uow() as uow:
        markets = {m.code: m.id for m in uow.repo.all(Marketplace)}
        sellers = {(s.marketplace_id, s.seller_ref): s.id for s in uow.repo.all(Seller)}
    loaded, start = 0, time.perf_counter()
    with (snapshot / "listings.jsonl").open(encoding="utf-8") as lines, app.uow("naive") as uow:
        for line in lines:
            if loaded >= limit:
                break
            record = feeds.listing(json.loads(line), fx)
            market = markets[record.marketplace]
            seller = sellers.get((market, record.seller_id))
            if seller is None:
                continue
            uow.repo.add(Listing(marketplace_id=market, listing_ref=record.listing_id, seller_id=seller,
                                 title=record.title, description=record.description, category=record.category,
                                 price=record.price, currency=record.currency, images=list(record.images),
                                 created_at=record.created_at))
            uow.commit()
            loaded += 1
    return loaded / (time.perf_counter() - start)


def assay_ingest(url: str, snapshot: Path, listings: int) -> tuple[float, float, float]:
    """Listings per second of `assay ingest` over the whole snapshot; the peak resident memory
    of its largest process, and the peak of its processes together (the one reading ahead
    included), in MB."""
    subprocess.run([sys.executable, "-m", "assay", "db", "upgrade"], env={**os.environ, "ASSAY_DATABASE_URL": url},
                   check=True, capture_output=True)
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "assay", "ingest", str(snapshot), "--no-scan"],
                               env={**os.environ, "ASSAY_DATABASE_URL": url})
    together = 0.0
    while process.poll() is None:
        together = max(together, _tree_pss_kb(process.pid))
        time.sleep(0.5)  # reading /proc costs the run little this seldom
    elapsed = time.perf_counter() - start
    if process.returncode:
        raise SystemExit(f"assay ingest failed ({process.returncode})")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return listings / elapsed, peak_kb / 1024, together / 1024


def _tree_pss_kb(pid: int) -> float:
    """The proportional resident memory of a process and its children (pages a forked child
    shares with its parent count once between them), sampled from /proc."""
    total = 0.0
    for each in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += float(line.split()[1])
        except OSError:
            pass  # it ended between the listing and the reading
    return total


def _children(pid: int) -> list[int]:
    try:
        found = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return found + [grandchild for child in found for grandchild in _children(child)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--baseline", type=int, default=3000, help="listings the naive loader loads")
    parser.add_argument("--runs", type=int, default=3, help="runs of each loader, in turn; medians are reported")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="assay-bench-") as tmp:
        workdir = Path(tmp)
        snapshot = workdir / "snapshot"
        started = time.perf_counter()
        generate(snapshot, listings=args.listings, seed=args.seed, images=False)
        print(f"generated {args.listings:,} text-only listings in {time.perf_counter() - started:.1f} s")
        bases, rates, peaks, togethers = [], [], [], []
        for n in range(args.runs):  # in turn, so that a slower spell of the machine touches both
            (workdir / f"naive-{n}").mkdir()
            bases.append(naive_rate(fresh_database(args.database, workdir, f"naive{n}"), snapshot,
                                    workdir / f"naive-{n}", args.baseline))
            rate, peak, together = assay_ingest(fresh_database(args.database, workdir, f"ingest{n}"), snapshot,
                                                args.listings)
            rates.append(rate)
            peaks.append(peak)
            togethers.append(together)
        base, rate = statistics.median(bases), statistics.median(rates)
        print("runs: naive " + ", ".join(f"{b:,.0f}" for b in bases) + " /s; assay ingest "
              + ", ".join(f"{r:,.0f}" for r in rates) + " /s")
        print(f"| {args.database} | {args.listings:,} | {base:,.0f} /s | {rate:,.0f} /s | {rate / base:.1f}x | "
              f"{args.listings / rate:.1f} s | {max(peaks):.0f} MB | {max(togethers):.0f} MB |")


if __name__ == "__main__":
    main()
