"""Deadlines come due: reviews overdue are flagged, unanswered counter-notices win."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from assay.domain.errors import DomainError
from assay.domain.notices import ItemState, NoticeItem
from assay.services.enrolment import expire_rights
from assay.services.notices import load_case, record_transition, reinstate
from assay.store.uow import UnitOfWork


@dataclass
class DuePass:
    flagged_overdue: int = 0
    reinstated: int = 0
    rights_expired: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.flagged_overdue + self.reinstated + self.rights_expired


def flag_overdue(uow: UnitOfWork, item_id: int) -> bool:
    item = uow.repo.get(NoticeItem, item_id, lock=True)
    if item.overdue or not item.is_overdue(uow.now):
        return False
    item.overdue = True
    due = item.review_due_at if item.state is ItemState.IN_REVIEW else item.appeal_due_at
    uow.record("item.overdue", "notice_item", item_id, before={"overdue": False}, after={"overdue": True},
               reason=f"no decision by {due.isoformat(timespec='minutes') if due else 'the deadline'}")
    uow.commit()
    return True


def lapse(uow: UnitOfWork, item_id: int) -> bool:
    """The rights holder let its reply deadline pass: the listing goes back up."""
    case = load_case(uow, item_id)
    if not case.item.reply_lapsed(uow.now):
        return False
    deadline = case.item.reply_due_at.isoformat(timespec="minutes")
    record_transition(uow, case.item.lapse(uow.now), f"no reply from the rights holder by {deadline}")
    reinstate(uow, case, f"the rights holder did not answer your counter-notice by its deadline ({deadline}).",
              automated=True)
    uow.commit()
    return True


def process_due(new_uow: Callable[[], UnitOfWork]) -> DuePass:
    """One pass over everything due. Each item is its own transaction, so one failure
    neither blocks nor undoes the others; a later pass retries it."""
    result = DuePass()
    with new_uow() as uow:
        overdue, lapsed = uow.repo.due_for_overdue_flag(uow.now), uow.repo.due_for_lapse(uow.now)
    for item_id in overdue:
        result.flagged_overdue += _attempt(new_uow, flag_overdue, item_id, result)
    for item_id in lapsed:
        result.reinstated += _attempt(new_uow, lapse, item_id, result)
    with new_uow() as uow:
        result.rights_expired = expire_rights(uow)
    return result


def _attempt(new_uow: Callable[[], UnitOfWork], step: Callable[[UnitOfWork, int], bool], item_id: int,
             result: DuePass) -> bool:
    try:
        with new_uow() as uow:
            return step(uow, item_id)
    except DomainError:
        result.failed += 1
        return False
