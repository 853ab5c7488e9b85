"""What every route needs: the application, the caller, a unit of work in the caller's name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Select

from assay.api.problems import Forbidden, Unauthorized
from assay.api.schemas import MAX_ID
from assay.api.settings import Settings
from assay.domain.access import Principal, Role, Scope
from assay.services import views
from assay.store.uow import UnitOfWork

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
IdFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]


# Dependencies that only read the request are coroutines: FastAPI runs a plain function
# dependency in a worker thread, a hop that costs more than the work.
async def settings(request: Request) -> Settings:
    return request.app.state.settings


# Declares the bearer scheme in the OpenAPI document; the Authentication middleware reads the token.
bearer = HTTPBearer(auto_error=False, description="a token from POST /v1/auth/token or POST /v1/tokens")


async def caller(request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    """The authenticated principal (the middleware read the bearer token), or 401."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise Unauthorized("sign in: send `Authorization: Bearer <token>` (POST /v1/auth/token gives one)")
    needed = Scope.READ if request.method in SAFE_METHODS else Scope.WRITE
    if needed not in principal.scopes:
        raise Forbidden(f"this token lacks the '{needed.value}' scope")
    return principal


Caller = Annotated[Principal, Depends(caller)]


def role(*allowed: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting only these roles; the others get 403 for the whole route."""
    async def check(principal: Caller) -> Principal:
        if principal.role not in allowed:
            names = ", ".join(r.value for r in allowed)
            raise Forbidden(f"this needs the role {names}; you are {principal.role.value}")
        return principal
    return check


def work(request: Request, principal: Caller) -> Iterator[UnitOfWork]:
    """One unit of work per request, in the caller's name, carrying the request id into the audit log."""
    with request.app.state.assay.uow(principal.actor, request_id=getattr(request.state, "request_id", None)) as uow:
        yield uow


def public_work(request: Request) -> Iterator[UnitOfWork]:
    with request.app.state.assay.uow("public", request_id=getattr(request.state, "request_id", None)) as uow:
        yield uow


Work = Annotated[UnitOfWork, Depends(work)]
PublicWork = Annotated[UnitOfWork, Depends(public_work)]


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int

    def answer(self, rows: list[Any], total: int) -> dict[str, Any]:
        """A list route's answer: the page's rows, with how many the filters leave in all."""
        return {"items": rows, "total": total, "limit": self.limit, "offset": self.offset}

    def of(self, uow: UnitOfWork, query: Select) -> dict[str, Any]:
        """The page of `query` this request asks for, as a list route answers it."""
        return self.answer(*views.page(uow, query, self.limit, self.offset))


async def paging(limit: Annotated[int, Query(ge=1, le=500)] = 50,
                 offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Paging:
    return Paging(limit, offset)


PageParams = Annotated[Paging, Depends(paging)]

