"""What anyone may read: the transparency report, health, metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from assay.api.deps import PublicWork
from assay.api.problems import problem
from assay.api.schemas import TransparencyOut
from assay.services import reports, suggestions
from assay.store.database import SchemaOutOfDate, require_current_schema

router = APIRouter()
log = logging.getLogger("assay.api")


@router.get("/v1/transparency", response_model=TransparencyOut, tags=["public"])
def transparency(uow: PublicWork) -> TransparencyOut:
    """The public transparency report: notices, takedowns, reversals, closures, time to takedown."""
    figures = reports.summary(uow)
    median = figures.median_time_to_takedown
    return TransparencyOut(
        notice_items=figures.notice_items, listings_removed=figures.listings_removed,
        storefronts_closed=figures.storefronts_closed, decided=figures.decided, taken_down=figures.taken_down,
        reversals=figures.reversals, takedown_rate=round(figures.takedown_rate, 4),
        median_hours_to_takedown=round(median.total_seconds() / 3600, 3) if median is not None else None,
        suggestions=suggestions.accuracy(uow),
    )


@router.get("/health/live", tags=["health"], include_in_schema=True)
def live() -> dict[str, str]:
    """The process answers. Never depends on the database: a restart would not help with that."""
    return {"status": "ok"}


@router.get("/health/ready", tags=["health"], response_model=None)
def ready(request: Request) -> Response | dict[str, str]:
    """Ready to serve: the database answers and its schema is current."""
    try:
        require_current_schema(request.app.state.assay.engine)
    except SchemaOutOfDate as error:  # says what to run, and names no secret
        return problem(503, f"not ready: {error}")
    except Exception:  # any failure to reach or read the database; its details are for the log only
        log.warning("not ready: the database cannot be read", exc_info=True)
        return problem(503, "not ready: the database cannot be reached or read")
    return {"status": "ok"}


@router.get("/metrics", tags=["health"], include_in_schema=False)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
