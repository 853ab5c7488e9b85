"""A seller signal: a new account listing many branded items cheaply.

Counterfeiters whose storefronts are closed open new ones and list in bulk at once,
under other people's marks, at a fraction of the genuine price. No single listing
shows that; the seller's listings together do. So the listings are counted per seller
first (a first look at a snapshot, or a query of the store), and the signal then joins
the evidence of each of that seller's listings.

Only sellers whose accounts may still be new are counted, so the first look costs
little: an account counts as new for `NEW_ACCOUNT` after its registration, at the time
the ages are taken (the store's clock, or a snapshot's own time: the latest moment it
records, since the snapshot format carries no date of its own)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from assay.detection.profiles import SellerProfile
from assay.detection.score import Evidence
from assay.domain.feeds import ListingRecord

if TYPE_CHECKING:
    from assay.detection.pipeline import Detector

FEATURE = "new_account_cheap_branded"
NEW_ACCOUNT = timedelta(days=90)  # a quarter: what marketplaces commonly treat as a new seller
MANY = 10  # listings under protected marks
CHEAP = 0.40  # of the brand's catalog price (MSRP): far below what genuine goods sell at new
MOSTLY = 0.5  # the share of those listings that must be that cheap

SellerKey = tuple[str, str]  # (marketplace, seller id)


@dataclass
class Counts:
    """What one seller lists under protected marks."""

    branded: int = 0  # listings naming a protected mark
    cheap: int = 0  # of them, priced under CHEAP of the brand's catalog price


def new_account_signal(seller_id: str, age: timedelta, counts: Counts) -> Evidence | None:
    """The signal, with its reason, when a new account lists many branded items mostly cheaply."""
    if age >= NEW_ACCOUNT or counts.branded < MANY or counts.cheap < MOSTLY * counts.branded:
        return None
    return Evidence(FEATURE, f"seller {seller_id}'s account is {_days(age)} old and lists {counts.branded} items "
                             f"naming protected marks, {counts.cheap / counts.branded:.0%} of them under "
                             f"{CHEAP:.0%} of the brand's catalog price")


def _days(age: timedelta) -> str:
    days = max(0, age.days)
    return "1 day" if days == 1 else f"{days} days"


class SellerActivity:
    """Counts, listing by listing, what the possibly new accounts list under protected marks.

    `now` is when ages are taken; without it, at the latest moment the listings and the
    sellers record (a snapshot's time), which only grows as listings are added: a seller
    that is no longer new at some point is not new at the end either, so it is skipped."""

    def __init__(self, detector: Detector, now: datetime | None = None) -> None:
        self.detector = detector
        self.clock_given = now is not None
        self.now = now or detector.sellers.newest_registration() or datetime.fromtimestamp(0, timezone.utc)
        self.young = detector.sellers.registered_since(self.now - NEW_ACCOUNT)  # most listings' sellers are not
        self.counted: dict[SellerKey, tuple[SellerProfile, Counts]] = {}

    def add(self, listing: ListingRecord) -> bool:
        """Count the listing if its seller may be new; say whether it was counted."""
        self.see(listing.created_at)
        key = (listing.marketplace, listing.seller_id)
        return key in self.young and self.count(key, lambda: self.detector.protected_offer(listing))

    def see(self, created_at: datetime) -> None:
        """A listing was made at `created_at`: the snapshot's time is at least that."""
        if not self.clock_given and created_at > self.now:
            self.now = created_at

    def count(self, key: SellerKey, offer: Callable[[], tuple[bool, float | None]]) -> bool:
        """Count a listing of the seller `key`, seen (`see`) in turn, if the seller may be new;
        `offer` gives what `Detector.protected_offer` says of the listing. Say whether it was counted."""
        seller = self.young.get(key)
        if seller is None or self.now - seller.registered_at >= NEW_ACCOUNT:
            return False  # not new now, so not new at the end either
        _, counts = self.counted.setdefault(key, (seller, Counts()))
        branded, ratio = offer()
        if branded:
            counts.branded += 1
            counts.cheap += ratio is not None and ratio < CHEAP
        return True

    def signals(self) -> dict[SellerKey, Evidence]:
        """The signal of every seller it fires for, once every listing has been added."""
        found = {}
        for key, (seller, counts) in self.counted.items():
            signal = new_account_signal(seller.seller_id, self.now - seller.registered_at, counts)
            if signal is not None:
                found[key] = signal
        return found
