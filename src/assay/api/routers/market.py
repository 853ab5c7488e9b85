"""Sellers, listings and strikes; a marketplace's own feed of changes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from assay.api import problems
from assay.api.deps import Caller, Id, IdFilter, PageParams, Work, role
from assay.api.routers.notices import statement_out
from assay.api.schemas import (
    NO_NUL,
    ListingOut,
    Page,
    RecordsIn,
    RecordsOut,
    RejectedRecord,
    SellerOut,
    StatementOut,
    StrikeOut,
    holds_nul,
)
from assay.domain.access import Principal, Role
from assay.domain.model import ListingStatus, Marketplace, SellerStatus
from assay.services import marketplace, views
from assay.store.tables import listings, sellers
from assay.store.uow import UnitOfWork

router = APIRouter(prefix="/v1", tags=["sellers and listings"], responses=problems.responses(404, 409))
Integration = Annotated[Principal, Depends(role(Role.INTEGRATION))]


@router.get("/sellers", response_model=Page[SellerOut])
def list_sellers(principal: Caller, uow: Work, paging: PageParams,
                 status: Annotated[SellerStatus | None, Query()] = None) -> dict:
    return paging.of(uow, views.sellers_query(principal, status))


@router.get("/sellers/{seller_id}", response_model=SellerOut)
def get_seller(seller_id: Id, principal: Caller, uow: Work) -> object:
    return views.seller(uow, principal, seller_id)


@router.get("/sellers/{seller_id}/strikes", response_model=list[StrikeOut])
def seller_strikes(seller_id: Id, principal: Caller, uow: Work) -> list[StrikeOut]:
    """Every strike, standing or not: a strike stands until it is reversed or ages out."""
    return [StrikeOut(id=s.id, seller_id=s.seller_id, item_id=s.item_id, kind=s.kind.value, issued_at=s.issued_at,
                      revoked_at=s.revoked_at, standing=s.is_standing(uow.now, uow.policy))
            for s in views.strikes(uow, principal, seller_id)]


@router.get("/sellers/{seller_id}/statements", response_model=list[StatementOut])
def seller_statements(seller_id: Id, principal: Caller, uow: Work) -> list[StatementOut]:
    """The statements of reasons for every decision that touched this seller, sanctions included."""
    return [statement_out(s) for s in views.seller_statements(uow, principal, seller_id)]


@router.get("/listings", response_model=Page[ListingOut])
def list_listings(principal: Caller, uow: Work, paging: PageParams,
                  seller_id: IdFilter = None,
                  status: Annotated[ListingStatus | None, Query()] = None,
                  q: Annotated[str | None, Query(max_length=200, pattern=NO_NUL, description="words in the title")]
                  = None) -> dict:
    query = views.listings_query(principal, seller_id=seller_id, status=status, q=q)
    return paging.of(uow, query)


@router.get("/listings/{listing_id}", response_model=ListingOut)
def get_listing(listing_id: Id, principal: Caller, uow: Work) -> object:
    return views.listing(uow, principal, listing_id)


# The longest text the store keeps for each field of a record (PostgreSQL refuses longer). An
# address becomes an identity key of at most 400 characters once normalised, which may lengthen it.
LONGEST: dict[str, dict[str, int]] = {
    "sellers": {"seller_id": sellers.c.seller_ref.type.length, "store_name": sellers.c.store_name.type.length,
                "identity.legal_name": sellers.c.legal_name.type.length, "identity.email": sellers.c.email.type.length,
                "identity.phone": sellers.c.phone.type.length, "identity.tax_id": sellers.c.tax_id.type.length,
                "identity.payment_account": sellers.c.payment_account.type.length, "identity.address": 300},
    "listings": {"listing_id": listings.c.listing_ref.type.length, "seller_id": sellers.c.seller_ref.type.length,
                 "category": listings.c.category.type.length},
}


def _unstorable(kind: str, record: Any) -> str | None:
    """Why the store could not keep this record's text, if it could not; the feed's own rules come after."""
    if not isinstance(record, dict):
        return None
    if holds_nul(record):
        return "text may not contain NUL characters"
    for name, longest in LONGEST[kind].items():
        section, _, key = name.rpartition(".")
        holder = record.get(section) if section else record
        value = holder.get(key) if isinstance(holder, dict) else None
        if isinstance(value, str) and len(value) > longest:
            return f"{name}: at most {longest} characters, not {len(value)}"
    return None


def _records(request: Request, principal: Principal, kind: str, body: RecordsIn) -> RecordsOut:
    app = request.app.state.assay

    def new_uow() -> UnitOfWork:
        return app.uow(principal.actor, request_id=getattr(request.state, "request_id", None))

    with new_uow() as uow:
        code = uow.repo.get(Marketplace, principal.marketplace_id).code  # type: ignore[arg-type]
    refused = {i: why for i, record in enumerate(body.records) if (why := _unstorable(kind, record))}
    kept = [i for i in range(len(body.records)) if i not in refused]
    accepted, rejected = marketplace.upsert_records(new_uow, marketplace=code, kind=kind,
                                                    records=[body.records[i] for i in kept])
    refused.update((kept[i], why) for i, why in rejected)
    return RecordsOut(accepted=accepted, rejected=[RejectedRecord(index=i, reason=refused[i]) for i in sorted(refused)])


@router.put("/marketplace/sellers", response_model=RecordsOut, tags=["marketplace integration"])
def upsert_sellers(body: RecordsIn, request: Request, principal: Integration) -> RecordsOut:
    """Create or update up to 1,000 of your sellers (records as in sellers.jsonl)."""
    return _records(request, principal, "sellers", body)


@router.put("/marketplace/listings", response_model=RecordsOut, tags=["marketplace integration"])
def upsert_listings(body: RecordsIn, request: Request, principal: Integration) -> RecordsOut:
    """Create or update up to 1,000 of your listings (records as in listings.jsonl); each new or
    changed listing is judged by detection, which is how a removed listing is caught when posted again."""
    return _records(request, principal, "listings", body)
