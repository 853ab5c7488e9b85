"""Request plumbing, outermost first: request id and access log, authentication,
rate limits, idempotency keys.

Plain ASGI middleware rather than Starlette's BaseHTTPMiddleware: each of those runs the
rest of the stack in a task of its own, which with four layers cost more than the routes."""

from __future__ import annotations

import hashlib
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assay.api.problems import problem
from assay.domain.access import Principal
from assay.services import accounts, idempotency
from assay.services.app import Assay
from assay.services.idempotency import Outcome

log = logging.getLogger("assay.api")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REPLAYED_HEADERS = ("content-type", "location")


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


def _state(scope: Scope) -> dict:
    """The dict behind `request.state`, shared by every layer and the routes."""
    return scope.setdefault("state", {})


class _HttpOnly:
    """Middleware that acts on HTTP requests and passes anything else (lifespan) straight on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class RequestContext(_HttpOnly):
    """A request id for every request (the client's X-Request-ID if sane), echoed back,
    carried into the audit log, and one structured log line per request."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        given = Headers(scope=scope).get("x-request-id", "")
        request_id = given if 0 < len(given) <= 100 and given.isprintable() else uuid.uuid4().hex
        _state(scope)["request_id"] = request_id
        started = time.perf_counter()
        status = 500  # unless a response starts: an unexpected error is answered further out

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            principal = _state(scope).get("principal")
            log.info("request", extra={
                "request_id": request_id, "method": scope["method"], "path": scope["path"], "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "user": principal.user_id if principal else None, "client": _client(scope),
            })


class Authentication(_HttpOnly):
    """Reads the bearer token once; routes find the principal on request.state."""

    def __init__(self, app: ASGIApp, *, assay: Assay, key: bytes) -> None:
        super().__init__(app)
        self.assay = assay
        self.key = key

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        _state(scope)["principal"] = None
        header = Headers(scope=scope).get("authorization", "")
        if header:
            scheme, _, secret = header.partition(" ")
            principal = await run_in_threadpool(self._principal, secret.strip()) \
                if scheme.lower() == "bearer" else None
            if principal is None:
                response = problem(401, "the bearer token is unknown, expired or revoked",
                                   headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
                await response(scope, receive, send)
                return
            _state(scope)["principal"] = principal
        await self.app(scope, receive, send)

    def _principal(self, secret: str) -> Principal | None:
        with self.assay.uow("auth") as uow:
            return accounts.principal_for_token(uow, secret, key=self.key)


class RateLimit(_HttpOnly):
    """Per token and per client address, a moving one-minute window; 429 with Retry-After.
    The counts live where `storage` says: in this process (memory://), or in Redis (redis://...)
    shared by every server process. If Redis cannot be reached, requests go through unlimited
    (an outage of the counter must not become an outage of the API) and the log says so."""

    def __init__(self, app: ASGIApp, *, per_token: int, per_address: int, storage: str = "memory://",
                 prefix: str = "assay") -> None:
        super().__init__(app)
        self.limiter = MovingWindowRateLimiter(rate_limit_storage(storage, prefix))
        self.per_token = RateLimitItemPerMinute(per_token)
        self.per_address = RateLimitItemPerMinute(per_address)
        self.counting = True  # false while the storage is unreachable: logged once, not per request

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = _state(scope).get("principal")
        checks = [(self.per_address, "address", _client(scope))]
        if principal is not None:
            checks.append((self.per_token, "token", str(principal.token_id)))
        for item, kind, key in checks:
            try:
                allowed = await self.limiter.hit(item, kind, key)
                wait = 0 if allowed else await self._wait(item, kind, key)
            except Exception:
                self._counting(False)
                break
            self._counting(True)
            if not allowed:
                response = problem(429, f"too many requests for this {kind}: at most {item.amount} a minute; "
                                        f"retry in {wait} s", headers={"Retry-After": str(wait)})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _wait(self, item: RateLimitItem, kind: str, key: str) -> int:
        reset_at, _ = await self.limiter.get_window_stats(item, kind, key)
        return max(1, math.ceil(reset_at - time.time()))

    def _counting(self, counting: bool) -> None:
        if counting != self.counting:
            if counting:
                log.warning("rate limits are counted again: their storage answers")
            else:
                log.error("rate limits are off: their storage cannot be reached", exc_info=True)
            self.counting = counting


def rate_limit_storage(uri: str, prefix: str) -> Storage:
    """The async storage for a memory:// or redis:// (rediss://) URI."""
    scheme = uri.split("://", 1)[0]
    if scheme == "memory":
        return storage_from_string("async+memory://")
    if scheme in ("redis", "rediss"):
        return storage_from_string(f"async+{uri}", key_prefix=prefix, implementation="redispy")
    raise ValueError(f"rate limit storage {scheme}://: use memory:// or redis://host:port/db")


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    """A `receive` that hands the routes the body already read, then waits on the client."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()
    return replay


class Idempotency(_HttpOnly):
    """An `Idempotency-Key` on a write: the same key and body replay the first answer;
    another body answers 422; a duplicate still in flight answers 409."""

    def __init__(self, app: ASGIApp, *, assay: Assay) -> None:
        super().__init__(app)
        self.assay = assay

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = Headers(scope=scope).get("idempotency-key")
        if scope["method"] not in WRITE_METHODS or key is None:
            await self.app(scope, receive, send)
            return
        if not 1 <= len(key) <= 255 or not key.isprintable():
            await problem(422, "Idempotency-Key: use 1 to 255 printable characters")(scope, receive, send)
            return
        principal = _state(scope).get("principal")
        owner = f"user:{principal.user_id}" if principal else f"address:{_client(scope)}"
        body = await _read_body(receive)
        method, path = scope["method"], scope["path"]
        digest = hashlib.sha256(b"\n".join([method.encode(), path.encode(), scope["query_string"], body])).hexdigest()
        held = await run_in_threadpool(self._reserve, owner, key, method, path, digest)
        answer = self._answer_without_running(held)
        if answer is not None:
            await answer(scope, receive, send)
            return
        assert held.id is not None
        start: Message = {}
        content: list[bytes] = []

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                content.append(message.get("body", b""))

        try:
            await self.app(scope, _replaying(body, receive), keep)
        except BaseException:
            await run_in_threadpool(self._settle, owner, held.id, None, {}, b"")
            raise
        whole = b"".join(content)
        headers = Headers(raw=start["headers"])
        await run_in_threadpool(self._settle, owner, held.id, start["status"], headers, whole)
        await send(start)
        await send({"type": "http.response.body", "body": whole, "more_body": False})

    @staticmethod
    def _answer_without_running(held: idempotency.Reservation) -> Response | None:
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
        return None

    def _reserve(self, owner: str, key: str, method: str, path: str, digest: str) -> idempotency.Reservation:
        with self.assay.uow(owner) as uow:
            return idempotency.reserve(uow, owner=owner, key=key, method=method, path=path, request_hash=digest)

    def _settle(self, owner: str, reservation_id: int, status: int | None, headers: Headers | dict,
                content: bytes) -> None:
        """Keep the answer for replays; a server-side failure frees the key for a retry."""
        with self.assay.uow(owner) as uow:
            if status is None or status >= 500:
                idempotency.release(uow, reservation_id)
            else:
                kept = {k: v for k, v in headers.items() if k.lower() in REPLAYED_HEADERS}
                idempotency.complete(uow, reservation_id, status_code=status, headers=kept,
                                     body=content.decode("utf-8", errors="replace"))
