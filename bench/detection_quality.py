"""Detection quality on generated, labelled marketplaces the weights were not fitted on.

    .venv/bin/python bench/detection_quality.py --seeds 1 2 3 --listings 20000

For each seed: generate a snapshot with labels, run `assay scan` on it, and compare.
Prints precision, recall and F1 of `infringing`, recall of infringing + suspect,
brand attribution (of true positives, the share naming the right brand), the
false-positive rate (`infringing` verdicts) on each honest scenario, and listings/s."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

from assay.demo.generator import generate
from assay.services.scan import scan

HONEST = ("authorized_reseller", "second_hand", "accessory", "everyday_word", "unbranded_cheap", "innocent_replica")


def evaluate(flags_path: Path, labels_path: Path) -> dict[str, float]:
    flags = {f["listing_id"]: f for f in map(json.loads, flags_path.read_text().splitlines())}
    labels = list(map(json.loads, labels_path.read_text().splitlines()))
    tp = fp = fn = caught = right_brand = 0
    honest_total: Counter[str] = Counter()
    honest_false: Counter[str] = Counter()
    for label in labels:
        flag = flags.get(label["listing_id"])
        infringing_verdict = flag is not None and flag["verdict"] == "infringing"
        if label["infringing"]:
            caught += flag is not None
            if infringing_verdict:
                tp += 1
                right_brand += flag["brand_id"] == label["brand_id"]
            else:
                fn += 1
        else:
            fp += infringing_verdict
            honest_total[label["case"]] += 1
            honest_false[label["case"]] += infringing_verdict
    positives = tp + fn
    result = {
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / positives if positives else 0.0,
        "recall_with_suspect": caught / positives if positives else 0.0,
        "brand_accuracy": right_brand / tp if tp else 0.0,
    }
    result["f1"] = 2 * result["precision"] * result["recall"] / (result["precision"] + result["recall"] or 1)
    for case in HONEST:
        result[f"fp_{case}"] = honest_false[case] / honest_total[case] if honest_total[case] else 0.0
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--listings", type=int, default=20_000)
    parser.add_argument("--no-images", action="store_true")
    args = parser.parse_args()
    header = ["seed", "precision", "recall", "F1", "recall +suspect", "brand", *(f"FP {c}" for c in HONEST), "listings/s"]
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for seed in args.seeds:
        with tempfile.TemporaryDirectory(prefix="assay-quality-") as tmp:
            root, labels, flags = Path(tmp) / "snap", Path(tmp) / "labels.jsonl", Path(tmp) / "flags.jsonl"
            generate(root, listings=args.listings, seed=seed, labels=labels, images=not args.no_images)
            started = time.perf_counter()
            summary = scan(root, flags)
            rate = summary.listings / (time.perf_counter() - started)
            r = evaluate(flags, labels)
        cells = [str(seed), f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['f1']:.3f}",
                 f"{r['recall_with_suspect']:.3f}", f"{r['brand_accuracy']:.3f}",
                 *(f"{r['fp_' + c]:.2%}" for c in HONEST), f"{rate:,.0f}"]
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
