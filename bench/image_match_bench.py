"""PDQ matching throughput: the faiss-backed HashBank against brute force in numpy, same run.

    .venv/bin/python bench/image_match_bench.py                       # banks of 100k and 1M
    .venv/bin/python bench/image_match_bench.py --sizes 1000000 --queries 5000

Each bank holds random 256-bit hashes; a quarter of the queries are planted near-duplicates
of bank entries (0-31 bits flipped, so they match), the rest are random (they match nothing,
which is the common case when scanning listings). For each size, both index kinds are timed
(the one the bank picks by itself is marked "auto"): `HashBank.search` end to end, from hex
strings to `Match` objects, with faiss on 1 thread (the per-core figure) and on 2; the
numpy baseline (`brute_force`, single-threaded like all of numpy's element-wise work) runs on
the first `--baseline-queries` queries, and the bank's results on those must equal it.
Prints one markdown table row per bank and index kind.
"""

from __future__ import annotations

import argparse
import gc
import os
import time

import numpy as np

from assay.detection.images import (
    MULTIHASH_MIN_SIZE,
    PDQ_MATCH_DISTANCE,
    HashBank,
    array_to_hexes,
    brute_force,
    get_threads,
    set_threads,
)

KINDS = {"flat": 10**12, "multihash": 0}  # multihash_min_size that forces each kind


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def make_data(size: int, queries: int, planted_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    bank = rng.integers(0, 256, size=(size, 32), dtype=np.uint8)
    planted = int(queries * planted_fraction)
    query = rng.integers(0, 256, size=(queries, 32), dtype=np.uint8)
    bits = np.unpackbits(bank[rng.integers(0, size, size=planted)], axis=1)
    for row in bits:
        row[rng.choice(256, size=int(rng.integers(0, PDQ_MATCH_DISTANCE + 1)), replace=False)] ^= 1
    query[:planted] = np.packbits(bits, axis=1)
    return bank, query[rng.permutation(queries)]


def best_qps(bank: HashBank, query_hexes: list[str], repeats: int) -> tuple[float, int]:
    best = float("inf")
    matches = 0
    for _ in range(repeats):
        start = time.perf_counter()
        results = bank.search(query_hexes)
        best = min(best, time.perf_counter() - start)
        matches = sum(map(len, results))
    return len(query_hexes) / best, matches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--planted-fraction", type=float, default=0.25)
    parser.add_argument("--baseline-queries", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPUs (load average {load}); faiss threads at start: {get_threads()};")
    print(f"{args.queries} queries a run,", end=" ")
    print(f"{args.planted_fraction:.0%} of them planted within distance {PDQ_MATCH_DISTANCE}; best of {args.repeats}.")
    print()
    print(
        "| bank | index | build s | bank RSS MB | HashBank q/s, 1 thread | HashBank q/s, 2 threads "
        "| numpy brute force q/s | speed-up per core | matches | equal to brute force |"
    )
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for size in args.sizes:
        codes, queries = make_data(size, args.queries, args.planted_fraction, args.seed)
        entries = list(zip(array_to_hexes(codes), (f"product:bench/{i}" for i in range(size)), strict=True))
        query_hexes = array_to_hexes(queries)
        sample = queries[: args.baseline_queries]
        start = time.perf_counter()
        oracle = brute_force(codes, sample, PDQ_MATCH_DISTANCE)
        baseline_qps = len(sample) / (time.perf_counter() - start)
        auto_kind = "multihash" if size > MULTIHASH_MIN_SIZE else "flat"
        for kind, min_size in KINDS.items():
            gc.collect()
            before = rss_mb()
            start = time.perf_counter()
            bank = HashBank.build(entries, multihash_min_size=min_size)
            build_s = time.perf_counter() - start
            index_mb = rss_mb() - before
            set_threads(1)
            qps1, matches = best_qps(bank, query_hexes, args.repeats)
            set_threads(2)
            qps2, _ = best_qps(bank, query_hexes, args.repeats)
            got = [
                [(int(m.ref.rsplit("/", 1)[1]), m.distance) for m in row]
                for row in bank.search(array_to_hexes(sample), k=None)
            ]
            label = f"{kind} (auto)" if kind == auto_kind else kind
            print(
                f"| {size:,} | {label} | {build_s:.1f} | {index_mb:,.0f} | {qps1:,.0f} | {qps2:,.0f} "
                f"| {baseline_qps:,.0f} | {qps1 / baseline_qps:,.1f}x | {matches:,} | {'yes' if got == oracle else 'NO'} |",
                flush=True,
            )
            del bank


if __name__ == "__main__":
    main()
