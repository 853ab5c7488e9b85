"""Read models for the API: lists and single objects, filtered to what a principal may see.

Visibility is decided by the rules in domain/access.py; list queries apply the same rules
as SQL filters, so a page never holds another tenant's rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Select, false, func, select

from assay.domain import access
from assay.domain.access import Principal, Role
from assay.domain.audit import AuditEvent
from assay.domain.errors import NotFound
from assay.domain.model import Brand, Listing, RightsHolder, Seller, TrademarkRight
from assay.domain.notices import Notice, NoticeItem
from assay.domain.policies import Strike
from assay.domain.reasons import StatementOfReasons
from assay.store.audit_log import events_for
from assay.store.tables import suggestions
from assay.store.uow import UnitOfWork

T = TypeVar("T")


def page(uow: UnitOfWork, query: Select, limit: int, offset: int) -> tuple[list[Any], int]:
    total = uow.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = list(uow.session.scalars(query.limit(limit).offset(offset)))
    return rows, total


# -- rights holders, rights, brands ---------------------------------------------------------------------
def _visible(uow: UnitOfWork, kind: str, entity: type[T], entity_id: int, sees: Callable[[T], bool]) -> T:
    """The object, if it exists and the caller may see it; else NotFound, the same either way."""
    found = uow.session.get(entity, entity_id)
    if found is None or not sees(found):
        raise NotFound(kind, entity_id)
    return found


def _holders_own(query: Select, p: Principal, holder_column: Any) -> Select:
    """Staff see every row; a rights holder its own; anyone else none."""
    if p.is_staff:
        return query
    return query.where(holder_column == p.holder_id) if p.role is Role.HOLDER else query.where(false())


def holder(uow: UnitOfWork, p: Principal, holder_id: int) -> RightsHolder:
    return _visible(uow, "rights holder", RightsHolder, holder_id, lambda h: access.sees_holder(p, h.id))


def right(uow: UnitOfWork, p: Principal, right_id: int) -> TrademarkRight:
    return _visible(uow, "right", TrademarkRight, right_id, lambda r: access.sees_holder(p, r.holder_id))


def rights_query(p: Principal, status: str | None) -> Select:
    query = select(TrademarkRight).order_by(TrademarkRight.id)
    if status:
        query = query.where(TrademarkRight.status == status)
    return _holders_own(query, p, TrademarkRight.holder_id)


def brand(uow: UnitOfWork, p: Principal, brand_id: int) -> Brand:
    return _visible(uow, "brand", Brand, brand_id, lambda b: access.sees_holder(p, b.holder_id))


def brands_query(p: Principal) -> Select:
    return _holders_own(select(Brand).order_by(Brand.id), p, Brand.holder_id)


# -- notices and items ----------------------------------------------------------------------------------------
def notice(uow: UnitOfWork, p: Principal, notice_id: int) -> Notice:
    """A notice as a whole is its filer's (and staff's): it may name many sellers' listings."""
    return _visible(uow, "notice", Notice, notice_id, lambda n: access.sees_holder(p, n.holder_id))


def notices_query(p: Principal, lane: str | None, source: str | None) -> Select:
    query = select(Notice).order_by(Notice.id.desc())
    if lane:
        query = query.where(Notice.lane == lane)
    if source:
        query = query.where(Notice.source == source)
    return _holders_own(query, p, Notice.holder_id)


def item(uow: UnitOfWork, p: Principal, item_id: int) -> NoticeItem:
    found = uow.session.get(NoticeItem, item_id)
    if found is None:
        raise NotFound("notice item", item_id)
    listing = uow.session.get(Listing, found.listing_id)
    if not access.sees_item(p, holder_id=found.holder_id, seller_id=found.seller_id,
                            marketplace_id=listing.marketplace_id if listing else -1):
        raise NotFound("notice item", item_id)
    return found


def items_query(p: Principal, *, state: str | None, listing_id: int | None, seller_id: int | None) -> Select:
    query = select(NoticeItem).order_by(NoticeItem.id.desc())
    for column, value in ((NoticeItem.state, state), (NoticeItem.listing_id, listing_id),
                          (NoticeItem.seller_id, seller_id)):
        if value is not None:
            query = query.where(column == value)
    if p.is_staff:
        return query
    if p.role is Role.HOLDER:
        return query.where(NoticeItem.holder_id == p.holder_id)
    if p.role is Role.SELLER:
        return query.where(NoticeItem.seller_id == p.seller_id)
    return query.join(Listing, Listing.id == NoticeItem.listing_id).where(Listing.marketplace_id == p.marketplace_id)


