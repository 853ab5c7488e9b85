"""Notices and their items: filing, reading, withdrawing; review, counter-notice, reply, appeal."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from assay.api import problems
from assay.api.deps import Caller, Id, IdFilter, PageParams, Work, role
from assay.api.metrics import Metrics
from assay.api.problems import Forbidden
from assay.api.schemas import (
    AppealDecisionIn,
    AuditEventOut,
    CounterNoticeIn,
    FilingOut,
    ItemOut,
    ItemStateOut,
    NoticeIn,
    NoticeOut,
    Page,
    RejectedListing,
    ReplyIn,
    ReviewDecisionIn,
    StatementOut,
    WithdrawIn,
    WithdrawOut,
)
from assay.domain import access
from assay.domain.access import Principal, Role
from assay.domain.notices import ItemState, Lane, NoticeItem, NoticeSource
from assay.domain.reasons import StatementOfReasons
from assay.services import notices, redress, views
from assay.store.uow import UnitOfWork

router = APIRouter(prefix="/v1", tags=["notices"], responses=problems.responses(404, 409))
Holder = Annotated[Principal, Depends(role(Role.HOLDER))]
Staff = Annotated[Principal, Depends(role(Role.ADMIN, Role.REVIEWER))]
Seller = Annotated[Principal, Depends(role(Role.SELLER))]


async def metrics(request: Request) -> Metrics:
    return request.app.state.metrics


Meter = Annotated[Metrics, Depends(metrics)]


def statement_out(statement: StatementOfReasons) -> StatementOut:
    return StatementOut(
        id=statement.id, item_id=statement.item_id, listing_id=statement.listing_id, seller_id=statement.seller_id,
        measure=statement.measure.value, scope=statement.scope, facts=statement.facts,
        ground=statement.ground.value, legal_ground=statement.legal_ground, source=statement.source.value,
        automated_detection=statement.automated_detection, automated_decision=statement.automated_decision.value,
        redress=statement.redress, redress_deadline=statement.redress_deadline, decided_at=statement.decided_at,
        decided_by=statement.decided_by, text=statement.render(),
    )


def _count_decision(meter: Meter, uow: UnitOfWork, item_id: int, lane: str, outcome: str) -> None:
    item = uow.session.get(NoticeItem, item_id)
    meter.takedowns.labels(lane, outcome).inc()
    if item is not None:
        meter.time_to_action.labels(lane).observe(max(0.0, (uow.now - item.filed_at).total_seconds()))


@router.post("/notices", response_model=FilingOut, status_code=201)
def file_notice(body: NoticeIn, principal: Holder, uow: Work, meter: Meter) -> FilingOut:
    """File a notice naming up to 1,000 listings. A rights holder with verified rights, a signed
    undertaking and a good record takes the expedited lane (removed at once); others are queued for a
    reviewer. Listings that cannot be named are rejected one by one; the rest go ahead."""
    assert principal.holder_id is not None
    started = time.perf_counter()
    result = notices.file_notice(uow, holder_id=principal.holder_id, source=NoticeSource.NOTICE,
                                 **body.model_dump())
    meter.notices_received.labels(NoticeSource.NOTICE.value).inc()
    meter.notice_items_received.inc(len(result.item_ids))
    elapsed = time.perf_counter() - started
    for _ in result.removed:
        meter.takedowns.labels(Lane.EXPEDITED.value, "removed").inc()
        meter.time_to_action.labels(Lane.EXPEDITED.value).observe(elapsed)
    if result.queued:
        meter.takedowns.labels(Lane.STANDARD.value, "queued").inc(len(result.queued))
    return FilingOut(
        notice_id=result.notice_id, lane=result.lane, lane_reasons=list(result.lane_reasons),
        item_ids=result.item_ids, removed=result.removed, queued=result.queued,
        incomplete_reasons=result.incomplete_reasons,
        rejected=[RejectedListing(listing=ref, reason=why) for ref, why in result.rejected],
    )


@router.get("/notices", response_model=Page[NoticeOut])
def list_notices(principal: Caller, uow: Work, paging: PageParams,
                 lane: Annotated[Lane | None, Query()] = None,
                 source: Annotated[NoticeSource | None, Query()] = None) -> dict:
    return paging.of(uow, views.notices_query(principal, lane, source))


@router.get("/notices/{notice_id}", response_model=NoticeOut)
def get_notice(notice_id: Id, principal: Caller, uow: Work) -> object:
    return views.notice(uow, principal, notice_id)


@router.post("/notices/{notice_id}/withdraw", response_model=WithdrawOut)
def withdraw_notice(notice_id: Id, body: WithdrawIn, principal: Holder, uow: Work) -> WithdrawOut:
    """Withdraw a notice, or some of its items; listings it removed go back up."""
    notice = views.notice(uow, principal, notice_id)
    if not access.acts_for_holder(principal, notice.holder_id):
        raise Forbidden("only the filer withdraws its notice")
    return WithdrawOut(withdrawn=notices.withdraw(uow, notice_id, holder_id=notice.holder_id,
                                                  item_ids=body.item_ids, reason=body.reason))


@router.get("/items", response_model=Page[ItemOut])
def list_items(principal: Caller, uow: Work, paging: PageParams,
               state: Annotated[ItemState | None, Query()] = None,
               listing_id: IdFilter = None,
               seller_id: IdFilter = None) -> dict:
    query = views.items_query(principal, state=state, listing_id=listing_id, seller_id=seller_id)
    return paging.of(uow, query)


@router.get("/items/{item_id}", response_model=ItemOut)
def get_item(item_id: Id, principal: Caller, uow: Work) -> object:
    return views.item(uow, principal, item_id)


@router.get("/items/{item_id}/statements", response_model=list[StatementOut])
def item_statements(item_id: Id, principal: Caller, uow: Work) -> list[StatementOut]:
    """The statements of reasons for every decision on this item, as the seller reads them."""
    return [statement_out(s) for s in views.statements_of_item(uow, principal, item_id)]


@router.get("/items/{item_id}/audit", response_model=list[AuditEventOut])
def item_audit_trail(item_id: Id, principal: Caller, uow: Work) -> list[object]:
    """Every recorded event of the case, from the hash-chained audit log."""
    return views.case_trail(uow, principal, item_id)


@router.get("/review/queue", response_model=list[ItemOut], tags=["review"])
def review_queue(principal: Staff, uow: Work,
                 limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[object]:
    """Items waiting for a reviewer (standard lane and appeals), earliest deadline first."""
    return uow.repo.review_queue(limit)


@router.post("/items/{item_id}/decision", response_model=ItemStateOut, tags=["review"])
def decide_review(item_id: Id, body: ReviewDecisionIn, principal: Staff, uow: Work, meter: Meter) -> ItemStateOut:
    """A reviewer's decision on a standard-lane item, with the reasons the seller will read."""
    views.item(uow, principal, item_id)
    state = notices.decide_review(uow, item_id, remove=body.remove, reason=body.reason,
                                  manifestly_unfounded=body.manifestly_unfounded)
    _count_decision(meter, uow, item_id, Lane.STANDARD.value, "removed" if body.remove else "declined")
    return ItemStateOut(item_id=item_id, state=state)


