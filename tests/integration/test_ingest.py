"""`assay ingest`: every FORMATS.md rule, idempotence, updates, and crash safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select, text
from tests.integration.snapshots import (
    REFERENCE_IMAGE,
    REFERENCE_IMAGES,
    big_snapshot,
    brand,
    listing,
    seller,
    write_jsonl,
    write_snapshot,
)

from assay.domain.errors import DomainError
from assay.services.ingest import Ingest, write_rejects
from assay.store.tables import feed_changes, images, ingest_runs, listings, products, sellers


def ingest(app, root: Path, **kw):
    summary = Ingest(app, root, **kw).run()
    target = root / "rejects.jsonl"
    write_rejects(app, summary.run_id, target)
    rejects = [json.loads(line) for line in target.read_text().splitlines()] if target.exists() else []
    return summary, rejects


def rows(app, table, *columns, order=None):
    with app.engine.connect() as connection:
        query = select(*(table.c[c] for c in columns)).order_by(*(table.c[c] for c in (order or columns[:1])))
        return [tuple(r) for r in connection.execute(query)]


BAD_LISTINGS = [
    (listing("B1", price="12"), "price: expected a number, got str"),
    (listing("B2", title=None), "title: required"),
    ({k: v for k, v in listing("B3").items() if k != "seller_id"}, "seller_id: required"),
    (listing("B4", price=-5), "price: must be greater than 0, got -5"),
    (listing("B5", price=0), "price: must be greater than 0, got 0"),
    (listing("B6", currency="ABC"), "currency: 'ABC' is not an ISO 4217 currency code"),
    (listing("B7", currency="JPY"), "currency: JPY has no rate in fx.json"),
    (listing("B8", images=["../outside.jpg"]), "images[0]: '../outside.jpg' is not a path inside the snapshot"),
    (listing("B9", images=["/etc/passwd"]), "images[0]: '/etc/passwd' is not a path inside the snapshot"),
    (listing("B10", images=["images/../../x.jpg"]), "images[0]: 'images/../../x.jpg' is not a path inside the snapshot"),
    (listing("B11", images="images/a.jpg"), "images: expected a list of strings"),
    (listing("B12", created_at="yesterday"), "created_at: 'yesterday' is not an ISO 8601 date-time"),
    (listing("B13", seller_id="ghost"), "seller_id: 'ghost' is not a seller on taobao"),
    (listing("B14", images=["images/missing.jpg"]), "images: 'images/missing.jpg' is not a file in the snapshot"),
    (listing("L1", title="the same id again"), "duplicate id 'L1': an earlier line has it"),
    ("[1, 2, 3]", "expected a JSON object, got list"),
    ("{not json", "invalid JSON"),
]


@pytest.mark.parametrize("workers", [1, 2], ids=["reading-here", "reading-ahead"])
def test_every_bad_record_is_rejected_with_file_line_and_reason_and_the_rest_load(app, tmp_path, workers):
    records = [listing("L1")] + [bad for bad, _ in BAD_LISTINGS] + [listing("L2")]
    root = write_snapshot(tmp_path / "snap", listings=records, fx={"EUR": 1.08})
    with (root / "listings.jsonl").open("ab") as out:
        out.write(b'{"listing_id": "L3", "title": "caf\xe9"}\n')  # Latin-1, not UTF-8
        out.write(b'{"listing_id": "L4", "marketplace": "tao')  # the last line, cut short
    summary, rejects = ingest(app, root, workers=workers, batch_size=3)
    expected = [(n + 2, why) for n, (_, why) in enumerate(BAD_LISTINGS)]
    last = len(records)
    expected += [(last + 1, "not UTF-8"), (last + 2, "truncated line")]
    assert [(r["file"], r["line"]) for r in rejects] == [("listings.jsonl", n) for n, _ in expected]
    for reject, (_, why) in zip(rejects, expected, strict=True):
        assert why in reject["reason"]
    assert summary.counts["listings"].created == 2
    assert summary.counts["listings"].rejected == len(expected)
    assert rows(app, listings, "listing_ref") == [("L1",), ("L2",)]


def test_bad_brands_and_sellers_are_rejected_too(app, tmp_path):
    root = write_snapshot(
        tmp_path / "snap",
        brands=[brand(), brand("b2", marks=[]), brand("b3", products=[{"sku": "x", "title": "t", "category": "c",
                                                                          "msrp": "1", "currency": "EUR"}])],
        sellers=[seller("s-dealer"), seller("s2", status="suspended"), {**seller("s3"), "identity": None},
                 {**seller("s4"), "registered_at": 5}],
    )
    _, rejects = ingest(app, root)
    assert [(r["file"], r["line"], r["reason"]) for r in rejects] == [
        ("brands.jsonl", 2, "marks: must not be empty"),
        ("brands.jsonl", 3, "products[0].msrp: expected a number, got str"),
        ("sellers.jsonl", 2, "status: 'suspended' is neither 'active' nor 'banned'"),
        ("sellers.jsonl", 3, "identity: expected an object"),
        ("sellers.jsonl", 4, "registered_at: expected a string, got int"),
    ]


@pytest.mark.parametrize("broken", ["missing", "not_jsonl"])
def test_a_missing_file_or_one_that_is_not_json_lines_stops_with_a_clear_error(app, tmp_path, broken):
    root = write_snapshot(tmp_path / "snap")
    if broken == "missing":
        (root / "sellers.jsonl").unlink()
        message = "sellers.jsonl: required file is missing"
    else:
        (root / "sellers.jsonl").write_text("seller_id,marketplace\ns1,taobao\n")
        message = "sellers.jsonl: not JSON Lines"
    with pytest.raises(DomainError, match=message):
        Ingest(app, root)
    assert rows(app, ingest_runs, "id") == []


def test_ingesting_twice_changes_nothing_and_a_newer_snapshot_records_its_changes(app, tmp_path):
    root = write_snapshot(tmp_path / "snap", listings=[listing("L1"), listing("L2")], fx={"EUR": 1.08},
                          sellers=[seller("s-dealer")])
    ingest(app, root)
    before = rows(app, listings, "listing_ref", "title", "price", "status")
    summary, _ = ingest(app, root)
    assert rows(app, listings, "listing_ref", "title", "price", "status") == before
    assert vars(summary.counts["listings"]) == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 0}
    assert rows(app, feed_changes, "id") == []

    write_jsonl(root / "listings.jsonl", [listing("L1", price=99.5), listing("L2", title="New title"), listing("L3")])
    summary, _ = ingest(app, root)
    assert vars(summary.counts["listings"]) == {"created": 1, "updated": 2, "unchanged": 0, "rejected": 0}
    changes = {ref: json.loads(c) if isinstance(c, str) else c for ref, c in rows(app, feed_changes, "ref", "changes")}
    assert changes["taobao:L1"] == {"price": ["149", "99.5"]}
    assert changes["taobao:L2"] == {"title": ["Quorvex Stride 1 #L2", "New title"]}


def test_brands_load_with_their_owners_and_catalogs_and_a_newer_catalog_replaces_the_old(app, tmp_path):
    stride = {"sku": "S1", "title": "Quorvex Stride 1", "category": "footwear", "msrp": 149, "currency": "EUR",
              "images": []}
    second = {**stride, "sku": "S2", "title": "Quorvex Glide", "msrp": 99}
    catalog = [brand("qvx", products=[stride, second]), brand("qvx-kids", name="Quorvex Kids", products=[]),
               brand("lum", name="Lumen", owner="Lumen Optics", marks=["LUMEN"], products=[second])]
    root = write_snapshot(tmp_path / "snap", brands=catalog, fx={"EUR": 1.08}, listings=[])
    summary, _ = ingest(app, root, batch_size=2)
    assert vars(summary.counts["brands"]) == {"created": 3, "updated": 0, "unchanged": 0, "rejected": 0}
    with app.engine.connect() as connection:
        owners = connection.execute(text(
            "SELECT b.brand_ref, h.name FROM brands b JOIN rights_holders h ON h.id = b.holder_id ORDER BY b.id")).all()
        stored = connection.execute(text(
            "SELECT b.brand_ref, p.sku, p.msrp FROM products p JOIN brands b ON b.id = p.brand_id ORDER BY p.id")).all()
    assert [tuple(r) for r in owners] == [("qvx", "Quorvex Sports Ltd"), ("qvx-kids", "Quorvex Sports Ltd"),
                                          ("lum", "Lumen Optics")]  # one holder for the brands it owns
    assert [(ref, sku, float(msrp)) for ref, sku, msrp in stored] == [("qvx", "S1", 149), ("qvx", "S2", 99),
                                                                      ("lum", "S2", 99)]

    catalog[0] = brand("qvx", products=[{**stride, "msrp": 159}])
    write_jsonl(root / "brands.jsonl", catalog)
    summary, _ = ingest(app, root, batch_size=2)
    assert vars(summary.counts["brands"]) == {"created": 0, "updated": 1, "unchanged": 2, "rejected": 0}
    with app.engine.connect() as connection:
        stored = connection.execute(text(
            "SELECT b.brand_ref, p.sku, p.msrp FROM products p JOIN brands b ON b.id = p.brand_id ORDER BY b.id, p.sku")).all()
    assert [(ref, sku, float(msrp)) for ref, sku, msrp in stored] == [("qvx", "S1", 159), ("lum", "S2", 99)]
    changes = {ref: json.loads(c) if isinstance(c, str) else c for ref, c in rows(app, feed_changes, "ref", "changes")}
    assert changes == {"qvx": {"products": [2, 1]}}


def test_banned_sellers_arrive_closed_and_their_ring_is_banned(app, tmp_path):
    root = write_snapshot(tmp_path / "snap", sellers=[
        seller("s-dealer", phone="+49 30 901820"),
        seller("ring-a", status="banned", phone="+86 138 0013 8000", email="top.deals@gmail.com"),
        seller("ring-b", email="TopDeals+new@gmail.com"),
        seller("ring-c", phone="0086 138-0013-8000"),
    ], listings=[listing("L1", "ring-b"), listing("L2", "s-dealer")], fx={"EUR": 1.08})
    summary, _ = ingest(app, root)
    assert summary.banned == 2
    state = dict(rows(app, sellers, "seller_ref", "status"))
    assert {ref: s.value for ref, s in state.items()} == {
        "s-dealer": "active", "ring-a": "closed", "ring-b": "closed", "ring-c": "closed"}
    assert {ref: s.value for ref, s in rows(app, listings, "listing_ref", "status")} == {"L1": "removed", "L2": "active"}


def photo_snapshot(root: Path) -> Path:
    """A catalog photo, and listings that use it under two file names (one content)."""
    return write_snapshot(
        root, fx={"EUR": 1.08},
        brands=[brand(products=[{"sku": "S1", "title": "t", "category": "footwear", "msrp": 149, "currency": "EUR",
                                 "images": ["images/official.jpg"]}])],
        listings=[listing("L1", images=["images/official.jpg"]), listing("L2", images=["images/copy.jpg"]),
                  listing("L3", images=["images/official.jpg", "images/copy.jpg"])],
        images={"images/official.jpg": REFERENCE_IMAGE, "images/copy.jpg": REFERENCE_IMAGE})


def counting_fingerprints(monkeypatch) -> list[str]:
    import assay.services.images as module  # ingest imports it when it first meets a photo

    calls: list[str] = []
    real = module.fingerprint
    monkeypatch.setattr(module, "fingerprint", lambda path, **kw: calls.append(path.name) or real(path, **kw))
    return calls


def test_images_are_fingerprinted_once_per_distinct_content_and_never_again(app, tmp_path, monkeypatch):
    calls = counting_fingerprints(monkeypatch)
    root = photo_snapshot(tmp_path / "snap")
    ingest(app, root)
    assert calls == ["official.jpg"]  # copy.jpg has the same bytes: read and hashed, not decoded
    [(sha, pdq)] = rows(app, images, "sha256", "pdq")
    assert pdq == "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
    hashes = dict(rows(app, listings, "listing_ref", "image_hashes"))
    assert hashes == {"L1": [sha], "L2": [sha], "L3": [sha, sha]}
    assert rows(app, products, "image_hashes", order=["id"]) == [([sha],)]

    write_jsonl(root / "listings.jsonl", [listing("L4", images=["images/copy.jpg"])])  # a new run, same files
    ingest(app, root)
    assert calls == ["official.jpg"]


def test_ingest_stores_the_query_form_of_every_photo_and_the_views_of_official_ones(app, tmp_path):
    from assay.services.images import layout_from_bytes, photo_views, query_photo
    from assay.store.tables import image_views

    root = write_snapshot(
        tmp_path / "snap", fx={"EUR": 1.08},
        brands=[brand(products=[{"sku": "S1", "title": "t", "category": "footwear", "msrp": 149, "currency": "EUR",
                                 "images": ["images/official.jpg"]}])],
        listings=[listing("L1", images=["images/listed.jpg"])],
        images={"images/official.jpg": REFERENCE_IMAGE, "images/listed.jpg": REFERENCE_IMAGES / "shrink-a-little.jpg"})
    ingest(app, root)
    stored = {sha: (query, layout, views) for sha, query, layout, views in rows(
        app, images, "sha256", "query_pdq", "layout", "views")}
    official_sha, listed_sha = (rows(app, table, "image_hashes", order=["id"])[0][0][0] for table in (products, listings))
    for sha, name in ((official_sha, "official.jpg"), (listed_sha, "listed.jpg")):
        query, layout, _ = stored[sha]
        expected = query_photo(root / "images" / name)
        assert query == "".join(expected.hashes) and len(query) == 8 * 64
        assert np.array_equal(layout_from_bytes(layout), expected.layout)
    views = [(pdq, view, layout_from_bytes(layout)) for pdq, view, layout in rows(
        app, image_views, "pdq", "view", "layout", order=["sha256", "position"])]
    expected_views = list(photo_views(root / "images/official.jpg"))
    assert stored[official_sha][2] == len(views) == len(expected_views) > 10
    assert [(pdq, view) for pdq, view, _ in views] == [(pdq, view) for pdq, view, _ in expected_views]
    assert all(np.array_equal(a, b) for (*_, a), (*_, b) in zip(views, expected_views, strict=True))
    assert stored[listed_sha][2] is None  # a listing's photo is searched with, not banked


def test_photos_stored_before_query_forms_and_views_get_them_at_the_next_ingest(app, tmp_path, monkeypatch):
    from assay.detection.images import AS_IS
    from assay.services.store_scan import detector_from_store, stored_photos
    from assay.store.tables import image_views

    root = photo_snapshot(tmp_path / "snap")
    ingest(app, root)
    complete = rows(app, images, "sha256", "query_pdq", "layout", "views")
    banked = rows(app, image_views, "sha256", "position", "view", "pdq", "layout", order=["sha256", "position"])
    with app.engine.begin() as connection:  # as a database upgraded from before they were kept holds them
        connection.execute(image_views.delete())
        connection.execute(images.update().values(query_pdq=None, layout=None, views=None))
    [(sha, pdq)] = rows(app, images, "sha256", "pdq")
    with app.uow() as uow:  # meanwhile detection has the one PDQ hash of the photo as it is
        detector, _ = detector_from_store(uow)
        assert list(zip(detector.images.refs, detector.images.views, strict=True)) == [("official:qvx:S1", AS_IS)]
        assert stored_photos(uow.session, [sha])[sha][0].hashes == (pdq,)
    calls = counting_fingerprints(monkeypatch)
    write_jsonl(root / "listings.jsonl", [listing("L4", images=["images/copy.jpg"])])
    ingest(app, root)
    assert calls == ["official.jpg"]  # the brand's photo first, views and query form at once
    assert rows(app, images, "sha256", "query_pdq", "layout", "views") == complete
    assert rows(app, image_views, "sha256", "position", "view", "pdq", "layout",
                order=["sha256", "position"]) == banked


CONTENT = {
    "sellers": "SELECT seller_ref, store_name, status, ban_reason, email, phone FROM sellers ORDER BY seller_ref",
    "listings": "SELECT listing_ref, title, price, currency, status FROM listings ORDER BY listing_ref",
    "keys": "SELECT s.seller_ref, k.kind, k.value FROM seller_identity_keys k JOIN sellers s ON s.id = k.seller_id "
            "ORDER BY 1, 2, 3",
    "brands": "SELECT brand_ref, name FROM brands ORDER BY brand_ref",
}


def content(url: str) -> dict[str, list[tuple]]:
    """What a snapshot's load leaves behind, in a form that compares across databases."""
    from decimal import Decimal

    from assay.store.database import make_engine

    engine = make_engine(url)
    with engine.connect() as connection:
        found = {name: [tuple(r) for r in connection.execute(text(sql))] for name, sql in CONTENT.items()}
    engine.dispose()
    found["listings"] = [(ref, title, format(Decimal(str(price)).normalize(), "f"), *rest)
                         for ref, title, price, *rest in found["listings"]]
    return found