def statements_of_item(uow: UnitOfWork, p: Principal, item_id: int) -> list[StatementOfReasons]:
    item(uow, p, item_id)
    return uow.repo.statements_for_item(item_id)


def case_trail(uow: UnitOfWork, p: Principal, item_id: int) -> list[AuditEvent]:
    """The audit trail of a case: the item's events, and its notice's filing (staff and the filer)."""
    found = item(uow, p, item_id)
    events = events_for(uow.session, "notice_item", item_id)
    if access.sees_holder(p, found.holder_id):
        events += events_for(uow.session, "notice", found.notice_id)
    return sorted(events, key=lambda e: e.seq)


# -- sellers, listings, strikes -------------------------------------------------------------------------------
def seller(uow: UnitOfWork, p: Principal, seller_id: int) -> Seller:
    return _visible(uow, "seller", Seller, seller_id, lambda s: access.sees_seller(p, s.id, s.marketplace_id))


def sellers_query(p: Principal, status: str | None) -> Select:
    query = select(Seller).order_by(Seller.id)
    if status:
        query = query.where(Seller.status == status)
    if p.is_staff:
        return query
    if p.role is Role.INTEGRATION:
        return query.where(Seller.marketplace_id == p.marketplace_id)
    if p.role is Role.SELLER:
        return query.where(Seller.id == p.seller_id)
    return query.where(false())


def strikes(uow: UnitOfWork, p: Principal, seller_id: int) -> list[Strike]:
    seller(uow, p, seller_id)
    return uow.repo.strikes_of(seller_id)


def seller_statements(uow: UnitOfWork, p: Principal, seller_id: int) -> list[StatementOfReasons]:
    seller(uow, p, seller_id)
    return uow.repo.all(StatementOfReasons, seller_id=seller_id)


def listing(uow: UnitOfWork, p: Principal, listing_id: int) -> Listing:
    return _visible(uow, "listing", Listing, listing_id,
                    lambda li: access.sees_listing(p, li.seller_id, li.marketplace_id))


def listings_query(p: Principal, *, seller_id: int | None, status: str | None, q: str | None) -> Select:
    query = select(Listing).order_by(Listing.id)
    if seller_id is not None:
        query = query.where(Listing.seller_id == seller_id)
    if status:
        query = query.where(Listing.status == status)
    if q:
        query = query.where(Listing.title.ilike(f"%{q}%"))
    if p.is_staff or p.role is Role.HOLDER:
        return query
    if p.role is Role.INTEGRATION:
        return query.where(Listing.marketplace_id == p.marketplace_id)
    return query.where(Listing.seller_id == p.seller_id)


# -- suggestions --------------------------------------------------------------------------------------------------
def suggestion(uow: UnitOfWork, p: Principal, suggestion_id: int) -> dict[str, Any]:
    row = uow.session.execute(select(suggestions, Brand.holder_id).join(Brand, Brand.id == suggestions.c.brand_id)
                              .where(suggestions.c.id == suggestion_id)).mappings().first()
    if row is None or not access.sees_holder(p, row["holder_id"]):
        raise NotFound("suggestion", suggestion_id)
    return dict(row)


def suggestions_page(uow: UnitOfWork, p: Principal, *, status: str | None, brand_id: int | None,
                     verdict: str | None, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    query = select(suggestions).join(Brand, Brand.id == suggestions.c.brand_id).order_by(suggestions.c.id.desc())
    for column, value in ((suggestions.c.status, status), (suggestions.c.brand_id, brand_id),
                          (suggestions.c.verdict, verdict)):
        if value is not None:
            query = query.where(column == value)
    if not p.is_staff:
        query = query.where(Brand.holder_id == p.holder_id) if p.role is Role.HOLDER \
            else query.where(false())
    total = uow.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = [dict(r) for r in uow.session.execute(query.limit(limit).offset(offset)).mappings()]
    return rows, total
