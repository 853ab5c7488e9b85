"""Detection in the product: suggestions from the store, the brand's answer, proactive
removal on the platform's own initiative, and stay-down at ingest."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.integration.snapshots import brand, listing, seller, write_jsonl, write_snapshot
from tests.photos import SOURCE, product, saved, stolen_copy

from assay.demo.generator import generate
from assay.detection.activity import FEATURE
from assay.domain.model import Brand, Listing, ListingStatus, RightsHolder
from assay.domain.notices import Lane, Notice, NoticeSource
from assay.domain.reasons import AutomatedDecision, StatementOfReasons
from assay.services import catalog, enrolment
from assay.services.ingest import Ingest
from assay.services.scan import scan
from assay.services.store_scan import scan_store
from assay.services.suggestions import accuracy, confirm, dismiss
from assay.store.tables import suggestions

SELLERS = [seller("s-dealer"), seller("s-lux"), seller("s-shop")]
LISTINGS = [
    listing("FAKE-1", "s-lux", title="QUORVEX Stride 1 replica AAA 1:1", price=19.9, currency="USD"),
    listing("FAKE-2", "s-lux", title="QU0RV3X Stride super copy sneakers", price=15, currency="USD"),
    listing("GENUINE", "s-dealer", title="Quorvex Stride 1 running shoe"),
    listing("LACES", "s-shop", title="Replacement laces compatible with Quorvex Stride 1", price=5, currency="USD"),
]


def load(app, root: Path) -> None:
    Ingest(app, root).run()


def setup(app, tmp_path: Path) -> tuple[int, int, int]:
    load(app, write_snapshot(tmp_path / "snap", sellers=SELLERS, listings=LISTINGS, fx={"EUR": 1.08}))
    with app.uow() as uow:
        holder = uow.repo.first(RightsHolder, name="Quorvex Sports Ltd")
        brand_id = uow.repo.first(Brand, brand_ref="qvx").id
    with app.uow("holder") as uow:
        enrolment.sign_good_faith_undertaking(uow, holder.id)
    with app.uow("holder") as uow:
        right = enrolment.add_right(uow, holder_id=holder.id, mark="QUORVEX", office="EUIPO",
                                    registration_number="018000001", classes=["25"], categories=["footwear"],
                                    expires_on=date(2034, 1, 1))
    with app.uow("coalition") as uow:
        enrolment.decide_right(uow, right, verified=True)
    return holder.id, brand_id, right


def suggested(app) -> dict[str, dict]:
    with app.uow() as uow:
        rows = uow.session.execute(select(suggestions, Listing.listing_ref)
                                   .join(Listing, Listing.id == suggestions.c.listing_id)).mappings().all()
    return {row["listing_ref"]: dict(row) for row in rows}


def test_a_store_scan_suggests_and_the_brand_confirms_or_dismisses(app, tmp_path):
    holder, _, right = setup(app, tmp_path)
    found = scan_store(lambda: app.uow("detection"))
    assert found.listings == len(LISTINGS) and found.filed == 0
    rows = suggested(app)
    assert set(rows) == {"FAKE-1", "FAKE-2"}
    assert all(r["status"] == "open" and r["verdict"] == "infringing" for r in rows.values())
    assert any(s["kind"] == "replica_wording" for s in rows["FAKE-1"]["signals"])

    with app.uow("holder") as uow:
        notice_id = confirm(uow, rows["FAKE-1"]["id"], holder_id=holder, right_ids=[right], signature="J. Doe")
    with app.uow("holder") as uow:
        dismiss(uow, rows["FAKE-2"]["id"], holder_id=holder, reason="Our own clearance stock, sold by a partner.")
    with app.uow() as uow:
        assert uow.repo.get(Notice, notice_id).items[0].listing_id == rows["FAKE-1"]["listing_id"]
        assert accuracy(uow) == {"open": 0, "confirmed": 1, "dismissed": 1}

    again = scan_store(lambda: app.uow("detection"))
    assert again.suggested == 0  # a dismissed listing is not suggested again
    assert suggested(app)["FAKE-2"]["status"] == "dismissed"


def test_another_brand_cannot_answer_a_suggestion(app, tmp_path):
    from tests.integration.world import enrolled_holder

    setup(app, tmp_path)
    scan_store(lambda: app.uow("detection"))
    other, _ = enrolled_holder(app, "Other Brand SA", number="999")
    import pytest

    from assay.domain.errors import NotFound

    with app.uow("other") as uow, pytest.raises(NotFound):
        dismiss(uow, suggested(app)["FAKE-1"]["id"], holder_id=other, reason="Not ours to judge, really.")


def test_opted_in_brands_have_infringing_listings_removed_on_own_initiative(app, tmp_path):
    holder, brand_id, _ = setup(app, tmp_path)
    with app.uow("holder") as uow:
        catalog.set_proactive_removal(uow, brand_id=brand_id, holder_id=holder, enabled=True)
    found = scan_store(lambda: app.uow("detection"))
    assert found.filed == 2
    with app.uow() as uow:
        filed = uow.repo.all(Notice)
        assert {n.source for n in filed} == {NoticeSource.OWN_INITIATIVE} and {n.lane for n in filed} == {Lane.EXPEDITED}
        down = {lst.listing_ref for lst in uow.repo.all(Listing) if lst.status is ListingStatus.REMOVED}
        assert down == {"FAKE-1", "FAKE-2"}
        statement = uow.repo.all(StatementOfReasons)[0]
        assert statement.automated_detection and statement.automated_decision is AutomatedDecision.FULLY
        assert statement.to_dsa()["source_type"] == "SOURCE_VOLUNTARY"
    assert scan_store(lambda: app.uow("detection")).filed == 0  # nothing filed twice


def test_a_copy_of_a_taken_down_listing_is_caught_as_it_arrives(app, tmp_path):
    holder, brand_id, _ = setup(app, tmp_path)
    with app.uow("holder") as uow:
        catalog.set_proactive_removal(uow, brand_id=brand_id, holder_id=holder, enabled=True)
    scan_store(lambda: app.uow("detection"))  # FAKE-1 and FAKE-2 are taken down

    # The same counterfeit comes back under a new id, from a new account, written the same way.
    root = tmp_path / "snap"
    write_jsonl(root / "sellers.jsonl", SELLERS + [seller("s-new")])
    write_jsonl(root / "listings.jsonl", LISTINGS + [
        listing("BACK", "s-new", title="QUORVEX  Stride 1 replica aaa 1:1", price=21, currency="USD")])
    summary = Ingest(app, root).run()
    assert summary.filed == 1
    rows = suggested(app)
    assert rows["BACK"]["source"] == "stay_down" and rows["BACK"]["status"] == "confirmed"
    assert "FAKE-1" in rows["BACK"]["signals"][0]["detail"]
    with app.uow() as uow:
        assert uow.repo.listing_by_ref("taobao", "BACK").status is ListingStatus.REMOVED


def test_every_new_or_changed_listing_is_judged_as_it_arrives(app, tmp_path):
    setup(app, tmp_path)  # the first ingest already judged what it brought
    assert {ref for ref, row in suggested(app).items() if row["source"] == "scan"} == {"FAKE-1", "FAKE-2"}
    with app.uow() as uow:
        from assay.store.tables import listings

        assert uow.session.execute(select(listings.c.id).where(listings.c.needs_scan.is_(True))).first() is None

    root = tmp_path / "snap"
    changed = [dict(row) for row in LISTINGS]
    changed[3] = listing("LACES", "s-shop", title="QUORVEX Stride 1 super copy 1:1", price=9, currency="USD")
    write_jsonl(root / "listings.jsonl", changed)
    summary = Ingest(app, root).run()
    assert summary.suggested == 1 and "LACES" in suggested(app)

    # Loading without judging leaves the listings marked, for the worker to judge later.
    changed[2] = listing("GENUINE", "s-dealer", title="QUORVEX Stride 1 replica AAA", price=20, currency="USD")
    write_jsonl(root / "listings.jsonl", changed)
    Ingest(app, root, scan=False).run()
    assert "GENUINE" not in suggested(app)
    assert scan_store(lambda: app.uow("worker"), only_pending=True).listings == 1


def test_a_new_account_listing_many_branded_items_cheaply_is_a_reason_in_its_suggestions(app, tmp_path):
    fresh = {**seller("s-fresh"), "registered_at": "2026-05-20T00:00:00Z"}  # 12 days before the clock's time
    cheap = [listing(f"FRESH-{n}", "s-fresh", title=f"QUORVEX Stride {n} sneakers", price=30, currency="USD")
             for n in range(12)]
    load(app, write_snapshot(tmp_path / "snap", sellers=SELLERS + [fresh], listings=LISTINGS + cheap,
                             fx={"EUR": 1.08}))
    rows = suggested(app)
    signal = {s["kind"]: s for s in rows["FRESH-0"]["signals"]}[FEATURE]
    assert signal["weight"] > 0
    assert signal["detail"].startswith("seller s-fresh's account is 12 days old and lists 12 items naming protected")
    assert FEATURE not in {s["kind"] for s in rows["FAKE-1"]["signals"]}  # s-lux registered long before


# -- photos: the store banks and searches them as the file scan does ----------------------------

OTHER_COLOURS = ((40, 140, 60), (230, 200, 40))


def photo_market(tmp_path: Path) -> Path:
    """A bag brand with one catalog photo; an unauthorized seller lists an edited copy of it
    (cropped, turned, framed, mirrored) without naming the mark, the authorized dealer lists the
    photo itself, and another shop lists a bag of another make."""
    drawn = tmp_path / "drawn"
    drawn.mkdir()
    files = {"images/official.jpg": saved(product(SOURCE), drawn / "official.jpg"),
             "images/copy.jpg": saved(stolen_copy(product(SOURCE)), drawn / "copy.jpg"),
             "images/other.jpg": saved(product(OTHER_COLOURS, label="OTHER"), drawn / "other.jpg")}
    bags = brand(categories=["bags"], products=[{"sku": "BAG-1", "title": "Quorvex tote", "category": "bags",
                                                 "msrp": 149, "currency": "EUR", "images": ["images/official.jpg"]}])
    bag = dict(category="bags", price=18, currency="USD", title="Leather tote bag with top handle")
    return write_snapshot(tmp_path / "snap", brands=[bags], sellers=SELLERS, fx={"EUR": 1.08}, images=files,
                          listings=[listing("COPY", "s-lux", images=["images/copy.jpg"], **bag),
                                    listing("DEALER", "s-dealer", images=["images/official.jpg"],
                                            **{**bag, "price": 149, "currency": "EUR"}),
                                    listing("OTHER", "s-shop", images=["images/other.jpg"], **bag)])


def test_an_edited_copy_of_an_official_photo_is_suggested_from_the_store(app, tmp_path):
    load(app, photo_market(tmp_path))  # judged as the listings arrive
    rows = suggested(app)
    assert set(rows) == {"COPY"}  # the dealer's own photo and another make's bag are not
    [photo] = [s for s in rows["COPY"]["signals"] if "photo" in s["kind"]]
    assert photo["kind"] in {"official_photo_other_seller", "photo_like_official_other_seller"}
    assert photo["weight"] > 0
    # found through a view of the catalog photo (cropped or turned), with the colour layouts compared
    assert "of Quorvex (BAG-1, " in photo["detail"] and "colour layout" in photo["detail"]
    assert any(view in photo["detail"] for view in ("crop ", "turned "))

    found = scan_store(lambda: app.uow("detection"))  # `assay scan --db` keeps the same suggestion
    assert found.listings == 3 and set(suggested(app)) == {"COPY"}
    assert suggested(app)["COPY"]["signals"] == rows["COPY"]["signals"]


def test_a_copy_of_a_taken_down_listings_photo_is_matched_by_the_stores_bank(app, tmp_path):
    holder, brand_id, _ = setup(app, tmp_path)
    drawn = tmp_path / "drawn"
    drawn.mkdir()
    root = tmp_path / "snap"
    files = {"images/fake.jpg": saved(product(OTHER_COLOURS, label="QVX"), drawn / "fake.jpg"),
             "images/again.jpg": saved(product(OTHER_COLOURS, label="QVX").resize((300, 300)), drawn / "again.jpg")}
    fake = listing("FAKE-3", "s-lux", title="QUORVEX tote replica AAA", price=19, currency="USD",
                   images=["images/fake.jpg"])
    write_snapshot(root, sellers=SELLERS, listings=LISTINGS + [fake], fx={"EUR": 1.08}, images=files)
    with app.uow("holder") as uow:
        catalog.set_proactive_removal(uow, brand_id=brand_id, holder_id=holder, enabled=True)
    load(app, root)  # FAKE-3 is taken down on the brand's standing instruction
    with app.uow() as uow:
        assert uow.repo.listing_by_ref("taobao", "FAKE-3").status is ListingStatus.REMOVED

    from assay.services.images import query_photo
    from assay.services.store_scan import detector_from_store

    with app.uow() as uow:
        detector, _ = detector_from_store(uow)
    [[match]] = detector.image_matches([[query_photo(root / "images/again.jpg")]])
    assert (match.kind, match.brand_id, match.ref) == ("taken_down", "qvx", "FAKE-3")
    assert match.similarity is not None and match.similarity > 0.95  # its colour layout was banked too
    # The copy alone, without the mark or any replica wording, is enough: it weighs as a copy of an official photo.
    from assay.domain.feeds import listing as parse_listing

    plain = parse_listing(listing("AGAIN", "s-shop", title="tote bag, black", price=20, currency="USD",
                                  images=["images/again.jpg"]), {"EUR": 1.08})
    flag = detector.judge(plain, [query_photo(root / "images/again.jpg")])
    assert flag is not None and (flag.brand_id, flag.verdict) == ("qvx", "infringing")
    assert next(s.weight for s in flag.signals if s.kind == "taken_down_photo") > 0


def snapshot_time(root: Path) -> datetime:
    """The latest moment a snapshot records: the time a scan of its files takes ages at."""
    moments = [json.loads(line)[field] for name, field in (("sellers", "registered_at"), ("listings", "created_at"))
               for line in (root / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]
    return max(datetime.fromisoformat(moment.replace("Z", "+00:00")) for moment in moments)


@pytest.fixture(scope="module")
def generated_market(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("generated") / "snap"
    generate(root, listings=400, seed=7, images=True)
    return root


def test_the_store_flags_a_snapshot_as_the_file_scan_does(app, clock, generated_market, tmp_path):
    clock.set(snapshot_time(generated_market))  # new accounts' ages, as the file scan takes them
    load(app, generated_market)  # every listing judged as it arrives
    scan(generated_market, tmp_path / "flags.jsonl", workers=1)
    with app.uow() as uow:
        up = {ref for (ref,) in uow.session.execute(select(Listing.listing_ref).where(
            Listing.status != ListingStatus.REMOVED))}
    from_files = {}
    for line in (tmp_path / "flags.jsonl").read_text(encoding="utf-8").splitlines():
        flag = json.loads(line)
        if flag["listing_id"] in up:  # the store does not judge the listings of banned sellers again
            from_files[flag["listing_id"]] = (flag["verdict"], flag["brand_id"], flag["score"], flag["signals"])
    with app.uow() as uow:
        from_store = {ref: (verdict, brand_ref, score, signals) for ref, brand_ref, verdict, score, signals in
                      uow.session.execute(select(Listing.listing_ref, Brand.brand_ref, suggestions.c.verdict,
                                                 suggestions.c.score, suggestions.c.signals)
                                          .join(Listing, Listing.id == suggestions.c.listing_id)
                                          .join(Brand, Brand.id == suggestions.c.brand_id))}
    assert from_store == from_files
    views = [s["detail"] for *_, signals in from_files.values() for s in signals if "photo" in s["kind"]]
    assert len(from_files) > 40 and len(views) > 10  # photos took part, many through a view other than as is
    assert sum(("crop " in d or "turned " in d or "trimmed" in d) for d in views) > 5
