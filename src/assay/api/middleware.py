"""Request plumbing, outermost first: request id and access log, authentication,
rate limits, idempotency keys."""

from __future__ import annotations

import hashlib
import logging
import math
import time
import uuid

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.concurrency import run_in_threadpool
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

from assay.api.problems import problem
from assay.domain.access import Principal
from assay.services import accounts, idempotency
from assay.services.app import Assay
from assay.services.idempotency import Outcome

log = logging.getLogger("assay.api")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REPLAYED_HEADERS = ("content-type", "location")


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class RequestContext(BaseHTTPMiddleware):
    """A request id for every request (the client's X-Request-ID if sane), echoed back,
    carried into the audit log, and one structured log line per request."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        given = request.headers.get("x-request-id", "")
        request_id = given if 0 < len(given) <= 100 and given.isprintable() else uuid.uuid4().hex
        request.state.request_id = request_id
        started = time.perf_counter()
        response = await call_next(request)
        response.headers["X-Request-ID"] = request_id
        principal = getattr(request.state, "principal", None)
        log.info("request", extra={
            "request_id": request_id, "method": request.method, "path": request.url.path,
            "status": response.status_code, "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "user": principal.user_id if principal else None, "client": _client(request),
        })
        return response


class Authentication(BaseHTTPMiddleware):
    """Reads the bearer token once; routes find the principal on request.state."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        request.state.principal = None
        header = request.headers.get("authorization", "")
        if header:
            scheme, _, secret = header.partition(" ")
            principal = await run_in_threadpool(_principal, request, secret.strip()) \
                if scheme.lower() == "bearer" else None
            if principal is None:
                return problem(401, "the bearer token is unknown, expired or revoked",
                               headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
            request.state.principal = principal
        return await call_next(request)


def _principal(request: Request, secret: str) -> Principal | None:
    with request.app.state.assay.uow("auth") as uow:
        return accounts.principal_for_token(uow, secret, key=request.app.state.settings.token_key)


class RateLimit(BaseHTTPMiddleware):
    """Per token and per client address, a moving one-minute window; 429 with Retry-After."""

    def __init__(self, app, *, per_token: int, per_address: int) -> None:  # type: ignore[no-untyped-def]
        super().__init__(app)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.per_token = RateLimitItemPerMinute(per_token)
        self.per_address = RateLimitItemPerMinute(per_address)

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        principal = getattr(request.state, "principal", None)
        checks = [(self.per_address, "address", _client(request))]
        if principal is not None:
            checks.append((self.per_token, "token", str(principal.token_id)))
        for item, kind, key in checks:
            if not self.limiter.hit(item, kind, key):
                reset_at, _ = self.limiter.get_window_stats(item, kind, key)
                wait = max(1, math.ceil(reset_at - time.time()))
                return problem(429, f"too many requests for this {kind}: at most {item.amount} a minute; "
                                    f"retry in {wait} s", headers={"Retry-After": str(wait)})
        return await call_next(request)


class Idempotency(BaseHTTPMiddleware):
    """An `Idempotency-Key` on a write: the same key and body replay the first answer;
    another body answers 422; a duplicate still in flight answers 409."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        key = request.headers.get("idempotency-key")
        if request.method not in WRITE_METHODS or key is None:
            return await call_next(request)
        if not 1 <= len(key) <= 255 or not key.isprintable():
            return problem(422, "Idempotency-Key: use 1 to 255 printable characters")
        principal = getattr(request.state, "principal", None)
        owner = f"user:{principal.user_id}" if principal else f"address:{_client(request)}"
        body = await request.body()
        digest = hashlib.sha256(b"\n".join([request.method.encode(), request.url.path.encode(),
                                            request.url.query.encode(), body])).hexdigest()
        app = request.app.state.assay
        held = await run_in_threadpool(_reserve, app, owner, key, request.method, request.url.path, digest)
        if held.outcome is Outcome.MISMATCH:
            return problem(422, "Idempotency-Key was already used with a different request; use a new key")
        if held.outcome is Outcome.IN_FLIGHT:
            return problem(409, "a request with this Idempotency-Key is still being processed; retry shortly",
                           headers={"Retry-After": "1"})
        if held.outcome is Outcome.REPLAY:
            assert held.status_code is not None
            headers = dict(held.headers or {})
            headers["Idempotent-Replayed"] = "true"
            return Response(held.body or "", status_code=held.status_code, headers=headers)
        assert held.id is not None
        try:
            response = await call_next(request)
            content = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
        except BaseException:
            await run_in_threadpool(_settle, app, owner, held.id, None, b"")
            raise
        await run_in_threadpool(_settle, app, owner, held.id, response, content)
        return Response(content, status_code=response.status_code, headers=dict(response.headers))


def _reserve(app: Assay, owner: str, key: str, method: str, path: str, digest: str) -> idempotency.Reservation:
    with app.uow(owner) as uow:
        return idempotency.reserve(uow, owner=owner, key=key, method=method, path=path, request_hash=digest)


def _settle(app: Assay, owner: str, reservation_id: int, response: Response | None, content: bytes) -> None:
    """Keep the answer for replays; a server-side failure frees the key for a retry."""
    with app.uow(owner) as uow:
        if response is None or response.status_code >= 500:
            idempotency.release(uow, reservation_id)
        else:
            kept = {k: v for k, v in response.headers.items() if k.lower() in REPLAYED_HEADERS}
            idempotency.complete(uow, reservation_id, status_code=response.status_code, headers=kept,
                                 body=content.decode("utf-8", errors="replace"))
