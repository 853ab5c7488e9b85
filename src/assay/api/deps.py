"""What every route needs: the application, the caller, a unit of work in the caller's name."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Query, Request

from assay.api.problems import Forbidden, Unauthorized
from assay.api.settings import Settings
from assay.domain.access import Principal, Role, Scope
from assay.domain.errors import NotFound
from assay.services.app import Assay
from assay.store.uow import UnitOfWork

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def assay(request: Request) -> Assay:
    return request.app.state.assay


def settings(request: Request) -> Settings:
    return request.app.state.settings


def caller(request: Request) -> Principal:
    """The authenticated principal (the middleware read the bearer token), or 401."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise Unauthorized("sign in: send `Authorization: Bearer <token>` (POST /v1/auth/token gives one)")
    needed = Scope.READ if request.method in SAFE_METHODS else Scope.WRITE
    if needed not in principal.scopes:
        raise Forbidden(f"this token lacks the '{needed.value}' scope")
    return principal


Caller = Annotated[Principal, Depends(caller)]


def role(*allowed: Role) -> Callable[[Principal], Principal]:
    """A dependency admitting only these roles; the others get 403 for the whole route."""
    def check(principal: Caller) -> Principal:
        if principal.role not in allowed:
            names = ", ".join(r.value for r in allowed)
            raise Forbidden(f"this needs the role {names}; you are {principal.role.value}")
        return principal
    return check


def work(request: Request, principal: Caller) -> Iterator[UnitOfWork]:
    """One unit of work per request, in the caller's name, carrying the request id into the audit log."""
    with assay(request).uow(principal.actor, request_id=getattr(request.state, "request_id", None)) as uow:
        yield uow


def public_work(request: Request) -> Iterator[UnitOfWork]:
    with assay(request).uow("public", request_id=getattr(request.state, "request_id", None)) as uow:
        yield uow


Work = Annotated[UnitOfWork, Depends(work)]
PublicWork = Annotated[UnitOfWork, Depends(public_work)]


class Paging:
    def __init__(self, limit: Annotated[int, Query(ge=1, le=500)] = 50,
                 offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> None:
        self.limit = limit
        self.offset = offset


PageParams = Annotated[Paging, Depends()]


def visible(allowed: bool, kind: str, key: object) -> None:
    """Another tenant's object answers exactly as one that does not exist."""
    if not allowed:
        raise NotFound(kind, key)
