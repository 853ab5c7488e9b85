"""Signing in, API tokens, accounts, and a rights holder's enrolment."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select

from assay.api import deps, problems
from assay.api.deps import Caller, Id, PublicWork, Work
from assay.api.problems import Forbidden, Unauthorized
from assay.api.schemas import (
    EnrolmentIn,
    EnrolmentOut,
    IssuedTokenOut,
    LoginIn,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
)
from assay.api.settings import Settings
from assay.domain import access
from assay.domain.access import Principal, Role, Scope
from assay.domain.model import Seller
from assay.services import accounts, enrolment

router = APIRouter(prefix="/v1", tags=["accounts"], responses=problems.responses(404, 409))
SettingsDep = Annotated[Settings, Depends(deps.settings)]
Granter = Annotated[Principal, Depends(deps.role(Role.ADMIN, Role.INTEGRATION))]


@router.post("/auth/token", response_model=IssuedTokenOut, status_code=201)
def sign_in(body: LoginIn, uow: PublicWork, settings: SettingsDep) -> IssuedTokenOut:
    """Exchange an email and password for a bearer token valid for some hours."""
    user_id = accounts.authenticate(uow, body.email, body.password)
    if user_id is None:
        raise Unauthorized("the email or password is not right")
    issued = accounts.issue_token(uow, user_id, key=settings.token_key, name="sign-in",
                                  scopes=[Scope.READ, Scope.WRITE],
                                  lifetime=timedelta(hours=settings.login_token_hours))
    return IssuedTokenOut(token=issued.secret, token_id=issued.id, expires_at=issued.expires_at)


@router.get("/me", response_model=UserOut)
def me(principal: Caller, uow: Work) -> dict:
    return accounts.user_summary(uow, principal.user_id)


@router.post("/tokens", response_model=IssuedTokenOut, status_code=201)
def issue_token(body: TokenIn, principal: Caller, uow: Work, settings: SettingsDep) -> IssuedTokenOut:
    """An API token for a machine client: scoped (read, write), expiring, revocable.
    A token cannot grant more than the token that asks for it."""
    if not set(body.scopes) <= principal.scopes:
        raise Forbidden("a token cannot grant scopes its creator's token lacks")
    issued = accounts.issue_token(uow, principal.user_id, key=settings.token_key, name=body.name,
                                  scopes=body.scopes, lifetime=timedelta(days=body.expires_in_days))
    return IssuedTokenOut(token=issued.secret, token_id=issued.id, expires_at=issued.expires_at)


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(principal: Caller, uow: Work) -> list[dict]:
    return accounts.tokens_of(uow, principal.user_id)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: Id, principal: Caller, uow: Work) -> Response:
    accounts.revoke_token(uow, token_id, user_id=principal.user_id)
    return Response(status_code=204)


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(body: UserIn, principal: Granter, uow: Work) -> dict:
    """Admins create any account; a marketplace integration creates its own sellers' accounts."""
    seller_market = None
    if body.seller_id is not None:
        seller_market = uow.session.scalar(select(Seller.marketplace_id).where(Seller.id == body.seller_id))
    if not access.may_grant(principal, body.role, marketplace_of_seller=seller_market):
        raise Forbidden(f"you may not create {body.role.value} accounts"
                        + (" for that seller" if principal.role is Role.INTEGRATION else ""))
    user_id = accounts.create_user(uow, email=body.email, password=body.password, role=body.role,
                                   display_name=body.display_name, holder_id=body.holder_id,
                                   marketplace_id=body.marketplace_id, seller_id=body.seller_id)
    return accounts.user_summary(uow, user_id)


@router.post("/enrolments", response_model=EnrolmentOut, status_code=201, tags=["rights holders"])
def enroll(body: EnrolmentIn, uow: PublicWork) -> EnrolmentOut:
    """A rights holder enrolls: the organisation and the first member's account, in one step.
    Its rights are then claimed and verified by the coalition before any notice takes effect."""
    holder_id = enrolment.enroll_holder(uow, name=body.organisation, contact_email=body.contact_email,
                                        sign_good_faith=body.sign_good_faith, commit=False)
    user_id = accounts.create_user(uow, email=body.contact_email, password=body.password, role=Role.HOLDER,
                                   display_name=body.display_name, holder_id=holder_id)
    return EnrolmentOut(holder_id=holder_id, user_id=user_id)
