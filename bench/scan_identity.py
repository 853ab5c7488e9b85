"""Does a change to the scan change what it writes? Record its outputs once, check them after.

    .venv/bin/python bench/scan_identity.py make DIR                  # the snapshots, once
    .venv/bin/python bench/scan_identity.py record DIR BASELINE       # outputs of the code as it is
    .venv/bin/python bench/scan_identity.py check DIR BASELINE [--engine ray] [--workers N]

The snapshots: 100,000 text-only listings of 10,000 brands (seed 11); 100,000 of 100 brands
(seed 11, where the new-account signal fires and the second look runs); 3,000 listings with
photos (seed 7); and 20,000 text-only listings (seed 3) into which every kind of bad record
is written (bad JSON, bad UTF-8, truncated lines, blank lines, bad fields, duplicate ids).
For each, the flags, the rejects and the summary line must stay byte for byte the same."""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from assay.demo.generator import generate
from assay.services.scan import scan

SNAPSHOTS = {  # name: (listings, seed, images, brands)
    "text-100k-10000-brands": (100_000, 11, False, 10_000),
    "text-100k-100-brands": (100_000, 11, False, 100),
    "photos-3k": (3_000, 7, True, None),
    "bad-records-20k": (20_000, 3, False, None),
}

# Lines that break the format in every way a reader must survive, with what json.loads makes of them.
BAD_LINES: list[bytes] = [
    b"not json at all\n",
    b"\n",
    b"   \t \n",
    b"\xff\xfe broken utf-8\n",
    b'{"listing_id": "X1", "title": "\xe9t\xe9"}\n',
    b"[1, 2, 3]\n",
    b'"just a string"\n',
    b"null\n",
    b'{"listing_id": "X2"\n',
    b'{"listing_id": "X3", "a": NaN}\n',
    b"\xef\xbb\xbf{}\n",
    b"{}\n",
    b'{"listing_id": "X4", "marketplace": "bazaar", "seller_id": "S1", "title": "a", "description": null, '
    b'"category": "bags", "price": 10, "currency": "USD", "images": [], "created_at": "2025-01-01T00:00:00Z"}\r\n',
]


def _listing(n: int, **change: object) -> dict[str, object]:
    base: dict[str, object] = {
        "listing_id": f"BAD{n:04d}", "marketplace": "bazaar", "seller_id": "S000001",
        "title": "QUORVEX bag replica", "description": "", "category": "bags", "price": 19.5,
        "currency": "USD", "images": [], "created_at": "2025-06-01T10:00:00Z"}
    base.update(change)
    return {k: v for k, v in base.items() if v is not _DROP}


_DROP = object()
BAD_FIELDS: list[dict[str, object]] = [
    {"title": _DROP}, {"title": ""}, {"title": 12}, {"title": None}, {"description": 3}, {"description": None},
    {"listing_id": _DROP}, {"listing_id": 7}, {"marketplace": ""}, {"seller_id": ["S1"]}, {"category": _DROP},
    {"price": -3}, {"price": 0}, {"price": "12.5"}, {"price": True}, {"price": None}, {"price": 1e308 * 10},
    {"price": 10**30}, {"price": 0.1 + 0.2}, {"currency": "usd"}, {"currency": "XXZ"}, {"currency": "JPY"},
    {"currency": 5}, {"images": "a.jpg"}, {"images": ["/etc/passwd"]}, {"images": ["../up.jpg"]},
    {"images": ["C:/x.jpg"]}, {"images": ["a\\b.jpg"]}, {"images": [1]}, {"images": ["."]}, {"images": None},
    {"created_at": "yesterday"}, {"created_at": 5}, {"created_at": "2025-02-30T00:00:00Z"},
    {"created_at": "2025-06-01"}, {"created_at": "2025-06-01T10:00:00"}, {"title": "Q\u200bUORVEX \ud800 bag"},
    {"title": "ＱＵＯＲＶＥＸ  bag\u2028line"}, {"extra": {"nested": [1, 2]}},
]


def make(root: Path) -> None:
    for name, (listings, seed, images, brands) in SNAPSHOTS.items():
        if not (root / name / "listings.jsonl").exists():
            generate(root / name, listings=listings, seed=seed, images=images, brands=brands)
    spoil(root / "bad-records-20k")


def spoil(snapshot: Path) -> None:
    """Write bad records among the good ones, at places drawn from a fixed seed; idempotent."""
    path = snapshot / "listings.jsonl"
    marker = snapshot / ".spoiled"
    if marker.exists():
        return
    lines = path.read_bytes().splitlines(keepends=True)
    draw = random.Random(5)
    bad = list(BAD_LINES)
    bad += [json.dumps(_listing(n, **change), ensure_ascii=draw.random() < 0.5).encode("utf-8", "surrogatepass")
            + b"\n" for n, change in enumerate(BAD_FIELDS)]
    bad += [lines[draw.randrange(len(lines))] for _ in range(25)]  # duplicate ids
    bad += [json.dumps(_listing(900 + n)).encode() + b"\n" for n in range(3)]  # good ones among them
    for line in bad:
        lines.insert(draw.randrange(len(lines)), line)
    lines[-1] = lines[-1].rstrip(b"\n")[:-7]  # a last line cut short
    path.write_bytes(b"".join(lines))
    with (snapshot / "sellers.jsonl").open("ab") as sellers:
        sellers.write(b'{"seller_id": "S-bad", "status": "gone"}\nnot json\n')
    with (snapshot / "brands.jsonl").open("ab") as brands:
        brands.write(b'{"brand_id": "b-bad", "marks": []}\n')
    marker.write_text("")


def outputs(root: Path, out: Path, engine: str, workers: int | None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in SNAPSHOTS:
        summary = scan(root / name, out / f"{name}.flags.jsonl", rejects_path=out / f"{name}.rejects.jsonl",
                       engine=engine, workers=workers)
        (out / f"{name}.summary.txt").write_text(summary.line() + "\n")
        print(f"{name}: {summary.line()}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("make", "record", "check"))
    parser.add_argument("root", type=Path)
    parser.add_argument("baseline", type=Path, nargs="?")
    parser.add_argument("--engine", default="local")
    parser.add_argument("--workers", type=int)
    args = parser.parse_args()
    if args.action == "make":
        make(args.root)
        return
    if args.baseline is None:
        parser.error("record and check need BASELINE")
    if args.action == "record":
        outputs(args.root, args.baseline, args.engine, args.workers)
        return
    fresh = args.baseline.with_name(args.baseline.name + f"-check-{args.engine}")
    outputs(args.root, fresh, args.engine, args.workers)
    differing = [p.name for p in sorted(args.baseline.iterdir())
                 if (fresh / p.name).read_bytes() != p.read_bytes()]
    print("identical" if not differing else f"DIFFERENT: {', '.join(differing)}")
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
