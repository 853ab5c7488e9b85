"""Sellers, listings and strikes; a marketplace's own feed of changes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from assay.api.deps import Caller, PageParams, Work, role
from assay.api.routers.notices import statement_out
from assay.api.schemas import (
    ListingOut,
    Page,
    RecordsIn,
    RecordsOut,
    RejectedRecord,
    SellerOut,
    StatementOut,
    StrikeOut,
)
from assay.domain.access import Principal, Role
from assay.domain.model import ListingStatus, Marketplace, SellerStatus
from assay.services import marketplace, views
from assay.store.uow import UnitOfWork

router = APIRouter(prefix="/v1", tags=["sellers and listings"])
Integration = Annotated[Principal, Depends(role(Role.INTEGRATION))]


@router.get("/sellers", response_model=Page[SellerOut])
def list_sellers(principal: Caller, uow: Work, paging: PageParams,
                 status: Annotated[SellerStatus | None, Query()] = None) -> dict:
    rows, total = views.page(uow, views.sellers_query(principal, status), paging.limit, paging.offset)
    return {"items": rows, "total": total, "limit": paging.limit, "offset": paging.offset}


@router.get("/sellers/{seller_id}", response_model=SellerOut)
def get_seller(seller_id: int, principal: Caller, uow: Work) -> object:
    return views.seller(uow, principal, seller_id)


@router.get("/sellers/{seller_id}/strikes", response_model=list[StrikeOut])
def seller_strikes(seller_id: int, principal: Caller, uow: Work) -> list[StrikeOut]:
    """Every strike, standing or not: a strike stands until it is reversed or ages out."""
    return [StrikeOut(id=s.id, seller_id=s.seller_id, item_id=s.item_id, kind=s.kind.value, issued_at=s.issued_at,
                      revoked_at=s.revoked_at, standing=s.is_standing(uow.now, uow.policy))
            for s in views.strikes(uow, principal, seller_id)]


@router.get("/sellers/{seller_id}/statements", response_model=list[StatementOut])
def seller_statements(seller_id: int, principal: Caller, uow: Work) -> list[StatementOut]:
    """The statements of reasons for every decision that touched this seller, sanctions included."""
    return [statement_out(s) for s in views.seller_statements(uow, principal, seller_id)]


@router.get("/listings", response_model=Page[ListingOut])
def list_listings(principal: Caller, uow: Work, paging: PageParams,
                  seller_id: Annotated[int | None, Query()] = None,
                  status: Annotated[ListingStatus | None, Query()] = None,
                  q: Annotated[str | None, Query(max_length=200, description="words in the title")] = None) -> dict:
    query = views.listings_query(principal, seller_id=seller_id, status=status, q=q)
    rows, total = views.page(uow, query, paging.limit, paging.offset)
    return {"items": rows, "total": total, "limit": paging.limit, "offset": paging.offset}


@router.get("/listings/{listing_id}", response_model=ListingOut)
def get_listing(listing_id: int, principal: Caller, uow: Work) -> object:
    return views.listing(uow, principal, listing_id)


def _records(request: Request, principal: Principal, kind: str, body: RecordsIn) -> RecordsOut:
    app = request.app.state.assay

    def new_uow() -> UnitOfWork:
        return app.uow(principal.actor, request_id=getattr(request.state, "request_id", None))

    with new_uow() as uow:
        code = uow.repo.get(Marketplace, principal.marketplace_id).code  # type: ignore[arg-type]
    accepted, rejected = marketplace.upsert_records(new_uow, marketplace=code, kind=kind, records=body.records)
    return RecordsOut(accepted=accepted, rejected=[RejectedRecord(index=i, reason=r) for i, r in rejected])


@router.put("/marketplace/sellers", response_model=RecordsOut, tags=["marketplace integration"])
def upsert_sellers(body: RecordsIn, request: Request, principal: Integration) -> RecordsOut:
    """Create or update up to 1,000 of your sellers (records as in sellers.jsonl)."""
    return _records(request, principal, "sellers", body)


@router.put("/marketplace/listings", response_model=RecordsOut, tags=["marketplace integration"])
def upsert_listings(body: RecordsIn, request: Request, principal: Integration) -> RecordsOut:
    """Create or update up to 1,000 of your listings (records as in listings.jsonl); each new or
    changed listing is judged by detection, which is how a removed listing is caught when posted again."""
    return _records(request, principal, "listings", body)
