"""A marketplace's webhook endpoint: where its enforcement actions are delivered, signed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from assay.api import problems
from assay.api.deps import PageParams, Work, role
from assay.api.schemas import Out, RotateSecretIn, WebhookIn, WebhookOut
from assay.domain.access import Principal, Role
from assay.domain.errors import NotFound
from assay.services import webhooks

router = APIRouter(prefix="/v1/marketplace/webhook", tags=["marketplace integration"])
Integration = Annotated[Principal, Depends(role(Role.INTEGRATION))]


class DeliveryOut(Out):
    id: int
    message_id: str
    event_type: str
    attempt: int
    url: str
    attempted_at: datetime
    status_code: int | None = None
    error: str | None = None
    duration_ms: int
    succeeded: bool


class EventOut(Out):
    id: int
    message_id: str
    event_type: str
    payload: dict
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    last_error: str | None = None


class RedeliveredOut(Out):
    requeued: int


def _market(principal: Principal) -> int:
    assert principal.marketplace_id is not None
    return principal.marketplace_id


@router.get("", response_model=WebhookOut, responses=problems.responses(404))
def get_endpoint(principal: Integration, uow: Work) -> WebhookOut:
    return _shown(uow, principal)


@router.put("", response_model=WebhookOut)
def set_endpoint(body: WebhookIn, request: Request, principal: Integration, uow: Work) -> WebhookOut:
    """Register (or change) the URL your enforcement actions are delivered to (listing removed,
    listing reinstated, storefront closed), signed by the Standard Webhooks scheme with the secret
    this answer shows. URLs on private, loopback or link-local addresses are refused."""
    secret = webhooks.set_endpoint(uow, _market(principal), body.url,
                                   allow_private=request.app.state.settings.allow_private_webhooks)
    return _shown(uow, principal, secret)


@router.post("/rotate-secret", response_model=WebhookOut, responses=problems.responses(404))
def rotate_secret(principal: Integration, uow: Work, body: RotateSecretIn | None = None) -> WebhookOut:
    """A new signing secret, used from the next attempt on. The previous one signs beside it for
    `overlap_hours` (24 unless you say), so deploy the new secret to your receiver within that time."""
    overlap = timedelta(hours=(body or RotateSecretIn()).overlap_hours)
    return _shown(uow, principal, webhooks.rotate_secret(uow, _market(principal), overlap=overlap))


def _shown(uow: Work, principal: Principal, secret: str | None = None) -> WebhookOut:
    """The endpoint as its marketplace sees it; the secret only in the answer that sets it."""
    endpoint = webhooks.endpoint_of(uow, _market(principal))
    if endpoint is None:
        raise NotFound("webhook endpoint", "of your marketplace")
    return WebhookOut(url=endpoint.url, secret=secret, created_at=endpoint.created_at, updated_at=endpoint.updated_at,
                      previous_secret_until=endpoint.previous_secret_until)


@router.get("/deliveries", response_model=list[DeliveryOut])
def delivery_log(principal: Integration, uow: Work, paging: PageParams) -> list[DeliveryOut]:
    """Every attempt to deliver your events, newest first: status code or error, and duration."""
    return [DeliveryOut(**vars(d), succeeded=d.succeeded)
            for d in webhooks.deliveries(uow, _market(principal), paging.limit, paging.offset)]


@router.get("/events", response_model=list[EventOut])
def outbox_events(principal: Integration, uow: Work, paging: PageParams,
                  status: Annotated[webhooks.EventStatus | None, Query()] = None) -> list[EventOut]:
    """Your events, newest first: pending, delivered, or failed after every retry."""
    return [EventOut(**vars(e)) for e in webhooks.events(uow, _market(principal), status=status,
                                                          limit=paging.limit, offset=paging.offset)]


@router.post("/redeliver", response_model=RedeliveredOut)
def redeliver(principal: Integration, uow: Work) -> RedeliveredOut:
    """Queue every event that failed after all its retries for delivery again (after fixing the receiver)."""
    return RedeliveredOut(requeued=webhooks.redeliver_failed(uow, _market(principal)))
