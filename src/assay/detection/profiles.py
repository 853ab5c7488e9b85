"""What detection knows before it reads a listing: the brands (marks, registered
categories, catalog prices in USD, authorized sellers) and the sellers (banned, or
linked to a banned account by normalised identity)."""

from __future__ import annotations

import statistics
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from assay.domain.feeds import BrandRecord, SellerRecord
from assay.domain.identity import IdentityKey, identity_keys


@dataclass(frozen=True)
class BrandProfile:
    brand_id: str
    name: str
    marks: tuple[str, ...]
    categories: frozenset[str]
    authorized: frozenset[str]
    msrp_usd: dict[str, float]  # category -> median MSRP of the brand's products in it
    lowest_msrp_usd: float | None

    def reference_price(self, category: str) -> float | None:
        """The price a genuine item of this brand in this category sells at, new."""
        return self.msrp_usd.get(category, self.lowest_msrp_usd)


def usd(amount: float, currency: str, fx: dict[str, float] | None) -> float | None:
    """US dollars for an amount, through fx.json; without fx.json every price is USD."""
    if fx is None or currency == "USD":
        return float(amount)
    rate = fx.get(currency)
    return float(amount) * rate if rate else None


def brand_profile(record: BrandRecord, fx: dict[str, float] | None) -> BrandProfile:
    by_category: dict[str, list[float]] = defaultdict(list)
    for product in record.products:
        price = usd(float(product.msrp), product.currency, fx)
        if price:
            by_category[product.category].append(price)
    medians = {category: statistics.median(prices) for category, prices in by_category.items()}
    return BrandProfile(
        brand_id=record.brand_id, name=record.name, marks=record.marks,
        categories=frozenset(record.categories) | frozenset(medians), authorized=frozenset(record.authorized_sellers),
        msrp_usd=medians, lowest_msrp_usd=min(medians.values()) if medians else None,
    )


@dataclass(frozen=True)
class SellerProfile:
    seller_id: str
    marketplace: str
    registered_at: datetime
    banned: bool
    linked_to_banned: str | None = None  # why, e.g. "shares a phone number with banned seller S000001"


@dataclass
class SellerBook:
    """Every seller by (marketplace, seller id), with links to banned accounts resolved once."""

    sellers: dict[tuple[str, str], SellerProfile] = field(default_factory=dict)

    def get(self, marketplace: str, seller_id: str) -> SellerProfile | None:
        return self.sellers.get((marketplace, seller_id))

    def newest_registration(self) -> datetime | None:
        return max((seller.registered_at for seller in self.sellers.values()), default=None)

    def registered_since(self, moment: datetime) -> dict[tuple[str, str], SellerProfile]:
        return {key: seller for key, seller in self.sellers.items() if seller.registered_at > moment}

    @classmethod
    def build(cls, records: Iterable[SellerRecord]) -> SellerBook:
        records = list(records)
        keys = {(r.marketplace, r.seller_id): identity_keys(r.identity) for r in records}
        holders: dict[IdentityKey, list[tuple[str, str]]] = defaultdict(list)
        for seller, seller_keys in keys.items():
            for key in seller_keys:
                holders[key].append(seller)
        banned = {(r.marketplace, r.seller_id) for r in records if r.banned}
        why = _links_to_banned(banned, keys, holders)
        return cls({
            (r.marketplace, r.seller_id): SellerProfile(
                r.seller_id, r.marketplace, r.registered_at, r.banned, why.get((r.marketplace, r.seller_id)))
            for r in records
        })


def _links_to_banned(banned: set[tuple[str, str]], keys: dict[tuple[str, str], frozenset[IdentityKey]],
                     holders: dict[IdentityKey, list[tuple[str, str]]]) -> dict[tuple[str, str], str]:
    """Breadth first from every banned seller through shared identity keys: rings share keys,
    and the same rule extends a ban to linked accounts in the takedown core."""
    why: dict[tuple[str, str], str] = {}
    root = {seller: seller for seller in banned}
    queue = deque(sorted(banned))
    while queue:
        current = queue.popleft()
        for key in sorted(keys.get(current, ())):
            for other in holders[key]:
                if other in root:
                    continue
                root[other] = root[current]
                kind = key.kind.value.replace("_", " ")
                via = "" if current in banned else f", which is linked to banned seller {root[current][1]}"
                why[other] = f"shares a {kind} with {'banned ' if current in banned else ''}seller {current[1]}{via}"
                queue.append(other)
    return why
