"""The snapshot generator: deterministic, every scenario in its documented share, every
record in the FORMATS.md shapes, labels that match the listings, rings that really link."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from assay.demo.generator import (
    EVERYDAY_WORDS,
    PHOTO_LISTINGS,
    SCENARIOS,
    TAXONOMY,
    GenerationSummary,
    generate,
)
from assay.domain.identity import IdentityKey, TraderIdentity, identity_keys

N = 2000
SEED = 20260301
IDENTITY_FIELDS = ("legal_name", "email", "phone", "address", "tax_id", "payment_account")
INFRINGING = {s.name: s.infringing for s in SCENARIOS}


class Snapshot:
    def __init__(self, out: Path, labels: Path, summary: GenerationSummary) -> None:
        self.out, self.summary = out, summary
        self.brands = _jsonl(out / "brands.jsonl")
        self.sellers = _jsonl(out / "sellers.jsonl")
        self.listings = _jsonl(out / "listings.jsonl")
        self.labels = _jsonl(labels)
        self.fx = json.loads((out / "fx.json").read_text(encoding="utf-8"))
        self.brand = {b["brand_id"]: b for b in self.brands}
        self.seller = {s["seller_id"]: s for s in self.sellers}
        self.label = {x["listing_id"]: x for x in self.labels}

    def cases(self, case: str) -> list[dict[str, Any]]:
        return [x for x in self.listings if self.label[x["listing_id"]]["case"] == case]


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    base = tmp_path_factory.mktemp("gen")
    summary = generate(base / "snap", listings=N, seed=SEED, labels=base / "labels.jsonl")
    return Snapshot(base / "snap", base / "labels.jsonl", summary)


# -- determinism --------------------------------------------------------------------------------


def test_the_same_seed_writes_the_same_bytes(snap: Snapshot, tmp_path: Path) -> None:
    again = generate(tmp_path / "snap", listings=N, seed=SEED, labels=tmp_path / "labels.jsonl")
    first, second = _tree(snap.out), _tree(tmp_path / "snap")
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []
    assert (snap.out.parent / "labels.jsonl").read_bytes() == (tmp_path / "labels.jsonl").read_bytes()
    assert again.scenarios == snap.summary.scenarios and again.rings == snap.summary.rings


def test_another_seed_writes_another_world(tmp_path: Path) -> None:
    generate(tmp_path / "a", listings=300, seed=1, images=False)
    generate(tmp_path / "b", listings=300, seed=2, images=False)
    for name in ("brands.jsonl", "sellers.jsonl", "listings.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes()


# -- scenarios ---------------------------------------------------------------------------------


def test_every_scenario_is_present_in_its_documented_share(snap: Snapshot) -> None:
    assert N <= PHOTO_LISTINGS  # every listing may carry photos, so the documented mix applies
    counts = Counter(x["case"] for x in snap.labels)
    assert counts == Counter(snap.summary.scenarios)
    total = sum(s.weight for s in SCENARIOS)
    for s in SCENARIOS:
        expected = s.weight / total
        tolerance = 4 * math.sqrt(expected * (1 - expected) / N) + 0.005
        assert counts[s.name] > 0, s.name
        assert abs(counts[s.name] / N - expected) < tolerance, (s.name, counts[s.name] / N, expected)
    infringing = sum(1 for x in snap.labels if x["infringing"]) / N
    assert 0.15 <= infringing <= 0.25


def test_scenarios_are_what_they_say(snap: Snapshot) -> None:
    marks = {b["brand_id"]: {b["name"].casefold(), *(m.casefold() for m in b["marks"])} for b in snap.brands}
    all_marks = set().union(*marks.values())
    for listing in snap.listings:
        label = snap.label[listing["listing_id"]]
        case, brand = label["case"], snap.brand.get(label["brand_id"] or "")
        authorized = brand is not None and listing["seller_id"] in brand["authorized_sellers"]
        words = set(re.findall(r"\w+", listing["title"].casefold()))
        if case == "authorized_reseller":
            assert authorized, listing
        elif brand is not None:
            assert not authorized, listing
        if case in ("unbranded_cheap", "innocent_replica"):
            assert label["brand_id"] is None and not words & all_marks, listing
        else:
            assert brand is not None, listing
        if case == "everyday_word":
            assert brand["name"] in EVERYDAY_WORDS and brand["name"].casefold() in words
            assert listing["category"] not in brand["categories"], listing
        if case == "stolen_image":
            assert listing["images"] and all(p.startswith("images/listings/") for p in listing["images"])
        if case == "ring_member":
            ring = next(r for r in snap.summary.rings if listing["seller_id"] in r)
            assert any(snap.seller[s]["status"] == "banned" for s in ring)
            assert snap.seller[listing["seller_id"]]["status"] == "active"


def test_counterfeits_are_priced_far_below_the_catalog(snap: Snapshot) -> None:
    for listing in snap.cases("blatant_counterfeit"):
        brand = snap.brand[snap.label[listing["listing_id"]]["brand_id"]]
        top = max(p["msrp"] * snap.fx[p["currency"]] for p in brand["products"])
        assert listing["price"] * snap.fx[listing["currency"]] <= 0.25 * top, listing


def test_stolen_photos_are_edited_copies_not_the_files_themselves(snap: Snapshot) -> None:
    official = {(snap.out / p).read_bytes() for b in snap.brands for prod in b["products"] for p in prod["images"]}
    stolen = [p for x in snap.cases("stolen_image") for p in x["images"]]
    assert stolen and not {(snap.out / p).read_bytes() for p in stolen} & official


# -- FORMATS.md ------------------------------------------------------------------------------


def _check_image_path(out: Path, path: Any) -> None:
    assert isinstance(path, str) and path and "\\" not in path and not path.startswith("/"), path
    assert ".." not in path.split("/"), path
    resolved = (out / path).resolve()
    assert resolved.is_relative_to(out.resolve()) and resolved.is_file(), path


def test_fx_gives_dollars_per_unit(snap: Snapshot) -> None:
    assert snap.fx["USD"] == 1.0
    assert all(re.fullmatch(r"[A-Z]{3}", c) and isinstance(v, float) and v > 0 for c, v in snap.fx.items())


def test_every_brand_conforms(snap: Snapshot) -> None:
    assert len(snap.brand) == len(snap.brands) == snap.summary.files["brands.jsonl"]
    for b in snap.brands:
        assert list(b) == ["brand_id", "name", "owner", "marks", "categories", "products", "authorized_sellers"]
        assert all(isinstance(b[k], str) and b[k] for k in ("brand_id", "name", "owner"))
        assert b["marks"] and all(isinstance(m, str) and m for m in b["marks"]) and b["name"].upper() in b["marks"]
        assert b["categories"] and set(b["categories"]) <= set(TAXONOMY)
        assert b["authorized_sellers"] and set(b["authorized_sellers"]) <= set(snap.seller)
        assert b["products"]
        for p in b["products"]:
            assert list(p) == ["sku", "title", "category", "msrp", "currency", "images"]
            assert isinstance(p["sku"], str) and isinstance(p["title"], str) and p["category"] in b["categories"]
            assert isinstance(p["msrp"], (int, float)) and not isinstance(p["msrp"], bool) and p["msrp"] > 0
            assert p["currency"] in snap.fx and p["images"]
            for path in p["images"]:
                _check_image_path(snap.out, path)
        assert len({p["sku"] for p in b["products"]}) == len(b["products"])


def test_every_seller_conforms(snap: Snapshot) -> None:
    assert len(snap.seller) == len(snap.sellers)
    for s in snap.sellers:
        assert list(s) == ["seller_id", "marketplace", "store_name", "registered_at", "status", "identity"]
        assert all(isinstance(s[k], str) and s[k] for k in ("seller_id", "marketplace", "store_name"))
        assert datetime.fromisoformat(s["registered_at"]).tzinfo is not None
        assert s["status"] in ("active", "banned")
        assert list(s["identity"]) == list(IDENTITY_FIELDS)
        assert all(v is None or isinstance(v, str) for v in s["identity"].values())


def test_every_listing_conforms(snap: Snapshot) -> None:
    ids = [x["listing_id"] for x in snap.listings]
    assert len(ids) == N == len(set(ids)) == snap.summary.listings
    for x in snap.listings:
        assert list(x) == ["listing_id", "marketplace", "seller_id", "title", "description", "category", "price",
                           "currency", "images", "created_at"]
        assert all(isinstance(x[k], str) for k in ("listing_id", "marketplace", "seller_id", "title",
                                                   "description", "category", "created_at"))
        assert x["title"].strip() and x["category"] in TAXONOMY
        assert isinstance(x["price"], (int, float)) and not isinstance(x["price"], bool) and x["price"] > 0
        assert re.fullmatch(r"[A-Z]{3}", x["currency"]) and x["currency"] in snap.fx
        seller = snap.seller[x["seller_id"]]
        assert x["marketplace"] == seller["marketplace"]
        created = datetime.fromisoformat(x["created_at"])
        assert created.tzinfo is not None and created > datetime.fromisoformat(seller["registered_at"])
        assert isinstance(x["images"], list) and len(x["images"]) <= 2
        for path in x["images"]:
            _check_image_path(snap.out, path)


def test_no_stray_image_files(snap: Snapshot) -> None:
    referenced = {p for b in snap.brands for prod in b["products"] for p in prod["images"]}
    referenced |= {p for x in snap.listings for p in x["images"]}
    on_disk = {p.relative_to(snap.out).as_posix() for p in (snap.out / "images").rglob("*") if p.is_file()}
    assert on_disk == referenced and snap.summary.images == len(on_disk)


def test_labels_match_the_listings(snap: Snapshot) -> None:
    assert [x["listing_id"] for x in snap.labels] == [x["listing_id"] for x in snap.listings]
    for x in snap.labels:
        assert list(x) == ["listing_id", "infringing", "brand_id", "case"]
        assert x["case"] in INFRINGING and x["infringing"] is INFRINGING[x["case"]]
        assert x["brand_id"] is None or x["brand_id"] in snap.brand


# -- rings -------------------------------------------------------------------------------------


def _keys(seller: dict[str, Any]) -> frozenset[IdentityKey]:
    return identity_keys(TraderIdentity(**seller["identity"]))


def test_rings_share_an_identity_written_differently(snap: Snapshot) -> None:
    rings = snap.summary.rings
    assert rings and snap.summary.exposed_rings
    for ring in rings:
        assert 2 <= len(ring) <= 5
        members = [snap.seller[s] for s in ring]
        common = frozenset.intersection(*(_keys(m) for m in members))
        assert common, ring
        for key in common:
            raw = [m["identity"][key.kind.value] for m in members]
            assert len(set(raw)) == len(raw), raw  # the same value, never written the same way
    for index in snap.summary.exposed_rings:
        statuses = {snap.seller[s]["status"] for s in rings[index]}
        assert statuses == {"active", "banned"}


def test_only_ring_members_are_linked(snap: Snapshot) -> None:
    ring_of = {s: i for i, ring in enumerate(snap.summary.rings) for s in ring}
    holders: dict[IdentityKey, set[str]] = {}
    for s in snap.sellers:
        for key in _keys(s):
            holders.setdefault(key, set()).add(s["seller_id"])
    for key, sellers in holders.items():
        if len(sellers) > 1:
            assert len({ring_of.get(s, s) for s in sellers}) == 1, (key, sellers)


# -- without images --------------------------------------------------------------------------


def test_without_images_nothing_is_drawn(tmp_path: Path) -> None:
    summary = generate(tmp_path / "snap", listings=400, seed=5, images=False, labels=tmp_path / "labels.jsonl")
    assert not (tmp_path / "snap" / "images").exists() and summary.images == 0
    assert all(p["images"] == [] for b in _jsonl(tmp_path / "snap" / "brands.jsonl") for p in b["products"])
    assert all(x["images"] == [] for x in _jsonl(tmp_path / "snap" / "listings.jsonl"))
    assert summary.scenarios["stolen_image"] == 0  # a photo cannot be stolen where there is none
    assert sum(summary.scenarios.values()) == 400


def test_brand_count_scales_and_can_be_set(tmp_path: Path) -> None:
    assert generate(tmp_path / "a", listings=10, seed=3, images=False).files["brands.jsonl"] == 8
    assert generate(tmp_path / "b", listings=10, seed=3, images=False, brands=30).files["brands.jsonl"] == 30
    brands = _jsonl(tmp_path / "b" / "brands.jsonl")
    assert len({b["brand_id"] for b in brands}) == 30
    assert any(b["name"] in EVERYDAY_WORDS for b in brands) and any(b["name"] not in EVERYDAY_WORDS for b in brands)


def test_everyday_word_phrases_use_only_their_own_brand_word() -> None:
    words = {w.casefold() for w in EVERYDAY_WORDS}
    for word, phrases in EVERYDAY_WORDS.items():
        for text, category in phrases:
            found = set(re.findall(r"[a-z]+", text.casefold())) & words
            assert found == {word.casefold()} and category in TAXONOMY, text
