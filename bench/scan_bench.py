"""Scan throughput against two baselines measured in the same run.

    .venv/bin/python bench/scan_bench.py --listings 300000 --brands 10000
    .venv/bin/python bench/scan_bench.py --listings 300000 --brands 100

Baselines: merely parsing `listings.jsonl` (json.loads per line), and a naive scanner:
one regular expression per brand, tried on every listing in a Python loop (run on a
sample and reported per listing). `assay scan` runs with both cores, start-up and
writing the flags included; its peak resident memory and the CPU time of it and its
workers are measured as a child process. Both the scan and the parsing baseline parse
with the standard library's `json`."""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from assay.demo.generator import generate


def parse_rate(path: Path) -> float:
    started, n = time.perf_counter(), 0
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            json.loads(line)
            n += 1
    return n / (time.perf_counter() - started)


def naive_rate(root: Path, sample: int) -> float:
    brands = [json.loads(line) for line in (root / "brands.jsonl").open(encoding="utf-8")]
    patterns = [re.compile(r"\b(" + "|".join(map(re.escape, b["marks"])) + r")\b", re.IGNORECASE) for b in brands]
    started, n, hits = time.perf_counter(), 0, 0
    with (root / "listings.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            if n >= sample:
                break
            listing = json.loads(line)
            text = f"{listing['title']} {listing['description']}"
            hits += sum(1 for pattern in patterns if pattern.search(text))
            n += 1
    return n / (time.perf_counter() - started)


def assay_rate(root: Path, listings: int, engine: str = "local") -> tuple[float, float, float]:
    """Listings per second (wall), peak resident MB, and CPU seconds of the scan and its workers."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "assay", "scan", str(root), "--out", str(root / f"flags-{engine}.jsonl"),
                    "--engine", engine], check=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return listings / elapsed, after.ru_maxrss / 1024, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=300_000)
    parser.add_argument("--brands", type=int, default=10_000)
    parser.add_argument("--naive-sample", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--ray", action="store_true", help="also run the Ray engine and report its overhead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="assay-scan-bench-") as tmp:
        root = Path(tmp) / "snap"
        generate(root, listings=args.listings, seed=args.seed, images=False, brands=args.brands)
        parse = parse_rate(root / "listings.jsonl")
        naive = naive_rate(root, args.naive_sample)
        rate, peak, cpu = assay_rate(root, args.listings)
        if args.ray:
            ray_rate, _, _ = assay_rate(root, args.listings, "ray")
            same = (root / "flags-ray.jsonl").read_bytes() == (root / "flags-local.jsonl").read_bytes()
            print(f"ray engine: {ray_rate:,.0f} /s against local {rate:,.0f} /s "
                  f"({rate / ray_rate:.2f}x the time); identical flags: {same}")
    print(f"| {args.listings:,} | {args.brands:,} | {parse:,.0f} /s | {naive:,.0f} /s | {rate:,.0f} /s | "
          f"{rate / naive:.1f}x | {parse / rate:.1f}x | {peak:.0f} MB |")
    print(f"scan: {cpu:.1f} s of CPU (driver and workers), {cpu / args.listings * 1e6:.0f} µs a listing; "
          f"parsing alone: {args.listings / parse:.2f} s")


if __name__ == "__main__":
    main()
