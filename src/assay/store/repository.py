"""Queries the use cases need, in the domain's terms."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import delete, insert, or_, select, tuple_
from sqlalchemy.orm import Session

from assay.domain.errors import NotFound
from assay.domain.identity import IdentityKey, LinkKind
from assay.domain.model import Brand, Listing, Marketplace, RightsHolder, Seller, TrademarkRight
from assay.domain.notices import STANDING_REMOVAL_STATES, ItemState, Notice, NoticeItem
from assay.domain.policies import Strike
from assay.domain.reasons import StatementOfReasons
from assay.store.tables import seller_identity_keys, settings

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
        """Every other seller holding any of these keys, with all of its keys."""
        if not keys:
            return {}
        pairs = [(key.kind.value, key.value) for key in keys]
        ids = set(self.session.scalars(
            select(seller_identity_keys.c.seller_id)
            .where(tuple_(seller_identity_keys.c.kind, seller_identity_keys.c.value).in_(pairs))
            .where(seller_identity_keys.c.seller_id != exclude)
        ))
        return {seller_id: self.identity_keys(seller_id) for seller_id in sorted(ids)}

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
