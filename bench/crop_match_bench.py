"""How often an edited copy of an official photo is found again, and how often an unrelated photo is.

    .venv/bin/python bench/crop_match_bench.py --copies 600

Generates a small marketplace (its brands' official catalog photos), then draws `--copies`
edited copies of those photos with the generator's own `derived` edits (crop, border, small
rotation, mirror, brightness, contrast, watermark, JPEG) and as many unrelated photos (the
generator's own photos of unbranded goods and of second-hand goods, in every category). Each
photo is looked up in the bank of official photos the way `assay scan` does, and the share
found is printed: copies found with their source product, copies found with the wrong one,
and unrelated photos found at all, within PDQ distance 31 and within the close-copy distance 16.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from assay.demo.generator import _CATS, _Painter, generate
from assay.detection.images import Photo
from assay.detection.pipeline import CLOSE_COPY, Detector
from assay.services.scan import Rejects, build_detector, image_hashes


def lookup(detector: Detector, photos: list[tuple[Photo, ...]]) -> list[tuple[set[str], int] | None]:
    """For each photo, the refs of the official photos it is taken for and their distance, or None."""
    out: list[tuple[set[str], int] | None] = []
    for found in detector.image_matches(photos):
        out.append(({f"{m.kind}:{m.brand_id}:{m.ref}" for m in found}, found[0].distance) if found else None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=600)
    parser.add_argument("--listings", type=int, default=20_000, help="sets the number of brands, as in a scan")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="assay-crop-") as tmp:
        root = Path(tmp) / "snap"
        generate(root, listings=0, seed=args.seed, brands=max(8, args.listings // 500))
        detector = build_detector(root, Rejects(None))
        bank = detector.images
        assert bank is not None
        sources = sorted(set(bank.hashes.refs))
        by_ref: dict[str, list[str]] = {}
        import json

        for line in (root / "brands.jsonl").read_text().splitlines():
            brand = json.loads(line)
            for product in brand["products"]:
                by_ref[f"official:{brand['brand_id']}:{product['sku']}"] = product["images"]
        painter = _Painter(root, args.seed)
        rnd = random.Random(args.seed)
        copies, truth = [], []
        for i in range(args.copies):
            ref = rnd.choice(sources)
            rel = f"copies/{i}.jpg"
            painter.derived(rel, rnd.choice(by_ref[ref]))
            copies.append(rel)
            truth.append(ref)
        unrelated = []
        for i in range(args.copies):
            rel = f"unrelated/{i}.jpg"
            colours = tuple(tuple(rnd.randrange(256) for _ in range(3)) for _ in range(2))
            style = rnd.choice(("home", "used"))
            painter.product(rel, rnd.choice(sorted(_CATS)), colours, None, style)
            unrelated.append(rel)
        started = time.perf_counter()
        copy_hashes = [image_hashes(root, [rel]) for rel in copies]
        other_hashes = [image_hashes(root, [rel]) for rel in unrelated]
        per_photo_ms = 1000 * (time.perf_counter() - started) / (2 * args.copies)
        found = lookup(detector, copy_hashes)
        false = lookup(detector, other_hashes)
    right = sum(1 for f, t in zip(found, truth, strict=True) if f and t in f[0])
    right_close = sum(1 for f, t in zip(found, truth, strict=True) if f and t in f[0] and f[1] <= CLOSE_COPY)
    wrong = sum(1 for f, t in zip(found, truth, strict=True) if f and t not in f[0])
    wrong_brand = sum(1 for f, t in zip(found, truth, strict=True) if f and t.split(":")[1] not in {r.split(":")[1] for r in f[0]})
    n = args.copies
    print(f"bank: {len(bank):,} hashes of {len(sources):,} products; {per_photo_ms:.1f} ms to hash a photo")
    print(f"copies found with their source: {right / n:.1%} (within {CLOSE_COPY}: {right_close / n:.1%}); "
          f"with another product: {wrong / n:.1%} (another brand: {wrong_brand / n:.1%}); "
          f"unrelated photos found: {sum(1 for f in false if f) / n:.1%} "
          f"(within {CLOSE_COPY}: {sum(1 for f in false if f and f[1] <= CLOSE_COPY) / n:.1%})")


if __name__ == "__main__":
    main()
