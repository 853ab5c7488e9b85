"""Queries the use cases need, in the domain's terms."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Row,
    Table,
    any_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from assay.domain.errors import NotFound
from assay.domain.identity import IdentityKey, LinkKind
from assay.domain.model import (
    Brand,
    Listing,
    ListingStatus,
    Marketplace,
    RightsHolder,
    Seller,
    SellerStatus,
    TrademarkRight,
)
from assay.domain.notices import STANDING_REMOVAL_STATES, ItemState, Notice, NoticeItem
from assay.domain.policies import Strike
from assay.domain.reasons import StatementOfReasons
from assay.store.bulk import insert_rows
from assay.store.tables import listings, marketplaces, notice_items, seller_identity_keys, sellers, settings

T = TypeVar("T")

_NAMES = {
    RightsHolder: "rights holder", TrademarkRight: "right", Brand: "brand", Marketplace: "marketplace",
    Seller: "seller", Listing: "listing", Notice: "notice", NoticeItem: "notice item",
}


class Repository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, obj: object) -> None:
        self.session.add(obj)

    def get(self, cls: type[T], id_: int, *, lock: bool = False) -> T:
        obj = self.session.get(cls, id_, with_for_update=lock)
        if obj is None:
            raise NotFound(_NAMES.get(cls, cls.__name__.lower()), id_)
        return obj

    def first(self, cls: type[T], **criteria: object) -> T | None:
        return self.session.scalars(select(cls).filter_by(**criteria).limit(1)).first()

    def all(self, cls: type[T], **criteria: object) -> list[T]:
        return list(self.session.scalars(select(cls).filter_by(**criteria).order_by(cls.id)))

    # -- rights holders ------------------------------------------------------------
    def rights(self, ids: Iterable[int]) -> dict[int, TrademarkRight]:
        ids = list(ids)
        return {r.id: r for r in self.session.scalars(select(TrademarkRight).where(TrademarkRight.id.in_(ids)))}

    def items_decided_since(self, holder_id: int, since: datetime) -> list[NoticeItem]:
        return list(self.session.scalars(
            select(NoticeItem).where(NoticeItem.holder_id == holder_id, NoticeItem.decided_at >= since)
        ))

    # -- marketplaces, sellers, listings ------------------------------------------------
    def marketplace(self, code: str) -> Marketplace:
        found = self.first(Marketplace, code=code)
        if found is None:
            raise NotFound("marketplace", code)
        return found

    def listing_by_ref(self, marketplace_code: str, listing_ref: str) -> Listing | None:
        return self.session.scalars(
            select(Listing).join(Marketplace, Marketplace.id == Listing.marketplace_id)
            .where(Marketplace.code == marketplace_code, Listing.listing_ref == listing_ref)
        ).first()

    def seller_by_ref(self, marketplace_code: str, seller_ref: str) -> Seller | None:
        return self.session.scalars(
            select(Seller).join(Marketplace, Marketplace.id == Seller.marketplace_id)
            .where(Marketplace.code == marketplace_code, Seller.seller_ref == seller_ref)
        ).first()

    def listings_of_seller(self, seller_id: int) -> list[Listing]:
        return self.all(Listing, seller_id=seller_id)

    def replace_identity_keys(self, seller_id: int, keys: frozenset[IdentityKey]) -> None:
        self.session.execute(delete(seller_identity_keys).where(seller_identity_keys.c.seller_id == seller_id))
        if keys:
            self.session.execute(insert(seller_identity_keys), [
                {"seller_id": seller_id, "kind": key.kind.value, "value": key.value} for key in keys
            ])

    def identity_keys(self, seller_id: int) -> frozenset[IdentityKey]:
        rows = self.session.execute(
            select(seller_identity_keys.c.kind, seller_identity_keys.c.value)
            .where(seller_identity_keys.c.seller_id == seller_id)
        )
        return frozenset(IdentityKey(LinkKind(kind), value) for kind, value in rows)

    def sellers_sharing(self, keys: frozenset[IdentityKey], *, exclude: int) -> dict[int, frozenset[IdentityKey]]:
        """Every other seller holding any of these keys, with all of its keys. Two queries whatever
        the number of sellers: asked as one list of (kind, value) pairs, both databases read the
        whole table, which grows with the marketplace (see `holders_of_keys`)."""
        ids = set().union(*self.holders_of_keys(keys).values()) - {exclude}
        found = self.identity_keys_of(ids)
        return {seller_id: found[seller_id] for seller_id in sorted(ids)}

    # -- notices and items ----------------------------------------------------------------
    def open_item(self, holder_id: int, listing_id: int) -> NoticeItem | None:
        return self.session.scalars(select(NoticeItem).where(
            NoticeItem.holder_id == holder_id, NoticeItem.listing_id == listing_id,
            NoticeItem.state.in_([s.value for s in ItemState if not s.is_terminal]),
        )).first()

    def items_of_listing(self, listing_id: int) -> list[NoticeItem]:
        return self.all(NoticeItem, listing_id=listing_id)

    def review_queue(self, limit: int = 100) -> list[NoticeItem]:
        return list(self.session.scalars(
            select(NoticeItem)
            .where(NoticeItem.state.in_([ItemState.IN_REVIEW, ItemState.IN_APPEAL]))
            .order_by(NoticeItem.review_due_at, NoticeItem.appeal_due_at, NoticeItem.id)
            .limit(limit)
        ))

    def due_for_overdue_flag(self, now: datetime) -> list[int]:
        return list(self.session.scalars(select(NoticeItem.id).where(
            NoticeItem.overdue.is_(False),
            or_(
                (NoticeItem.state == ItemState.IN_REVIEW) & (NoticeItem.review_due_at < now),
                (NoticeItem.state == ItemState.IN_APPEAL) & (NoticeItem.appeal_due_at < now),
            ),
        ).order_by(NoticeItem.id)))

    def due_for_lapse(self, now: datetime) -> list[int]:
        return list(self.session.scalars(select(NoticeItem.id).where(
            NoticeItem.state == ItemState.CONTESTED, NoticeItem.reply_due_at < now,
        ).order_by(NoticeItem.id)))

    def taken_down(self) -> list[tuple[Listing, Brand]]:
        """Listings whose removal stands, with each brand of the rights holder that removed them:
        what stay-down and the detector's bank of taken-down photos are made of."""
        return [tuple(row) for row in self.session.execute(  # type: ignore[misc]
            select(Listing, Brand)
            .join(NoticeItem, NoticeItem.listing_id == Listing.id)
            .join(Brand, Brand.holder_id == NoticeItem.holder_id)
            .where(NoticeItem.state.in_(list(STANDING_REMOVAL_STATES)))
            .order_by(Listing.id, Brand.id))]

    def statements_for_item(self, item_id: int) -> list[StatementOfReasons]:
        return self.all(StatementOfReasons, item_id=item_id)

    # -- strikes ----------------------------------------------------------------------------
    def strikes_of(self, seller_id: int) -> list[Strike]:
        return self.all(Strike, seller_id=seller_id)

    def strike_for_item(self, item_id: int) -> Strike | None:
        return self.first(Strike, item_id=item_id)

    # -- settings -----------------------------------------------------------------------------
    def setting(self, key: str) -> str | None:
        return self.session.scalar(select(settings.c.value).where(settings.c.key == key))

    def set_setting(self, key: str, value: str) -> None:
        self.session.execute(delete(settings).where(settings.c.key == key))
        self.session.execute(insert(settings).values(key=key, value=value))

    # -- batched reads, for notices naming many listings ----------------------------------------------
    def listings_by_id(self, ids: Iterable[int]) -> dict[int, Listing]:
        found: dict[int, Listing] = {}
        for batch in batches(sorted(set(ids))):
            found.update((x.id, x) for x in self.session.scalars(select(Listing).where(self._one_of(Listing.id, batch))))
        return found

    def listings_by_ref(self, refs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Listing]:
        """Listings by (marketplace code, listing ref), as the marketplace knows them."""
        codes = self._marketplace_ids()
        found: dict[tuple[str, str], Listing] = {}
        for code, listing_refs in _by_first(refs).items():
            if code not in codes:
                continue
            for batch in batches(sorted(listing_refs)):
                found.update(((code, x.listing_ref), x) for x in self.session.scalars(
                    select(Listing).where(Listing.marketplace_id == codes[code], self._one_of(Listing.listing_ref, batch))))
        return found

    def open_items_by_listing(self, holder_id: int, listing_ids: Iterable[int]) -> dict[int, int]:
        """The holder's open item (its id) on each of these listings that has one."""
        open_states = [s.value for s in ItemState if not s.is_terminal]
        found: dict[int, int] = {}
        for batch in batches(sorted(set(listing_ids))):
            found.update(self.session.execute(
                select(notice_items.c.listing_id, notice_items.c.id).where(
                    notice_items.c.holder_id == holder_id, self._one_of(notice_items.c.listing_id, batch),
                    notice_items.c.state.in_(open_states))).all())
        return found

    def listing_ids_by_ref(self, refs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Like `listings_by_ref`, without loading whole listings."""
        codes = self._marketplace_ids()
        found: dict[tuple[str, str], int] = {}
        for code, listing_refs in _by_first(refs).items():
            if code not in codes:
                continue
            for batch in batches(sorted(listing_refs)):
                found.update(((code, ref), id_) for ref, id_ in self.session.execute(
                    select(listings.c.listing_ref, listings.c.id)
                    .where(listings.c.marketplace_id == codes[code], self._one_of(listings.c.listing_ref, batch))))
        return found

    def existing_listing_ids(self, ids: Iterable[int]) -> set[int]:
        found: set[int] = set()
        for batch in batches(sorted(set(ids))):
            found.update(self.session.scalars(select(listings.c.id).where(self._one_of(listings.c.id, batch))))
        return found

    def listing_rows(self, ids: Iterable[int]) -> dict[int, Row[Any]]:
        """What taking a listing down needs to know of it, as plain rows."""
        found: dict[int, Row[Any]] = {}
        for batch in batches(sorted(set(ids))):
            found.update((row.id, row) for row in self.session.execute(select(
                listings.c.id, listings.c.marketplace_id, listings.c.listing_ref, listings.c.seller_id,
                listings.c.title, listings.c.status).where(self._one_of(listings.c.id, batch))))
        return found

    def seller_rows(self, ids: Iterable[int]) -> dict[int, Row[Any]]:
        """What sanctioning a seller needs to know of it, as plain rows."""
        found: dict[int, Row[Any]] = {}
        for batch in batches(sorted(set(ids))):
            found.update((row.id, row) for row in self.session.execute(select(
                sellers.c.id, sellers.c.marketplace_id, sellers.c.seller_ref, sellers.c.store_name,
                sellers.c.status, sellers.c.banned_at, sellers.c.ban_reason, sellers.c.sanction_level,
            ).where(self._one_of(sellers.c.id, batch))))
        return found

    def listing_rows_of_sellers(self, seller_ids: Iterable[int]) -> list[Row[Any]]:
        """Like `listing_rows`, for every listing of these sellers, in the order of their ids."""
        found: list[Row[Any]] = []
        for batch in batches(sorted(set(seller_ids))):
            found += self.session.execute(select(
                listings.c.id, listings.c.marketplace_id, listings.c.listing_ref, listings.c.seller_id,
                listings.c.title, listings.c.status).where(self._one_of(listings.c.seller_id, batch)))
        return sorted(found, key=lambda row: row.id)

    def identity_keys_of(self, seller_ids: Iterable[int]) -> dict[int, frozenset[IdentityKey]]:
        """`identity_keys` of many sellers at once (a seller with none is left out)."""
        found: dict[int, set[IdentityKey]] = {}
        for batch in batches(sorted(set(seller_ids))):
            for seller_id, kind, value in self.session.execute(
                    select(seller_identity_keys.c.seller_id, seller_identity_keys.c.kind, seller_identity_keys.c.value)
                    .where(self._one_of(seller_identity_keys.c.seller_id, batch))):
                found.setdefault(seller_id, set()).add(IdentityKey(LinkKind(kind), value))
        return {seller_id: frozenset(keys) for seller_id, keys in found.items()}

    def holders_of_keys(self, keys: Iterable[IdentityKey]) -> dict[IdentityKey, set[int]]:
        """Every seller holding each of these keys. Asked kind by kind, so that the (kind, value)
        index serves it (PostgreSQL scans the table for a long list of (kind, value) pairs)."""
        by_kind: dict[LinkKind, set[str]] = {}
        for key in keys:
            by_kind.setdefault(key.kind, set()).add(key.value)
        found: dict[IdentityKey, set[int]] = {}
        for kind, values in by_kind.items():
            for batch in batches(sorted(values)):
                for seller_id, value in self.session.execute(
                        select(seller_identity_keys.c.seller_id, seller_identity_keys.c.value).where(
                            seller_identity_keys.c.kind == kind.value,
                            self._one_of(seller_identity_keys.c.value, batch))):
                    found.setdefault(IdentityKey(kind, value), set()).add(seller_id)
        return found

    def strikes_of_sellers(self, seller_ids: Iterable[int]) -> dict[int, list[Strike]]:
        """Each seller's strikes, in the order `strikes_of` gives them."""
        found: dict[int, list[Strike]] = {}
        for batch in batches(sorted(set(seller_ids))):
            for strike in self.session.scalars(select(Strike).where(self._one_of(Strike.seller_id, batch)).order_by(Strike.id)):
                found.setdefault(strike.seller_id, []).append(strike)
        return found

    def decided_since_by_state(self, holder_id: int, since: datetime) -> list[tuple[ItemState, bool, int]]:
        """The holder's items decided since then, counted by state and by whether they were
        contested: what `items_decided_since` says about a filer's record, without loading each item."""
        contested = notice_items.c.contested_at.is_not(None)
        rows = self.session.execute(
            select(notice_items.c.state, contested, func.count())
            .where(notice_items.c.holder_id == holder_id, notice_items.c.decided_at >= since)
            .group_by(notice_items.c.state, contested))
        return [(ItemState(state), bool(was_contested), count) for state, was_contested, count in rows]

    def marketplace_codes(self) -> dict[int, str]:
        return {id_: code for code, id_ in self._marketplace_ids().items()}

    def _marketplace_ids(self) -> dict[str, int]:
        return dict(self.session.execute(select(marketplaces.c.code, marketplaces.c.id)).all())

    def reserve_ids(self, table: Table, count: int) -> list[int]:
        """Ids for `count` rows this transaction is about to insert itself, in ascending order.
        PostgreSQL takes them from the table's sequence; SQLite, where a writing transaction
        is alone (BEGIN IMMEDIATE), continues after the largest id: insert them before asking again."""
        if count <= 0:
            return []
        if self.session.get_bind().dialect.name == "postgresql":
            sequence = func.pg_get_serial_sequence(table.name, "id")
            taken = select(func.nextval(sequence).label("id")).select_from(func.generate_series(1, count)).subquery()
            return sorted(self.session.scalar(select(func.array_agg(taken.c.id))))
        largest = self.session.scalar(select(func.max(table.c.id))) or 0
        return list(range(largest + 1, largest + 1 + count))

    def insert_rows(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        insert_rows(self.session.connection(), table, rows)

    def set_listings_status(self, ids: Sequence[int], status: ListingStatus) -> None:
        for batch in batches(ids):
            self.session.execute(update(listings).where(self._one_of(listings.c.id, batch)).values(status=status))

    def set_sellers_standing(self, ids: Sequence[int], status: SellerStatus, level: int) -> None:
        for batch in batches(ids):
            self.session.execute(update(sellers).where(self._one_of(sellers.c.id, batch))
                                 .values(status=status, sanction_level=level))

    def _one_of(self, column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
        """`column IN values`. On PostgreSQL `column = ANY(array)`: one parameter however many values,
        where a long IN list costs more to send and parse than the query costs to run."""
        if self.session.get_bind().dialect.name == "postgresql":
            return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
        return column.in_(values)


BATCH = 5000  # values in one IN list: well under SQLite's limit of bound parameters


def batches(values: Sequence[T], size: int = BATCH) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _by_first(pairs: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    grouped: dict[str, set[str]] = {}
    for first, second in pairs:
        grouped.setdefault(first, set()).add(second)
    return grouped
