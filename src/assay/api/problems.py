"""Every error as RFC 9457 problem details (application/problem+json), never a stack trace."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException

from assay.domain.errors import (
    DomainError,
    FilingSuspended,
    IllegalTransition,
    NotFound,
    NotPermitted,
    ValidationFailed,
)
from assay.services.bulk_notices import TooLarge  # over a size or row limit: 413

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("assay.api")


class Unauthorized(DomainError):
    """No valid credentials (401)."""


class Forbidden(DomainError):
    """Valid credentials, but the role or token scope does not allow this at all (403)."""


class Conflict(DomainError):
    """The request conflicts with one in flight or with the current state (409)."""


class FieldProblem(BaseModel):
    field: str | None = Field(default=None, description="where: a dotted path such as `body.right_ids.0`")
    message: str


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = Field(description="what went wrong, and where, for a person to read")
    errors: list[FieldProblem] | None = Field(default=None, description="each invalid field (422)")
    request_id: str | None = Field(default=None, description="quote it when reporting a server error (500)")


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Problem answers a route may give, for its OpenAPI document."""
    return {status: {"model": Problem, "description": HTTPStatus(status).phrase} for status in statuses}


def document_problem_media_type(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI files every declared response under application/json; errors are problem+json."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for status, answer in operation.get("responses", {}).items():
                content = answer.get("content", {})
                if status[0] in "45" and "application/json" in content:
                    answer["content"] = {PROBLEM_JSON: content["application/json"]}
    return document


def problem(status: int, detail: str, *, title: str | None = None, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title or HTTPStatus(status).phrase, "status": status, "detail": detail}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_error(text: str) -> dict[str, str]:
    """Domain problems read 'where: what'; split them so a client can point at the field."""
    where, sep, what = text.partition(": ")
    return {"field": where, "message": what} if sep and " " not in where.strip() else {"message": text}


def _status_of(error: DomainError) -> int:
    # Subclasses first: they refine the broad DomainError answer.
    for cls, status in ((TooLarge, 413), (Unauthorized, 401), (Forbidden, 403), (FilingSuspended, 403),
                        (NotPermitted, 403), (NotFound, 404), (ValidationFailed, 422), (IllegalTransition, 409),
                        (Conflict, 409)):
        if isinstance(error, cls):
            return status
    return 409  # any other rule of the domain: the request conflicts with the current state


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, error: DomainError) -> JSONResponse:
        status = _status_of(error)
        extra: dict[str, Any] = {}
        if isinstance(error, ValidationFailed):
            extra["errors"] = [_field_error(p) for p in error.problems]
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return problem(status, str(error), headers=headers, **extra)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "invalid")}
                  for e in error.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:10]) or "the request is not valid"
        return problem(422, detail, errors=errors)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, error: HTTPException) -> JSONResponse:
        detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
        if error.status_code == 400:  # the framework could not read the body (not UTF-8, a broken form)
            return problem(422, f"body: {detail.lower()}", errors=[{"field": "body", "message": detail}])
        return problem(error.status_code, detail, headers=getattr(error, "headers", None))

    @app.exception_handler(IntegrityError)
    async def integrity(request: Request, error: IntegrityError) -> JSONResponse:
        # A race lost to a concurrent request (a unique key taken between check and write).
        log.info("integrity conflict", extra={"request_id": getattr(request.state, "request_id", None)})
        return problem(409, "the request conflicts with a concurrent change; read the current state and retry",
                       headers={"Retry-After": "1"})

    @app.exception_handler(OperationalError)
    async def database_busy(request: Request, error: OperationalError) -> JSONResponse:
        log.warning("database unavailable", extra={"request_id": getattr(request.state, "request_id", None),
                                                   "error": str(error.orig)})
        return problem(503, "the database is busy or unreachable; retry shortly", headers={"Retry-After": "2"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        request_id = getattr(request.state, "request_id", None)
        log.exception("unexpected error", extra={"request_id": request_id})
        # Answered outside the middleware that echoes the request id, so it is added here.
        return problem(500, "the server met an unexpected condition; it has been logged with the request id",
                       request_id=request_id, headers={"X-Request-ID": request_id} if request_id else None)