def run_cli(url: str, *args: str, **popen) -> subprocess.Popen:
    env = {**os.environ, "ASSAY_DATABASE_URL": url}
    return subprocess.Popen([sys.executable, "-m", "assay", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, **popen)


def checkpoint(app) -> tuple[str, int] | None:
    with app.engine.connect() as connection:
        row = connection.execute(
            select(ingest_runs.c.phase, ingest_runs.c.offset).order_by(ingest_runs.c.id.desc())).first()
    return tuple(row) if row else None


LISTINGS = 60_000  # enough for a load of batches of 50 to last a second or more, so that the kills land in it


def test_killed_with_sigkill_at_several_points_it_ends_as_an_uninterrupted_run(app, backend, tmp_path, sqlite_template):
    import shutil

    root = big_snapshot(tmp_path / "snap", listings=LISTINGS)
    reference_db = tmp_path / "reference.db"
    shutil.copy(sqlite_template, reference_db)
    reference_url = f"sqlite:///{reference_db}"
    # --no-scan: the kills are for the load (detection afterwards resumes on its own: needs_scan)
    load = ["ingest", str(root), "--no-scan", "--batch-size", "50"]
    done = run_cli(reference_url, *load, "--rejects", str(tmp_path / "ref.jsonl"))
    assert done.wait(300) == 0, done.stderr.read().decode()

    url = backend.standalone_url
    size = (root / "listings.jsonl").stat().st_size
    # Kill points: right after the sellers, early, middle and late in the listings, and by
    # time once the run has started (which may fall inside a batch's transaction).
    triggers = [("listings", 0), ("listings", size // 10), 0.6, ("listings", size // 2), 0.05, ("listings", size * 9 // 10)]
    kills = 0
    for trigger in triggers:
        process = run_cli(url, *load, "--rejects", str(tmp_path / "rejects.jsonl"))
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            point = checkpoint(app)
            if point and point[0] != "done":
                if isinstance(trigger, float):
                    time.sleep(trigger)
                    break
                if point[0] == trigger[0] and point[1] >= trigger[1]:
                    break
            time.sleep(0.002)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(30)
    final = run_cli(url, *load, "--rejects", str(tmp_path / "rejects.jsonl"))
    assert final.wait(300) == 0, final.stderr.read().decode()
    assert kills >= 4
    assert content(url) == content(reference_url)
    assert (tmp_path / "rejects.jsonl").read_text() == (tmp_path / "ref.jsonl").read_text()
    bad = sum(1 for n in range(LISTINGS) if n % 997 == 5)  # the bad prices
    assert (tmp_path / "rejects.jsonl").read_text().count("\n") == bad > 0
    assert len(content(url)["listings"]) == LISTINGS - bad
