"""The FastAPI application: routers, problem details, middleware, background workers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from assay import __version__
from assay.api import problems
from assay.api.metrics import Metrics
from assay.api.middleware import Authentication, Idempotency, RateLimit, RequestContext
from assay.api.routers import accounts, bulk, detection, holders, market, notices, public, webhooks
from assay.api.settings import Settings
from assay.services.app import Assay

DESCRIPTION = """
Assay finds counterfeit listings and takes them down, fairly and in the open.

Authenticate with `Authorization: Bearer <token>`: `POST /v1/auth/token` exchanges an email and
password for one; `POST /v1/tokens` issues scoped, expiring tokens for machine clients.
Every write honours an `Idempotency-Key` header. Errors are RFC 9457 problem details.
"""


def create_app(settings: Settings | None = None, assay: Assay | None = None) -> FastAPI:
    settings = settings or Settings()
    settings.check_safe()
    assay = assay or Assay.open(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        workers = background_workers(assay, settings) if settings.background_workers else []
        for worker in workers:
            worker.start()
        try:
            yield
        finally:
            for worker in workers:
                worker.stop()

    # Any route may meet a bad token (or one without the scope), an invalid request (or
    # Idempotency-Key), the rate limit and a database too busy to answer.
    app = FastAPI(title="Assay", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  max_body_size=settings.max_upload_bytes + 64 * 1024,  # the file plus its form fields
                  responses=problems.responses(401, 403, 422, 429, 503))
    document = app.openapi
    app.openapi = lambda: problems.document_problem_media_type(document())  # type: ignore[method-assign]
    app.state.assay = assay
    app.state.settings = settings
    app.state.metrics = Metrics(assay)
    problems.install(app)
    # Starlette runs the middleware added last first: context, then authentication, limits, idempotency.
    app.add_middleware(Idempotency, assay=assay)
    app.add_middleware(RateLimit, per_token=settings.rate_limit_per_token, per_address=settings.rate_limit_per_address,
                       storage=settings.rate_limit_storage, prefix=settings.rate_limit_prefix)
    app.add_middleware(Authentication, assay=assay, key=settings.token_key)
    app.add_middleware(RequestContext)
    for module in (accounts, holders, notices, bulk, market, webhooks, detection, public):
        app.include_router(module.router)
    return app


def background_workers(assay: Assay, settings: Settings) -> list:
    """The threads a server runs beside its requests: webhook delivery (woken by each commit that
    wrote to the outbox, polling for retries and for events other processes wrote), and jobs
    (bulk notices; a job left by a stopped server resumes from its last saved part)."""
    from assay.services.jobs import JobRunner
    from assay.services.webhooks import Dispatcher

    return [Dispatcher(assay, allow_private=settings.allow_private_webhooks), JobRunner(assay)]
