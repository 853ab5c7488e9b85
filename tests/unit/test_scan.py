"""`assay scan` on small snapshots: the flags' format, the verdicts, the rejects, the engines."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from tests.integration.snapshots import REFERENCE_IMAGES, brand, listing, seller, write_snapshot
from typer.testing import CliRunner

from assay.cli import app
from assay.detection.activity import FEATURE, SellerActivity
from assay.detection.pipeline import OFFICIAL, ImageMatch
from assay.domain.errors import DomainError
from assay.domain.feeds import listing as parse_listing
from assay.services.scan import Rejects, build_detector, image_hashes, judge_chunk, scan

QUORVEX = brand(products=[{"sku": "S1", "title": "Quorvex Stride 1", "category": "footwear", "msrp": 149,
                           "currency": "EUR", "images": ["images/official.jpg"]}],
                authorized_sellers=["s-dealer"])
SELLERS = [seller("s-dealer"), seller("s-lux", phone="+86 138 0013 8000"), seller("s-shop"),
           seller("s-ring-old", status="banned", email="top.deals@gmail.com"),
           seller("s-ring-new", email="TopDeals+x@gmail.com"),
           {**seller("s-fresh"), "registered_at": "2025-12-10T00:00:00Z"}]  # 22 days before the newest listing
FRESH = [listing(f"FRESH-{n}", "s-fresh", title=f"QUORVEX Stride {n} sneakers", price=35, currency="USD")
         for n in range(1, 12)]
LISTINGS = [
    listing("COUNTERFEIT", "s-lux", title="QUORVEX Stride 1 replica AAA 1:1 mirror quality", price=19.9, currency="USD"),
    *FRESH[:5],
    listing("DISGUISED", "s-lux", title="QU0RV3X Stride sneakers", price=22, currency="USD"),
    listing("GENUINE", "s-dealer", title="Quorvex Stride 1 running shoe", price=149, currency="EUR"),
    listing("ACCESSORY", "s-shop", title="Replacement laces compatible with Quorvex Stride 1", price=6,
            currency="USD", category="footwear"),
    listing("USED", "s-shop", title="Quorvex Stride 1, used, worn twice, size 42", price=70, currency="EUR"),
    listing("UNBRANDED", "s-shop", title="Canvas sneakers, white", price=15, currency="USD"),
    listing("MODEL", "s-shop", title="1:18 scale diecast replica of a 1965 roadster", price=45, currency="USD",
            category="toys"),
    listing("RING", "s-ring-new", title="Quorvex Stride 1 genuine clearance", price=45, currency="USD"),
    *FRESH[5:],
]


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    return write_snapshot(tmp_path / "snap", brands=[QUORVEX], sellers=SELLERS, listings=LISTINGS,
                          fx={"EUR": 1.08}, images={"images/official.jpg": REFERENCE_IMAGES / "aaa-orig.jpg"})


def flags_of(path: Path) -> dict[str, dict]:
    return {flag["listing_id"]: flag for flag in map(json.loads, path.read_text().splitlines())}


def test_counterfeits_are_flagged_with_readable_reasons_and_honest_listings_are_not(snapshot, tmp_path):
    summary = scan(snapshot, tmp_path / "flags.jsonl", workers=1)
    flags = flags_of(tmp_path / "flags.jsonl")
    assert summary.listings == len(LISTINGS)
    for listing_id in ("COUNTERFEIT", "DISGUISED", "RING"):
        assert flags[listing_id]["verdict"] == "infringing", flags.get(listing_id)
        assert flags[listing_id]["brand_id"] == "qvx"
    for listing_id in ("GENUINE", "ACCESSORY", "USED", "UNBRANDED", "MODEL"):
        assert listing_id not in flags, flags[listing_id]
    counterfeit = flags["COUNTERFEIT"]
    assert set(counterfeit) == {"listing_id", "brand_id", "verdict", "score", "signals"}
    assert 0 <= counterfeit["score"] <= 1
    kinds = {s["kind"]: s for s in counterfeit["signals"]}
    assert {"mark", "replica_wording", "price_far_below_msrp"} <= set(kinds)
    assert all(set(s) == {"kind", "detail", "weight"} and s["detail"] for s in counterfeit["signals"])
    assert "QUORVEX" in kinds["mark"]["detail"]
    assert "leetspeak" in {s["kind"]: s for s in flags["DISGUISED"]["signals"]}["disguised_mark"]["detail"]
    assert any(s["kind"] == "seller_linked_to_banned" for s in flags["RING"]["signals"])


def test_a_new_account_listing_many_branded_items_cheaply_is_a_signal_on_each_of_its_listings(snapshot, tmp_path):
    summary = scan(snapshot, tmp_path / "flags.jsonl", workers=1)
    flags = flags_of(tmp_path / "flags.jsonl")
    fresh = [flags[f"FRESH-{n}"] for n in range(1, 12)]
    assert all(f["verdict"] == "infringing" for f in fresh)
    signal = next(s for s in fresh[0]["signals"] if s["kind"] == FEATURE)
    assert signal["weight"] > 0
    assert signal["detail"] == ("seller s-fresh's account is 22 days old and lists 11 items naming protected marks, "
                                "100% of them under 40% of the brand's catalog price")
    assert not any(s["kind"] == FEATURE for f in flags.values() if not f["listing_id"].startswith("FRESH")
                   for s in f["signals"])
    assert summary.infringing == sum(f["verdict"] == "infringing" for f in flags.values())
    assert summary.suspect == sum(f["verdict"] == "suspect" for f in flags.values())


def test_the_second_look_writes_what_judging_with_all_sellers_known_from_the_start_writes(snapshot, tmp_path):
    scan(snapshot, tmp_path / "flags.jsonl", workers=2)
    detector = build_detector(snapshot, Rejects(None))
    records = list(enumerate((parse_listing(raw, {"EUR": 1.08}) for raw in LISTINGS), start=1))
    activity = SellerActivity(detector)
    for _, record in records:
        activity.add(record)
    informed = detector.knowing(activity.signals())
    assert list(informed.seller_signals) == [("taobao", "s-fresh")]
    expected = "".join(json.dumps(flag.as_json(), ensure_ascii=False) + "\n"
                       for flag in judge_chunk(informed, snapshot, records) if flag is not None)
    assert (tmp_path / "flags.jsonl").read_text() == expected


def test_a_process_can_scan_again_after_a_second_look_at_photos(tmp_path):
    """The second look's photo searches run in worker processes, as the first look's do: faiss's
    threads, once started in a process, hang the processes it forks later."""
    noise = random.Random(7)
    photo = Image.new("RGB", (96, 96))
    photo.putdata([tuple(noise.randrange(256) for _ in range(3)) for _ in range(96 * 96)])
    photo.save(tmp_path / "photo.jpg")
    sellers = [{**seller("s-fresh"), "registered_at": "2025-12-10T00:00:00Z"}]
    listings = [listing(f"P{n}", "s-fresh", price=30, currency="USD", images=["images/official.jpg"])
                for n in range(16)]  # 16 photos in 8 orientations: more queries than faiss searches on one thread
    root = write_snapshot(tmp_path / "snap", brands=[QUORVEX], sellers=sellers, listings=listings, fx={"EUR": 1.08},
                          images={"images/official.jpg": tmp_path / "photo.jpg"})
    twice = ("from pathlib import Path; from assay.services.scan import scan\n"
             f"for n in (1, 2): scan(Path({str(root)!r}), Path({str(tmp_path)!r}) / f'{{n}}.jsonl', workers=2)")
    process = subprocess.Popen([sys.executable, "-c", twice], start_new_session=True)
    try:
        assert process.wait(timeout=120) == 0
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its hung worker processes too
        pytest.fail("the second scan hung")
    assert (tmp_path / "1.jsonl").read_text() == (tmp_path / "2.jsonl").read_text()
    assert FEATURE in (tmp_path / "1.jsonl").read_text()


def test_bad_records_go_to_the_rejects_and_never_stop_the_scan(snapshot, tmp_path):
    with (snapshot / "listings.jsonl").open("a", encoding="utf-8") as out:
        out.write(json.dumps(listing("BAD", "s-lux", price=-3)) + "\n")
        out.write("not json at all\n")
        out.write(json.dumps(LISTINGS[0]) + "\n")  # a duplicate id
    summary = scan(snapshot, tmp_path / "flags.jsonl", rejects_path=tmp_path / "rejects.jsonl", workers=1)
    rejects = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    n = len(LISTINGS)
    assert [(r["file"], r["line"]) for r in rejects] == [("listings.jsonl", n + 1), ("listings.jsonl", n + 2),
                                                         ("listings.jsonl", n + 3)]
    assert "price: must be greater than 0" in rejects[0]["reason"]
    assert "duplicate id 'COUNTERFEIT'" in rejects[2]["reason"]
    assert summary.rejected == 3 and summary.listings == n
    assert "COUNTERFEIT" in flags_of(tmp_path / "flags.jsonl")


def test_a_missing_file_or_a_file_that_is_not_json_lines_is_a_clear_error(snapshot, tmp_path):
    (snapshot / "brands.jsonl").unlink()
    with pytest.raises(DomainError, match="brands.jsonl: required file is missing"):
        scan(snapshot, tmp_path / "flags.jsonl")
    result = CliRunner().invoke(app, ["scan", str(snapshot), "--out", str(tmp_path / "f.jsonl")])
    assert result.exit_code == 1 and "required file is missing" in result.output


def test_worker_processes_give_the_same_flags_as_one_process(snapshot, tmp_path):
    scan(snapshot, tmp_path / "one.jsonl", workers=1)
    scan(snapshot, tmp_path / "two.jsonl", workers=2)
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()


def test_an_edited_copy_of_an_official_photo_is_evidence_against_an_unauthorized_seller(snapshot):
    for name in ("blur-a-lot.jpg", "high-contrast.jpg", "shrink-a-lot.jpg"):
        shutil.copy(REFERENCE_IMAGES / name, snapshot / "images" / name)
    detector = build_detector(snapshot, Rejects(None))
    copy = parse_listing(listing("COPY", "s-shop", title="running shoe", images=["images/blur-a-lot.jpg"]), None)
    [matches] = detector.image_matches([image_hashes(snapshot, copy.images)])
    evidence = detector.evidence(copy, matches)
    assert [e.feature for e in evidence["qvx"] if "photo" in e.feature] == ["official_photo_other_seller"]
    own = parse_listing(listing("OWN", "s-dealer", title="running shoe", images=["images/official.jpg"]), None)
    [matches] = detector.image_matches([image_hashes(snapshot, own.images)])
    assert [e.feature for e in detector.evidence(own, matches)["qvx"] if "photo" in e.feature] == \
        ["official_photo_authorized_seller"]


def test_a_photo_only_like_an_official_one_counts_when_its_colours_are_laid_out_alike(snapshot):
    """Another product of the same kind, shot alike, comes within PDQ distance 31 of the
    official photo; an edited copy of that photo also keeps its colours where they were."""
    detector = build_detector(snapshot, Rejects(None))
    shop = parse_listing(listing("LIKE", "s-shop", title="running shoe", price=20, currency="USD"), None)

    def photo_features(distance: int, similarity: float | None) -> list[str]:
        match = ImageMatch(OFFICIAL, "qvx", "S1", distance, "trimmed", similarity)
        return [e.feature for e in detector.evidence(shop, [match]).get("qvx", []) if "photo" in e.feature]

    assert photo_features(24, 0.99) == ["official_photo_other_seller"]
    assert photo_features(24, 0.96) == photo_features(24, None) == []
    assert photo_features(12, 0.96) == ["official_photo_other_seller"]


@pytest.mark.slow
def test_the_ray_engine_writes_exactly_what_the_local_engine_writes(snapshot, tmp_path):
    scan(snapshot, tmp_path / "local.jsonl", workers=2)
    summary = scan(snapshot, tmp_path / "ray.jsonl", engine="ray", workers=2)
    assert summary.listings == len(LISTINGS)
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    assert (tmp_path / "local.jsonl").read_text().count("\n") >= 3


def test_a_detector_survives_pickling_as_ray_ships_it(snapshot):
    import pickle

    detector = build_detector(snapshot, Rejects(None))
    copy = pickle.loads(pickle.dumps(detector))
    assert copy.images.refs == detector.images.refs
    photos = image_hashes(snapshot, ["images/official.jpg"])
    assert copy.image_matches([photos]) == detector.image_matches([photos])
    record = parse_listing(LISTINGS[0], {"EUR": 1.08})
    assert copy.judge(record) == detector.judge(record)
