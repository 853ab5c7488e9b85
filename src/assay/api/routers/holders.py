"""Rights holders, their trademark rights (claimed, then verified), brands and catalogs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from assay.api import problems
from assay.api.deps import Caller, Id, PageParams, Work, role
from assay.api.problems import Forbidden
from assay.api.schemas import (
    AuthorizedSellerIn,
    BrandIn,
    BrandOut,
    HolderOut,
    Page,
    ProactiveIn,
    ProductOut,
    RightDecisionIn,
    RightIn,
    RightOut,
)
from assay.domain import access
from assay.domain.access import Principal, Role
from assay.domain.model import Product, RightStatus
from assay.services import catalog, enrolment, views

router = APIRouter(prefix="/v1", tags=["rights holders"], responses=problems.responses(404, 409))
Holder = Annotated[Principal, Depends(role(Role.HOLDER))]
Admin = Annotated[Principal, Depends(role(Role.ADMIN))]


def _acting_holder(principal: Principal, holder_id: int) -> None:
    if not access.acts_for_holder(principal, holder_id):
        raise Forbidden("only the rights holder's own members act in its name")


@router.get("/holders/{holder_id}", response_model=HolderOut)
def get_holder(holder_id: Id, principal: Caller, uow: Work) -> object:
    return views.holder(uow, principal, holder_id)


@router.post("/holders/{holder_id}/undertaking", response_model=HolderOut)
def sign_undertaking(holder_id: Id, principal: Holder, uow: Work) -> object:
    """Sign the good-faith undertaking: notices only where infringement is believed in good faith."""
    views.holder(uow, principal, holder_id)
    _acting_holder(principal, holder_id)
    enrolment.sign_good_faith_undertaking(uow, holder_id)
    return views.holder(uow, principal, holder_id)


@router.post("/rights", response_model=RightOut, status_code=201)
def claim_right(body: RightIn, principal: Holder, uow: Work) -> object:
    """Claim a trademark registration; it backs notices once the coalition has verified it."""
    assert principal.holder_id is not None
    right_id = enrolment.add_right(uow, holder_id=principal.holder_id, **body.model_dump())
    return views.right(uow, principal, right_id)


@router.get("/rights", response_model=Page[RightOut])
def list_rights(principal: Caller, uow: Work, paging: PageParams,
                status: Annotated[RightStatus | None, Query()] = None) -> dict:
    return paging.of(uow, views.rights_query(principal, status))


@router.get("/rights/{right_id}", response_model=RightOut)
def get_right(right_id: Id, principal: Caller, uow: Work) -> object:
    return views.right(uow, principal, right_id)


@router.post("/rights/{right_id}/decision", response_model=RightOut)
def decide_right(right_id: Id, body: RightDecisionIn, principal: Admin, uow: Work) -> object:
    """The coalition's verdict on a claimed registration, after checking it with the office."""
    views.right(uow, principal, right_id)
    enrolment.decide_right(uow, right_id, verified=body.verified, reason=body.reason)
    return views.right(uow, principal, right_id)


@router.post("/brands", response_model=BrandOut, status_code=201)
def register_brand(body: BrandIn, principal: Holder, uow: Work) -> object:
    """Register a brand (or replace its catalog): marks, categories, products with MSRPs, authorized sellers."""
    assert principal.holder_id is not None
    brand_id = catalog.register_brand(
        uow, holder_id=principal.holder_id, brand_ref=body.brand_ref, name=body.name, marks=body.marks,
        categories=body.categories, products=[p.model_dump(mode="json") for p in body.products],
        authorized_sellers=body.authorized_sellers)
    return views.brand(uow, principal, brand_id)


@router.get("/brands", response_model=Page[BrandOut])
def list_brands(principal: Caller, uow: Work, paging: PageParams) -> dict:
    return paging.of(uow, views.brands_query(principal))


@router.get("/brands/{brand_id}", response_model=BrandOut)
def get_brand(brand_id: Id, principal: Caller, uow: Work) -> object:
    return views.brand(uow, principal, brand_id)


@router.get("/brands/{brand_id}/products", response_model=list[ProductOut])
def brand_products(brand_id: Id, principal: Caller, uow: Work) -> list[object]:
    views.brand(uow, principal, brand_id)
    return uow.repo.all(Product, brand_id=brand_id)


@router.post("/brands/{brand_id}/authorized-sellers", response_model=BrandOut)
def authorize_seller(brand_id: Id, body: AuthorizedSellerIn, principal: Holder, uow: Work) -> object:
    """Name (or stop naming) a seller as an authorized reseller: a strong sign of genuine goods."""
    brand = views.brand(uow, principal, brand_id)
    _acting_holder(principal, brand.holder_id)
    catalog.set_authorized_seller(uow, brand_id=brand_id, seller_ref=body.seller_ref, authorized=body.authorized)
    return views.brand(uow, principal, brand_id)


@router.put("/brands/{brand_id}/proactive-removal", response_model=BrandOut)
def proactive_removal(brand_id: Id, body: ProactiveIn, principal: Holder, uow: Work) -> object:
    """Opt in (or out) of detection filing expedited notices in the brand's name."""
    brand = views.brand(uow, principal, brand_id)
    _acting_holder(principal, brand.holder_id)
    catalog.set_proactive_removal(uow, brand_id=brand_id, holder_id=brand.holder_id, enabled=body.enabled)
    return views.brand(uow, principal, brand_id)
