"""The seller's answer, the rights holder's reply, and the reviewer's decision on appeal."""

from __future__ import annotations

from assay.domain import statements
from assay.domain.errors import IllegalTransition, NotPermitted, ValidationFailed
from assay.domain.notices import ItemState
from assay.services.notices import load_case, record_transition, reinstate
from assay.store.uow import UnitOfWork

MIN_STATEMENT = 20


def counter_notice(uow: UnitOfWork, item_id: int, *, seller_id: int, statement: str, signature: str) -> ItemState:
    """The seller contests a removal: the listing stays down until the rights holder answers."""
    problems = []
    if len(statement.strip()) < MIN_STATEMENT:
        problems.append(f"statement: explain why the listing does not infringe (at least {MIN_STATEMENT} characters)")
    if not signature.strip():
        problems.append("signature: sign the counter-notice with your full name")
    if problems:
        raise ValidationFailed(problems)
    case = load_case(uow, item_id)
    if case.item.seller_id != seller_id:
        raise NotPermitted(f"item {item_id} concerns another seller's listing")
    transition = case.item.counter_notice(uow.now, statement.strip(), signature.strip(), uow.policy.windows)
    record_transition(uow, transition, statement.strip())
    uow.commit()
    return case.item.state


def reply(uow: UnitOfWork, item_id: int, *, holder_id: int, maintain: bool, statement: str) -> ItemState:
    """The rights holder answers a counter-notice: maintain it (a reviewer decides) or withdraw."""
    case = load_case(uow, item_id)
    if case.item.holder_id != holder_id:
        raise NotPermitted(f"item {item_id} was filed by another rights holder")
    if case.item.state is not ItemState.CONTESTED:  # a reply answers a counter-notice, and only that
        raise IllegalTransition(case.item.state.value, "reply", item_id)
    if maintain:
        if len(statement.strip()) < MIN_STATEMENT:
            raise ValidationFailed([f"statement: answer the seller's counter-notice (at least {MIN_STATEMENT} characters)"])
        record_transition(uow, case.item.maintain(uow.now, statement.strip(), uow.policy.windows), statement.strip())
    else:
        why = statement.strip() or "the rights holder withdrew after the counter-notice"
        record_transition(uow, case.item.withdraw(uow.now), why)
        reinstate(uow, case, f"the rights holder withdrew its notice after your counter-notice ({why}).")
    uow.commit()
    return case.item.state


def decide_appeal(uow: UnitOfWork, item_id: int, *, uphold: bool, reason: str) -> ItemState:
    """A reviewer weighs the counter-notice against the rights holder's reply."""
    if not reason.strip():
        raise ValidationFailed(["reason: state the reasons for the decision"])
    case = load_case(uow, item_id)
    if uphold:
        record_transition(uow, case.item.uphold(uow.now), reason)
        uow.repo.add(statements.removal_upheld(case.notice, case.item, case.listing, case.rights, uow.actor,
                                               uow.now, reason))
    else:
        record_transition(uow, case.item.reverse(uow.now), reason)
        reinstate(uow, case, f"a reviewer found for you on your counter-notice: {reason.strip()}")
    uow.commit()
    return case.item.state
