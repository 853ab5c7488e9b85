"""Notices and the lifecycle of each listing they name.

A notice names one or many listings; each becomes an item that moves through the
states below on its own. The table of transitions is the whole lifecycle: a step
not in it raises `IllegalTransition` naming the state and the step.

    filed --validate--> incomplete
      |-- expedited --> removed
      '-- standard  --> in_review --> removed | declined | withdrawn
    removed --> contested (counter-notice)      removed --> reinstated (withdrawn)
    contested --> reinstated (withdrawn, or the rights holder stays silent)
    contested --> in_appeal --> upheld | reinstated
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from assay.domain.errors import DomainError, IllegalTransition


class ItemState(StrEnum):
    FILED = "filed"
    INCOMPLETE = "incomplete"
    IN_REVIEW = "in_review"
    REMOVED = "removed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    CONTESTED = "contested"
    IN_APPEAL = "in_appeal"
    UPHELD = "upheld"
    REINSTATED = "reinstated"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES

    @property
    def keeps_listing_down(self) -> bool:
        """The listing is down and the removal has not been reversed."""
        return self in STANDING_REMOVAL_STATES


TERMINAL_STATES = frozenset(
    {ItemState.INCOMPLETE, ItemState.DECLINED, ItemState.WITHDRAWN, ItemState.UPHELD, ItemState.REINSTATED}
)
STANDING_REMOVAL_STATES = frozenset(
    {ItemState.REMOVED, ItemState.CONTESTED, ItemState.IN_APPEAL, ItemState.UPHELD}
)
OPEN_STATES = frozenset(ItemState) - TERMINAL_STATES


class Step(StrEnum):
    MARK_INCOMPLETE = "mark_incomplete"
    REMOVE_AT_ONCE = "remove_at_once"
    QUEUE_FOR_REVIEW = "queue_for_review"
    REMOVE = "remove"
    DECLINE = "decline"
    WITHDRAW = "withdraw"
    COUNTER_NOTICE = "counter_notice"
    MAINTAIN = "maintain"
    LAPSE = "lapse"
    UPHOLD = "uphold"
    REVERSE = "reverse"


S = ItemState
TRANSITIONS: dict[tuple[ItemState, Step], ItemState] = {
    (S.FILED, Step.MARK_INCOMPLETE): S.INCOMPLETE,
    (S.FILED, Step.REMOVE_AT_ONCE): S.REMOVED,
    (S.FILED, Step.QUEUE_FOR_REVIEW): S.IN_REVIEW,
    (S.IN_REVIEW, Step.REMOVE): S.REMOVED,
    (S.IN_REVIEW, Step.DECLINE): S.DECLINED,
    (S.IN_REVIEW, Step.WITHDRAW): S.WITHDRAWN,
    (S.REMOVED, Step.WITHDRAW): S.REINSTATED,
    (S.REMOVED, Step.COUNTER_NOTICE): S.CONTESTED,
    (S.CONTESTED, Step.WITHDRAW): S.REINSTATED,
    (S.CONTESTED, Step.LAPSE): S.REINSTATED,
    (S.CONTESTED, Step.MAINTAIN): S.IN_APPEAL,
    (S.IN_APPEAL, Step.WITHDRAW): S.REINSTATED,
    (S.IN_APPEAL, Step.UPHOLD): S.UPHELD,
    (S.IN_APPEAL, Step.REVERSE): S.REINSTATED,
}
del S


class InfringementType(StrEnum):
    COUNTERFEIT = "counterfeit"
    TRADEMARK_MISUSE = "trademark_misuse"
    IMAGE_COPYRIGHT = "image_copyright"
    DESIGN = "design"


class Lane(StrEnum):
    EXPEDITED = "expedited"
    STANDARD = "standard"


class NoticeSource(StrEnum):
    """Where the notice came from, as the DSA's statement of reasons records it."""

    NOTICE = "notice"
    TRUSTED_NOTIFIER = "trusted_notifier"
    OWN_INITIATIVE = "own_initiative"


@dataclass(frozen=True)
class Windows:
    """How long each party has to act. Part of the policy configuration."""

    review: timedelta = timedelta(hours=48)
    counter_notice: timedelta = timedelta(days=14)
    reply: timedelta = timedelta(days=10)
    appeal_review: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class Transition:
    item_id: int | None
    step: Step
    before: ItemState
    after: ItemState
    at: datetime


