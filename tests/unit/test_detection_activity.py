"""The seller signal "a new account listing many branded items cheaply": the rule on its
own, and the counting of a seller's listings that feeds it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from tests.integration.snapshots import brand, listing, seller

from assay.detection.activity import FEATURE, MANY, NEW_ACCOUNT, Counts, SellerActivity, new_account_signal
from assay.detection.pipeline import Detector
from assay.detection.profiles import SellerBook, brand_profile
from assay.domain import feeds

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
FX = {"EUR": 1.08}  # Quorvex Stride 1: 149 EUR, about 161 USD


def test_fires_for_a_new_account_listing_many_branded_items_cheaply() -> None:
    signal = new_account_signal("s-new", timedelta(days=9), Counts(branded=37, cheap=30))
    assert signal is not None and signal.feature == FEATURE
    assert signal.detail == ("seller s-new's account is 9 days old and lists 37 items naming protected marks, "
                             "81% of them under 40% of the brand's catalog price")


@pytest.mark.parametrize(("age", "counts"), [
    (NEW_ACCOUNT, Counts(branded=37, cheap=37)),  # no longer new
    (timedelta(days=400), Counts(branded=200, cheap=200)),
    (timedelta(days=9), Counts(branded=MANY - 1, cheap=MANY - 1)),  # not many
    (timedelta(days=9), Counts(branded=37, cheap=18)),  # mostly near the genuine price
    (timedelta(days=9), Counts()),  # nothing branded at all
])
def test_stays_quiet_otherwise(age: timedelta, counts: Counts) -> None:
    assert new_account_signal("s", age, counts) is None


def detector(*sellers: dict) -> Detector:
    record = feeds.brand(brand(authorized_sellers=["s-dealer"], categories=["footwear"]), FX)
    return Detector([brand_profile(record, FX)], SellerBook.build(feeds.seller(s) for s in sellers), FX)


def registered(seller_id: str, days_before: int) -> dict:
    return {**seller(seller_id), "registered_at": (NOW - timedelta(days=days_before)).isoformat()}


def listings(seller_id: str, n: int, **overrides) -> list[feeds.ListingRecord]:
    fields = {"title": "QUORVEX Stride 1 sneakers", "price": 30, "currency": "USD",
              "created_at": NOW.isoformat(), **overrides}
    return [feeds.listing(listing(f"{seller_id}-{i}", seller_id, **fields), FX) for i in range(n)]


def signals_of(found: Detector, records: list[feeds.ListingRecord], now: datetime | None = None) -> dict:
    activity = SellerActivity(found, now=now)
    for record in records:
        activity.add(record)
    return activity.signals()


def test_a_new_account_listing_branded_goods_far_below_msrp_is_signalled() -> None:
    found = detector(registered("s-new", 20))
    signals = signals_of(found, listings("s-new", 12) + listings("s-new", 3, price=150))
    assert list(signals) == [("taobao", "s-new")]
    assert "20 days old and lists 15 items naming protected marks, 80% of them" in signals[("taobao", "s-new")].detail


def test_an_old_account_is_not_signalled() -> None:
    assert signals_of(detector(registered("s-old", 800)), listings("s-old", 40)) == {}


def test_an_authorized_reseller_clearing_stock_is_not_signalled() -> None:
    assert signals_of(detector(registered("s-dealer", 20)), listings("s-dealer", 40)) == {}


@pytest.mark.parametrize("title", [
    "Canvas sneakers, white",  # unbranded
    "Replacement laces compatible with Quorvex Stride 1",  # names the brand to say what it fits
])
def test_a_new_account_selling_goods_that_are_not_under_the_mark_is_not_signalled(title: str) -> None:
    assert signals_of(detector(registered("s-new", 20)), listings("s-new", 40, title=title, price=5)) == {}


def test_a_mark_outside_its_registered_categories_does_not_count() -> None:
    found = detector(registered("s-new", 20))
    assert signals_of(found, listings("s-new", 40, category="home")) == {}


def test_ages_are_taken_at_the_snapshots_newest_moment_unless_a_time_is_given() -> None:
    found = detector(registered("s-new", 20))
    later = listings("s-old-by-then", 1, created_at=(NOW + timedelta(days=100)).isoformat())
    assert signals_of(found, listings("s-new", 12)) != {}
    assert signals_of(found, listings("s-new", 12) + later) == {}  # at that listing's time, 120 days old
    assert signals_of(found, later + listings("s-new", 12)) == {}  # whatever the order
    assert signals_of(found, listings("s-new", 12) + later, now=NOW) != {}


def test_the_signal_joins_the_evidence_of_each_of_the_sellers_listings() -> None:
    found = detector(registered("s-new", 20), registered("s-other", 20))
    records = listings("s-new", 12)
    informed = found.knowing(signals_of(found, records))
    assert FEATURE in {e.feature for e in informed.evidence(records[0])["qvx"]}
    assert FEATURE not in {e.feature for e in informed.evidence(listings("s-other", 1)[0])["qvx"]}
    assert FEATURE not in {e.feature for e in found.evidence(records[0])["qvx"]}  # the first detector is unchanged


def test_a_snapshot_without_sellers_signals_nothing() -> None:
    assert signals_of(detector(), listings("s-unknown", 20)) == {}
