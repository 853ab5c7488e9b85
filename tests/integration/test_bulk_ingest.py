"""The bulk path of `assay ingest` (COPY on PostgreSQL, the sqlite3 cursor on SQLite): rows
stored exactly as SQLAlchemy stores them, re-loads that record exactly what changed, and
bulk-load settings that end with the load."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import cast, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import String
from tests.integration.snapshots import listing, seller, write_jsonl, write_snapshot

from assay.domain.model import ListingStatus
from assay.services.ingest import Ingest
from assay.store.bulk import bulk_load, insert_rows
from assay.store.tables import feed_changes, listings, marketplaces, sellers


def _seller(connection) -> tuple[int, int]:
    market = connection.execute(insert(marketplaces).values(code="m", name="m")).inserted_primary_key[0]
    seller_id = connection.execute(insert(sellers).values(
        marketplace_id=market, seller_ref="s", store_name="s", registered_at=datetime(2025, 1, 1, tzinfo=timezone.utc),
        status="active", sanction_level=0)).inserted_primary_key[0]
    return market, seller_id


def test_rows_inserted_in_bulk_are_stored_exactly_as_sqlalchemy_stores_them(engine):
    with engine.begin() as connection:
        market, seller_id = _seller(connection)
        row = dict(marketplace_id=market, seller_id=seller_id, title="Ünïcode ✓ 'quoted'\ttab\\slash\nline",
                   description="", category="bags", price=Decimal("1382.05"), currency="CNY",
                   images=["images/a b.jpg", "images/\"q\".jpg"], image_hashes=[],
                   created_at=datetime(2024, 4, 18, 6, 32, 38, 120, tzinfo=timezone.utc), status=ListingStatus.REMOVED,
                   needs_scan=True)
        connection.execute(insert(listings).values(listing_ref="orm", **row))
        insert_rows(connection, listings, [{"listing_ref": "bulk", **row}, {**row, "listing_ref": "bulk-2", "images": []}])
    as_text = [cast(listings.c[name], String) for name in row]
    with engine.connect() as connection:
        stored = {ref: tuple(rest) for ref, *rest in connection.execute(
            select(listings.c.listing_ref, *as_text).order_by(listings.c.listing_ref))}
        read = connection.execute(select(listings).where(listings.c.listing_ref == "bulk")).mappings().one()
        second = connection.execute(select(listings.c.images, listings.c.title)
                                    .where(listings.c.listing_ref == "bulk-2")).one()
    assert stored["bulk"] == stored["orm"]  # byte for byte what SQLAlchemy wrote
    assert {name: read[name] for name in row} == row
    assert tuple(second) == ([], row["title"])


def test_a_changed_snapshot_reloaded_records_exactly_its_changes_across_batches(app, tmp_path):
    people = [seller("s-dealer"), seller("s2")]
    first = [listing(f"L{n}", "s-dealer" if n % 2 else "s2", price=100 + n) for n in range(1, 41)]
    root = write_snapshot(tmp_path / "snap", sellers=people, listings=first, fx={"EUR": 1.08})
    Ingest(app, root, batch_size=7, scan=False).run()

    newer = [dict(record) for record in first]
    newer[4]["price"] = 99.5                      # L5
    newer[9]["title"] = "Renamed"                 # L10
    newer[20].update(description="Now described", images=[])  # L21: the description only
    newer[31]["seller_id"] = "s-dealer"           # L32 moves to another seller
    newer += [listing("L41", "s2")]
    write_jsonl(root / "listings.jsonl", newer)
    write_jsonl(root / "sellers.jsonl", [seller("s-dealer"), {**seller("s2"), "store_name": "Second store"}])
    summary = Ingest(app, root, batch_size=7, scan=False).run()

    assert vars(summary.counts["listings"]) == {"created": 1, "updated": 4, "unchanged": 36, "rejected": 0}
    assert vars(summary.counts["sellers"]) == {"created": 0, "updated": 1, "unchanged": 1, "rejected": 0}
    with app.engine.connect() as connection:
        recorded = [(run, kind, ref, json.loads(c) if isinstance(c, str) else c) for run, kind, ref, c in connection.execute(
            select(feed_changes.c.run_id, feed_changes.c.kind, feed_changes.c.ref, feed_changes.c.changes)
            .order_by(feed_changes.c.id))]
        ids = {ref: id_ for ref, id_ in connection.execute(select(sellers.c.seller_ref, sellers.c.id))}
        stored = {ref: (title, description, Decimal(str(price)).normalize(), seller_id, scan) for ref, title, description,
                  price, seller_id, scan in connection.execute(select(
                      listings.c.listing_ref, listings.c.title, listings.c.description, listings.c.price,
                      listings.c.seller_id, listings.c.needs_scan))}
    assert recorded == [
        (2, "seller", "taobao:s2", {"store_name": ["Store s2", "Second store"]}),
        (2, "listing", "taobao:L5", {"price": ["105", "99.5"]}),
        (2, "listing", "taobao:L10", {"title": ["Quorvex Stride 1 #L10", "Renamed"]}),
        (2, "listing", "taobao:L21", {"description": ["", "Now described"]}),
        (2, "listing", "taobao:L32", {"seller_id": [ids["s2"], ids["s-dealer"]]}),
    ]
    assert stored["L5"][2] == Decimal("99.5") and stored["L10"][0] == "Renamed"
    assert stored["L21"][1] == "Now described" and stored["L32"][3] == ids["s-dealer"]
    assert stored["L41"][3] == ids["s2"]
    assert len(stored) == 41


def test_the_bulk_load_settings_end_with_the_load(engine):
    def settings(connection) -> tuple[str, ...]:
        if connection.dialect.name == "sqlite":
            return tuple(str(connection.exec_driver_sql(f"PRAGMA {name}").scalar())
                         for name in ("synchronous", "cache_size", "wal_autocheckpoint"))
        return (str(connection.exec_driver_sql("SHOW synchronous_commit").scalar()),)

    with engine.connect() as connection:
        before = settings(connection)
        connection.rollback()
    with bulk_load(engine) as connection:
        assert settings(connection) in (("1", "-65536", "16384"), ("off",))  # NORMAL, a 64 MB cache, 64 MB of log
        connection.rollback()
    with engine.connect() as connection:
        assert settings(connection) == before
        assert connection.execute(text("SELECT 1")).scalar() == 1


def test_a_listing_cannot_name_a_seller_of_another_marketplace(engine):
    with engine.begin() as connection:
        market, seller_id = _seller(connection)
        other = connection.execute(insert(marketplaces).values(code="other", name="other")).inserted_primary_key[0]
    row = dict(listing_ref="x", seller_id=seller_id, title="t", description="", category="bags", price=Decimal("1"),
               currency="EUR", images=[], image_hashes=[], created_at=datetime(2025, 1, 1, tzinfo=timezone.utc),
               status=ListingStatus.ACTIVE, needs_scan=True)
    for insert_listing in (lambda c, values: c.execute(insert(listings).values(**values)),
                           lambda c, values: insert_rows(c, listings, [values])):
        with pytest.raises(IntegrityError), engine.begin() as connection:
            insert_listing(connection, {**row, "marketplace_id": other})
        with engine.begin() as connection:
            insert_listing(connection, {**row, "marketplace_id": market})
            connection.execute(listings.delete())