@dataclass(eq=False)
class NoticeItem:
    """One listing named in a notice, with its own state and deadlines."""

    listing_id: int
    seller_id: int
    holder_id: int
    filed_at: datetime
    state: ItemState = ItemState.FILED
    notice_id: int | None = None
    review_due_at: datetime | None = None
    overdue: bool = False
    removed_at: datetime | None = None
    counter_notice_until: datetime | None = None
    counter_statement: str | None = None
    counter_signature: str | None = None
    contested_at: datetime | None = None
    reply_due_at: datetime | None = None
    reply_statement: str | None = None
    appeal_due_at: datetime | None = None
    decided_at: datetime | None = None
    closed_at: datetime | None = None
    manifestly_unfounded: bool = False
    updated_at: datetime | None = None
    id: int | None = None

    # -- the one place where state changes --------------------------------------
    def _take(self, step: Step, now: datetime) -> Transition:
        after = TRANSITIONS.get((self.state, step))
        if after is None:
            raise IllegalTransition(self.state.value, step.value, self.id)
        before, self.state, self.updated_at = self.state, after, now
        if after.is_terminal:
            self.closed_at = now
        return Transition(self.id, step, before, after, now)

    # -- intake -------------------------------------------------------------------
    def mark_incomplete(self, now: datetime) -> Transition:
        return self._take(Step.MARK_INCOMPLETE, now)

    def remove_at_once(self, now: datetime, windows: Windows) -> Transition:
        transition = self._take(Step.REMOVE_AT_ONCE, now)
        self._record_removal(now, windows)
        return transition

    def queue_for_review(self, now: datetime, windows: Windows) -> Transition:
        transition = self._take(Step.QUEUE_FOR_REVIEW, now)
        self.review_due_at = now + windows.review
        return transition

    # -- review -------------------------------------------------------------------
    def remove(self, now: datetime, windows: Windows) -> Transition:
        transition = self._take(Step.REMOVE, now)
        self._record_removal(now, windows)
        return transition

    def decline(self, now: datetime, manifestly_unfounded: bool = False) -> Transition:
        transition = self._take(Step.DECLINE, now)
        self.decided_at = now
        self.manifestly_unfounded = manifestly_unfounded
        return transition

    def withdraw(self, now: datetime) -> Transition:
        return self._take(Step.WITHDRAW, now)

    # -- redress --------------------------------------------------------------------
    def counter_notice(self, now: datetime, statement: str, signature: str, windows: Windows) -> Transition:
        if self.state is ItemState.REMOVED and self.counter_notice_until and now > self.counter_notice_until:
            raise DomainError(
                f"item {self.id}: the counter-notice window closed on {self.counter_notice_until.isoformat()}"
            )
        transition = self._take(Step.COUNTER_NOTICE, now)
        self.counter_statement, self.counter_signature = statement, signature
        self.contested_at = now
        self.reply_due_at = now + windows.reply
        return transition

    def maintain(self, now: datetime, statement: str, windows: Windows) -> Transition:
        if self.state is ItemState.CONTESTED and self.reply_due_at and now > self.reply_due_at:
            raise DomainError(f"item {self.id}: the reply deadline passed on {self.reply_due_at.isoformat()}")
        transition = self._take(Step.MAINTAIN, now)
        self.reply_statement = statement
        self.appeal_due_at = now + windows.appeal_review
        return transition

    def lapse(self, now: datetime) -> Transition:
        if self.state is ItemState.CONTESTED and self.reply_due_at and now <= self.reply_due_at:
            raise DomainError(f"item {self.id}: the rights holder may still reply until {self.reply_due_at.isoformat()}")
        return self._take(Step.LAPSE, now)

    def uphold(self, now: datetime) -> Transition:
        return self._take(Step.UPHOLD, now)

    def reverse(self, now: datetime) -> Transition:
        return self._take(Step.REVERSE, now)

    # -- deadlines --------------------------------------------------------------------
    def is_overdue(self, now: datetime) -> bool:
        """A reviewer's deadline has passed with the item still waiting for a person."""
        due = {ItemState.IN_REVIEW: self.review_due_at, ItemState.IN_APPEAL: self.appeal_due_at}.get(self.state)
        return due is not None and now > due

    def reply_lapsed(self, now: datetime) -> bool:
        return self.state is ItemState.CONTESTED and self.reply_due_at is not None and now > self.reply_due_at

    @property
    def reversed_after_counter_notice(self) -> bool:
        return self.state is ItemState.REINSTATED and self.contested_at is not None

    def _record_removal(self, now: datetime, windows: Windows) -> None:
        self.removed_at = self.decided_at = now
        self.counter_notice_until = now + windows.counter_notice


@dataclass(eq=False)
class Notice:
    """A rights holder's notice: who files, which rights, which listings, why, and the statements."""

    holder_id: int
    right_ids: list[int]
    infringement_type: InfringementType
    explanation: str
    evidence: list[str]
    good_faith: bool
    accurate: bool
    signature: str
    filed_at: datetime
    filed_by: str
    source: NoticeSource = NoticeSource.NOTICE
    lane: Lane = Lane.STANDARD
    incomplete_reasons: list[str] = field(default_factory=list)
    items: list[NoticeItem] = field(default_factory=list)
    id: int | None = None

    @property
    def is_incomplete(self) -> bool:
        return bool(self.incomplete_reasons)


MIN_EXPLANATION = 10


def missing_elements(
    *, right_ids: list[int], explanation: str, good_faith: bool, accurate: bool, signature: str, listing_refs: list[str]
) -> list[str]:
    """What a notice lacks of the elements a marketplace needs (DSA Article 16).
    Each entry names the field and what it needs."""
    problems = []
    if not listing_refs:
        problems.append("listings: name at least one listing")
    if not right_ids:
        problems.append("rights: invoke at least one of your verified rights")
    if len((explanation or "").strip()) < MIN_EXPLANATION:
        problems.append(f"explanation: say why the listings infringe (at least {MIN_EXPLANATION} characters)")
    if not good_faith:
        problems.append("good_faith: state in good faith that the use is not authorised")
    if not accurate:
        problems.append("accurate: state that the notice is accurate")
    if not (signature or "").strip():
        problems.append("signature: sign the notice with your full name")
    return problems
