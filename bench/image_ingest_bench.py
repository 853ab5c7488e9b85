"""What fingerprinting photos costs `assay ingest`, against hashing each file once (sha256 + PDQ).

    .venv/bin/python bench/image_ingest_bench.py --listings 3000 --database sqlite
    .venv/bin/python bench/image_ingest_bench.py --snapshot SNAP   # an existing snapshot with photos

The baseline, measured in the same run on the same files, is the work ingest did for an
image before it stored the photo views: read the file, its SHA-256 and one PDQ hash. Then
`assay ingest --no-scan` loads the whole snapshot in a child process (fresh database,
start-up included), and loads it a second time (everything is stored: nothing is computed
again). Figures are distinct image files per second of CPU time (user + system), the
machine being shared; wall time and the load average are printed beside them."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from databases import fresh_database  # bench/databases.py, beside this script
from PIL import Image

from assay.demo.generator import generate
from assay.services.images import pdq_hex


def image_files(snapshot: Path) -> tuple[list[Path], int]:
    """The distinct image files the snapshot's records name, and how many are catalog photos."""
    official: set[str] = set()
    listed: set[str] = set()
    with (snapshot / "brands.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            official.update(path for product in json.loads(line)["products"] for path in product["images"])
    with (snapshot / "listings.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            listed.update(json.loads(line)["images"])
    return [snapshot / path for path in sorted(official | listed)], len(official)


def baseline_seconds(files: list[Path]) -> float:
    """CPU seconds to read each file, take its SHA-256 and one PDQ hash."""
    start = time.process_time()
    for path in files:
        hashlib.sha256(path.read_bytes()).hexdigest()
        with Image.open(path) as image:
            pdq_hex(image)
    return time.process_time() - start


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ingest_seconds(url: str, snapshot: Path, workers: int | None) -> tuple[float, float]:
    """CPU and wall seconds of one `assay ingest --no-scan` of the snapshot, in a child process
    (its worker processes' CPU included)."""
    env = {**os.environ, "ASSAY_DATABASE_URL": url}
    cpu, start = child_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "assay", "ingest", str(snapshot), "--no-scan",
                    *([f"--workers={workers}"] if workers else [])], check=True, env=env, capture_output=True)
    return child_cpu() - cpu, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--snapshot", type=Path, help="an existing snapshot with photos (else one is generated)")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--workers", type=int, help="`assay ingest --workers` (default: one per core)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="assay-bench-") as tmp:
        workdir = Path(tmp)
        snapshot = args.snapshot
        if snapshot is None:
            snapshot = workdir / "snapshot"
            generate(snapshot, listings=args.listings, seed=args.seed, images=True)
        files, official = image_files(snapshot)
        base = baseline_seconds(files)
        url = fresh_database(args.database, workdir, "images")
        subprocess.run([sys.executable, "-m", "assay", "db", "upgrade"], check=True, capture_output=True,
                       env={**os.environ, "ASSAY_DATABASE_URL": url})
        first_cpu, first_wall = ingest_seconds(url, snapshot, args.workers)
        again_cpu, again_wall = ingest_seconds(url, snapshot, args.workers)
        n = len(files)
        print(f"{n:,} distinct image files ({official} catalog photos), load average {os.getloadavg()[0]:.1f}")
        print("| database | baseline: sha256 + PDQ alone | `assay ingest`, first load | again, nothing new |")
        print(f"| {args.database} | {n / base:,.0f} images/s ({base:.1f} s CPU) | "
              f"{n / first_cpu:,.0f} images/s ({first_cpu:.1f} s CPU, {first_wall:.1f} s wall) | "
              f"{n / again_cpu:,.0f} images/s ({again_cpu:.1f} s CPU, {again_wall:.1f} s wall) |")


if __name__ == "__main__":
    main()