@router.post("/items/{item_id}/counter-notice", response_model=ItemStateOut, tags=["redress"])
def counter_notice(item_id: Id, body: CounterNoticeIn, principal: Seller, uow: Work) -> ItemStateOut:
    """The seller answers a removal: why the listing does not infringe, signed."""
    item = views.item(uow, principal, item_id)
    if principal.seller_id != item.seller_id:
        raise Forbidden("only the seller of the listing files a counter-notice")
    state = redress.counter_notice(uow, item_id, seller_id=item.seller_id, statement=body.statement,
                                   signature=body.signature)
    return ItemStateOut(item_id=item_id, state=state)


@router.post("/items/{item_id}/reply", response_model=ItemStateOut, tags=["redress"])
def reply(item_id: Id, body: ReplyIn, principal: Holder, uow: Work) -> ItemStateOut:
    """The rights holder's answer to a counter-notice: maintain (a reviewer decides) or withdraw."""
    item = views.item(uow, principal, item_id)
    if not access.acts_for_holder(principal, item.holder_id):
        raise Forbidden("only the filer replies to a counter-notice")
    state = redress.reply(uow, item_id, holder_id=item.holder_id, maintain=body.maintain, statement=body.statement)
    return ItemStateOut(item_id=item_id, state=state)


@router.post("/items/{item_id}/appeal-decision", response_model=ItemStateOut, tags=["review"])
def decide_appeal(item_id: Id, body: AppealDecisionIn, principal: Staff, uow: Work, meter: Meter) -> ItemStateOut:
    """A reviewer decides a contested removal: uphold it, or reinstate the listing."""
    views.item(uow, principal, item_id)
    state = redress.decide_appeal(uow, item_id, uphold=body.uphold, reason=body.reason)
    _count_decision(meter, uow, item_id, "appeal", "upheld" if body.uphold else "reinstated")
    return ItemStateOut(item_id=item_id, state=state)
