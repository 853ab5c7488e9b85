"""The detector: one listing (or a batch) in, a flag with its reasons out, or nothing.

Pure and picklable once built, so the same object runs in this process, in worker
processes, and on Ray workers, and gives the same answer everywhere."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from assay.detection import context
from assay.detection.images import AS_IS, HashBank, Photo, PhotoBank
from assay.detection.marks import MarkHit, MarkIndex
from assay.detection.profiles import BrandProfile, SellerBook, usd
from assay.detection.score import Evidence, Model, Signal
from assay.domain.feeds import ListingRecord

OFFICIAL = "official"
CLOSE_COPY = 16  # PDQ distance: half the match threshold; edits of one photo mostly stay within it
# Beyond CLOSE_COPY (PDQ distance 17-31) a photo is taken for a copy of an official one only when
# its colours are laid out as that photo's are, to this agreement: an edited copy keeps them,
# another product of the same kind, shot alike on a plain backdrop, mostly does not (on the
# tuning set, 86% of such copies against 14% of the honest look-alikes).
SAME_COLOURS = 0.98
TAKEN_DOWN = "taken_down"

# Price against the brand's own catalog price in the category, in USD. Genuine goods
# rarely sell far below it new; counterfeits and second-hand goods do.
PRICE_BANDS = ((0.35, "price_far_below_msrp"), (0.60, "price_well_below_msrp"), (0.85, "price_below_msrp"))


@dataclass(frozen=True)
class Flag:
    listing_id: str
    brand_id: str | None
    verdict: str
    score: float
    signals: tuple[Signal, ...]

    def as_json(self) -> dict[str, object]:
        return {"listing_id": self.listing_id, "brand_id": self.brand_id, "verdict": self.verdict,
                "score": round(self.score, 4), "signals": [s.as_json() for s in self.signals]}


class ImageMatch(NamedTuple):
    kind: str
    brand_id: str
    ref: str
    distance: int
    view: str = AS_IS
    similarity: float | None = None


@dataclass(frozen=True)
class Candidate:
    brand_id: str
    score: float
    signals: tuple[Signal, ...]


class Detector:
    def __init__(self, brands: Iterable[BrandProfile], sellers: SellerBook, fx: dict[str, float] | None,
                 images: PhotoBank | HashBank | None = None, model: Model | None = None,
                 marks: MarkIndex | None = None) -> None:
        """`marks`: `index_marks(brands)`, when it was built already."""
        self.brands = {brand.brand_id: brand for brand in brands}
        self.sellers = sellers
        self.fx = fx
        # refs are "official:<brand_id>:<sku>" or "taken_down:<brand_id>:<listing>"; a bank of plain
        # hashes holds each photo as it is, without colour layouts
        self.images = PhotoBank(images) if isinstance(images, HashBank) else images
        self.model = model or Model.shipped()
        self.marks = marks or self.index_marks(self.brands.values())
        self.seller_signals: Mapping[tuple[str, str], Evidence] = {}  # (marketplace, seller id) -> signal

    @staticmethod
    def index_marks(brands: Iterable[BrandProfile]) -> MarkIndex:
        """Every brand's marks, indexed (the last profile of a brand id counts, as in a detector)."""
        return MarkIndex.build((b.brand_id, list(b.marks)) for b in {b.brand_id: b for b in brands}.values())

    def knowing(self, seller_signals: Mapping[tuple[str, str], Evidence]) -> Detector:
        """This detector, with what a first look at all the listings found about their sellers
        (see `activity`): the signal joins the evidence of each of the seller's listings."""
        informed = copy.copy(self)
        informed.seller_signals = dict(seller_signals)
        return informed

    # -- the verdict ----------------------------------------------------------------------
    def judge(self, listing: ListingRecord, photos: Sequence[Photo | Sequence[str]] = ()) -> Flag | None:
        return self.judge_batch([(listing, photos)])[0]

    def judge_batch(self, batch: Sequence[tuple[ListingRecord, Sequence[Photo | Sequence[str]]]]) -> list[Flag | None]:
        """Judge many listings; their image hashes are searched in one call."""
        matches = self.image_matches([hashes for _, hashes in batch])
        return [self._judge(listing, found) for (listing, _), found in zip(batch, matches, strict=True)]

    def _judge(self, listing: ListingRecord, image_matches: Sequence[ImageMatch]) -> Flag | None:
        candidates = [Candidate(brand_id, *self.model.score(evidence))
                      for brand_id, evidence in self.evidence(listing, image_matches).items()]
        if not candidates:
            return None
        best = max(candidates, key=lambda c: (c.score, c.brand_id))
        verdict = self.model.verdict(best.score)
        if verdict is None:
            return None
        return Flag(listing.listing_id, best.brand_id, verdict, best.score, best.signals)

    # -- the evidence ---------------------------------------------------------------------
    def evidence(self, listing: ListingRecord,
                 image_matches: Sequence[ImageMatch] = ()) -> dict[str, list[Evidence]]:
        """For each brand the listing may concern, what speaks for and against infringement.
        Exposed for calibration, which fits the model's weights to these features."""
        title_hits = self.marks.find(listing.title, field="title")
        description_hits = self.marks.find(listing.description, field="description") if listing.description else []
        by_brand: dict[str, list[Evidence]] = {}
        for hit in _strongest_per_brand(title_hits):
            by_brand.setdefault(hit.brand_id, []).extend(self._mark_evidence(listing, hit, in_title=True))
        for hit in _strongest_per_brand(description_hits):
            if hit.brand_id not in by_brand:
                by_brand[hit.brand_id] = self._mark_evidence(listing, hit, in_title=False)
        for kind, brand_id, ref, distance, view, similarity in image_matches:
            if brand_id not in self.brands:
                continue
            if kind == OFFICIAL:
                # The brand's own photo is expected from its authorized sellers and a red flag elsewhere.
                if distance > CLOSE_COPY and (similarity is None or similarity < SAME_COLOURS):
                    continue
                authorized = listing.seller_id in self.brands[brand_id].authorized
                feature = f"official_photo_{'authorized' if authorized else 'other'}_seller"
            else:
                feature = "taken_down_photo"
            found = by_brand.setdefault(brand_id, [])
            if not any(e.feature == feature for e in found):
                what = "an official catalog photo" if kind == OFFICIAL else "the photo of a listing already taken down"
                how = "" if view == AS_IS else f", {view}"
                how += "" if similarity is None else f", colour layout {similarity:.2f}"
                found.append(Evidence(feature, f"a photo matches {what} of {self.brands[brand_id].name} "
                                               f"({ref}{how}, PDQ distance {distance})"))
        if not by_brand:
            return {}
        shared = self._listing_evidence(listing)
        for brand_id, found in by_brand.items():
            found.extend(shared)
            found.extend(self._brand_evidence(listing, self.brands[brand_id]))
        return by_brand

    def _mark_evidence(self, listing: ListingRecord, hit: MarkHit, *, in_title: bool) -> list[Evidence]:
        feature = {"exact": "mark", "disguised": "disguised_mark", "fuzzy": "misspelt_mark"}[hit.how]
        found = [Evidence(feature if in_title else "mark_in_description", hit.detail)]
        text = listing.title if in_title else listing.description
        nominative = context.nominative_use(text, hit.span)
        if nominative:
            found.append(Evidence("nominative_use", nominative.detail))
        return found

    def _listing_evidence(self, listing: ListingRecord) -> list[Evidence]:
        text = f"{listing.title}\n{listing.description}"
        found = []
        for feature, finding in (("replica_wording", context.replica_wording(text)),
                                 ("innocent_replica", context.innocent_replica(text, listing.category)),
                                 ("second_hand", context.second_hand(text))):
            if finding:
                found.append(Evidence(feature, finding.detail))
        seller = self.sellers.get(listing.marketplace, listing.seller_id)
        if seller is not None and seller.banned:
            found.append(Evidence("seller_banned", f"seller {listing.seller_id} is banned"))
        elif seller is not None and seller.linked_to_banned:
            found.append(Evidence("seller_linked_to_banned", f"seller {listing.seller_id} {seller.linked_to_banned}"))
        signal = self.seller_signals.get((listing.marketplace, listing.seller_id))
        if signal is not None:
            found.append(signal)
        return found

    def _brand_evidence(self, listing: ListingRecord, brand: BrandProfile) -> list[Evidence]:
        found = []
        if listing.seller_id in brand.authorized:
            found.append(Evidence("authorized_seller", f"seller {listing.seller_id} is authorized by {brand.name}"))
        if context.category_matches(listing.category, brand.categories):
            found.append(Evidence("registered_category",
                                  f"category {listing.category!r} is one {brand.name}'s marks are registered for"))
        else:
            found.append(Evidence("other_category", f"category {listing.category!r} is outside {brand.name}'s "
                                                    f"registered categories ({', '.join(sorted(brand.categories))})"))
        prices = self._prices(listing, brand)
        if prices is not None:
            price, reference = prices
            ratio = price / reference
            band = next((name for limit, name in PRICE_BANDS if ratio < limit), "price_near_msrp")
            found.append(Evidence(band, f"{price:,.2f} USD is {ratio:.0%} of {brand.name}'s catalog price "
                                        f"({reference:,.2f} USD) in {listing.category}"))
        return found

    def _prices(self, listing: ListingRecord, brand: BrandProfile) -> tuple[float, float] | None:
        """The listing's price and the brand's catalog price in its category, both in USD, if known."""
        price = usd(float(listing.price), listing.currency, self.fx)
        reference = brand.reference_price(listing.category)
        return (price, reference) if price is not None and reference else None

    # -- what a seller's activity counts (see `activity`) --------------------------------------
    def protected_offer(self, listing: ListingRecord) -> tuple[bool, float | None]:
        """Whether the listing offers goods under a protected mark, and its price as a share of
        that brand's catalog price (the highest share when it names several brands; None if
        unknown). A mark counts in a category its brand registered it for, from a seller the
        brand did not authorize, and not when it only says what an accessory fits."""
        ratios: list[float | None] = []
        for field, text in (("title", listing.title), ("description", listing.description)):
            for hit in self.marks.find(text, field=field) if text else ():
                brand = self.brands[hit.brand_id]
                if listing.seller_id in brand.authorized or context.nominative_use(text, hit.span) \
                        or not context.category_matches(listing.category, brand.categories):
                    continue
                prices = self._prices(listing, brand)
                ratios.append(prices[0] / prices[1] if prices else None)
        if not ratios:
            return False, None
        known = [r for r in ratios if r is not None]
        return True, max(known) if len(known) == len(ratios) else None

    # -- images ------------------------------------------------------------------------------
    def image_matches(self, per_listing: Sequence[Sequence[Photo | Sequence[str]]]) -> list[list[ImageMatch]]:
        """For each listing (its photos, each a `Photo` or the PDQ hashes of its orientations):
        (kind, brand id, ref, distance, view, layout similarity) of the bank photos each photo
        is best taken for (see `PhotoBank.search`)."""
        results: list[list[ImageMatch]] = [[] for _ in per_listing]
        photos = [(i, p if isinstance(p, Photo) else Photo(tuple(p))) for i, listing in enumerate(per_listing)
                  for p in listing]
        if self.images is None or not len(self.images) or not photos:
            return results
        for (i, _), matches in zip(photos, self.images.search([p for _, p in photos]), strict=True):
            # Only the best: product photos of one kind look alike across brands, and the
            # photo that was taken is the one the listing's copy stays closest to.
            for match in matches:
                kind, brand_id, rest = match.ref.split(":", 2)
                results[i].append(ImageMatch(kind, brand_id, rest, match.distance, match.view, match.similarity))
        return results


def _strongest_per_brand(hits: list[MarkHit]) -> list[MarkHit]:
    rank = {"exact": 0, "disguised": 1, "fuzzy": 2}
    best: dict[str, MarkHit] = {}
    for hit in hits:
        if hit.brand_id not in best or rank[hit.how] < rank[best[hit.brand_id].how]:
            best[hit.brand_id] = hit
    return list(best.values())
