"""The notice-item lifecycle: the transition table is the whole lifecycle, each
method reaches the documented state and sets its deadlines, and the deadlines
decide who may still act."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assay.domain.errors import DomainError, IllegalTransition
from assay.domain.notices import (
    MIN_EXPLANATION,
    TERMINAL_STATES,
    TRANSITIONS,
    ItemState,
    NoticeItem,
    Step,
    Transition,
    Windows,
    missing_elements,
)

S = ItemState
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)
TICK = timedelta(microseconds=1)
# Distinct lengths, so that a deadline computed from the wrong window shows.
WINDOWS = Windows(
    review=timedelta(hours=5), counter_notice=timedelta(days=3),
    reply=timedelta(days=2), appeal_review=timedelta(days=1, hours=1),
)

# The lifecycle as the module docstring documents it, written out independently of TRANSITIONS.
DOCUMENTED = {
    (S.FILED, Step.MARK_INCOMPLETE): S.INCOMPLETE,
    (S.FILED, Step.REMOVE_AT_ONCE): S.REMOVED,
    (S.FILED, Step.QUEUE_FOR_REVIEW): S.IN_REVIEW,
    (S.IN_REVIEW, Step.REMOVE): S.REMOVED,
    (S.IN_REVIEW, Step.DECLINE): S.DECLINED,
    (S.IN_REVIEW, Step.WITHDRAW): S.WITHDRAWN,
    (S.REMOVED, Step.COUNTER_NOTICE): S.CONTESTED,
    (S.REMOVED, Step.WITHDRAW): S.REINSTATED,
    (S.CONTESTED, Step.WITHDRAW): S.REINSTATED,
    (S.CONTESTED, Step.LAPSE): S.REINSTATED,
    (S.CONTESTED, Step.MAINTAIN): S.IN_APPEAL,
    (S.IN_APPEAL, Step.UPHOLD): S.UPHELD,
    (S.IN_APPEAL, Step.REVERSE): S.REINSTATED,
    (S.IN_APPEAL, Step.WITHDRAW): S.REINSTATED,
}
DOCUMENTED_TERMINAL = {S.INCOMPLETE, S.DECLINED, S.WITHDRAWN, S.UPHELD, S.REINSTATED}

# Each step through its public method, with the arguments a caller would give.
TAKE: dict[Step, Callable[[NoticeItem, datetime], Transition]] = {
    Step.MARK_INCOMPLETE: lambda item, now: item.mark_incomplete(now),
    Step.REMOVE_AT_ONCE: lambda item, now: item.remove_at_once(now, WINDOWS),
    Step.QUEUE_FOR_REVIEW: lambda item, now: item.queue_for_review(now, WINDOWS),
    Step.REMOVE: lambda item, now: item.remove(now, WINDOWS),
    Step.DECLINE: lambda item, now: item.decline(now),
    Step.WITHDRAW: lambda item, now: item.withdraw(now),
    Step.COUNTER_NOTICE: lambda item, now: item.counter_notice(now, "The goods are genuine.", "Sam Seller", WINDOWS),
    Step.MAINTAIN: lambda item, now: item.maintain(now, "The goods are still counterfeit.", WINDOWS),
    Step.LAPSE: lambda item, now: item.lapse(now),
    Step.UPHOLD: lambda item, now: item.uphold(now),
    Step.REVERSE: lambda item, now: item.reverse(now),
}

ILLEGAL = [(state, step) for state in ItemState for step in Step if (state, step) not in TRANSITIONS]


def item_in(state: ItemState = S.FILED, **fields) -> NoticeItem:
    return NoticeItem(listing_id=11, seller_id=22, holder_id=33, filed_at=T0, state=state, **fields)


def walk(*steps: Step, start: datetime = T0, every: timedelta = timedelta(hours=1)) -> NoticeItem:
    """A filed item taken through `steps`, one every `every`, starting at `start`."""
    item = item_in()
    for i, step in enumerate(steps):
        TAKE[step](item, start + i * every)
    return item


def removed_at(moment: datetime) -> NoticeItem:
    item = item_in()
    item.remove_at_once(moment, WINDOWS)
    return item


def contested_at(moment: datetime) -> NoticeItem:
    item = removed_at(moment - timedelta(hours=1))
    item.counter_notice(moment, "The goods are genuine.", "Sam Seller", WINDOWS)
    return item


# --- the table --------------------------------------------------------------------


def test_table_is_the_documented_lifecycle():
    assert TRANSITIONS == DOCUMENTED


def test_every_step_has_a_method():
    assert set(TAKE) == set(Step)


@pytest.mark.parametrize(("before", "step"), sorted(DOCUMENTED), ids=lambda v: str(v))
def test_allowed_transition_reaches_documented_state(before, step):
    item = item_in(before, id=42)
    now = T0 + timedelta(minutes=5)

    transition = TAKE[step](item, now)

    after = DOCUMENTED[(before, step)]
    assert item.state is after
    assert transition == Transition(item_id=42, step=step, before=before, after=after, at=now)
    assert item.updated_at == now
    assert item.closed_at == (now if after in DOCUMENTED_TERMINAL else None)


@pytest.mark.parametrize(("state", "step"), ILLEGAL, ids=lambda v: str(v))
def test_step_outside_the_table_is_refused_naming_state_and_step(state, step):
    item = item_in(state)

    with pytest.raises(IllegalTransition) as refused:
        TAKE[step](item, T0)

    error = refused.value
    assert (error.state, error.step) == (state.value, step.value)
    message = str(error)
    assert f"'{state.value}'" in message
    assert step.value.replace("_", " ") in message
    assert item.state is state
    assert item.updated_at is None and item.closed_at is None


def test_illegal_pairs_cover_everything_else():
    assert len(ILLEGAL) == len(ItemState) * len(Step) - len(DOCUMENTED)


def test_refusal_names_the_item_when_it_has_an_id():
    with pytest.raises(IllegalTransition, match=r"^item 7 in state 'upheld' cannot counter notice$"):
        item_in(S.UPHELD, id=7).counter_notice(T0, "x", "y", WINDOWS)


def test_terminal_states_are_the_documented_ones():
    assert TERMINAL_STATES == DOCUMENTED_TERMINAL
    assert {state for state in ItemState if state.is_terminal} == DOCUMENTED_TERMINAL


@pytest.mark.parametrize("state", sorted(DOCUMENTED_TERMINAL))
def test_terminal_state_has_no_outgoing_transition(state):
    assert [step for (source, step) in TRANSITIONS if source is state] == []


@pytest.mark.parametrize("state", sorted(set(ItemState) - DOCUMENTED_TERMINAL))
def test_open_state_has_a_way_out(state):
    assert any(source is state for (source, _) in TRANSITIONS)


# --- deadlines the methods set ------------------------------------------------------


def test_queue_for_review_sets_the_review_deadline():
    item = item_in()
    item.queue_for_review(T0, WINDOWS)
    assert item.review_due_at == T0 + WINDOWS.review


@pytest.mark.parametrize("path", [(Step.REMOVE_AT_ONCE,), (Step.QUEUE_FOR_REVIEW, Step.REMOVE)],
                         ids=["expedited", "reviewed"])
def test_removal_opens_the_counter_notice_window(path):
    item = walk(*path)
    removed = T0 + (len(path) - 1) * timedelta(hours=1)
    assert item.removed_at == item.decided_at == removed
    assert item.counter_notice_until == removed + WINDOWS.counter_notice


def test_decline_records_the_decision():
    item = walk(Step.QUEUE_FOR_REVIEW)
    item.decline(T0 + timedelta(hours=2), manifestly_unfounded=True)
    assert item.decided_at == T0 + timedelta(hours=2)
    assert item.manifestly_unfounded is True
    assert item.removed_at is None and item.counter_notice_until is None


def test_counter_notice_sets_the_reply_deadline():
    item = removed_at(T0)
    now = T0 + timedelta(days=1)
    item.counter_notice(now, "The goods are genuine.", "Sam Seller", WINDOWS)
    assert item.state is S.CONTESTED
    assert item.contested_at == now
    assert item.reply_due_at == now + WINDOWS.reply
    assert (item.counter_statement, item.counter_signature) == ("The goods are genuine.", "Sam Seller")


def test_maintain_sets_the_appeal_deadline():
    item = contested_at(T0)
    now = T0 + timedelta(days=1)
    item.maintain(now, "The goods are still counterfeit.", WINDOWS)
    assert item.state is S.IN_APPEAL
    assert item.reply_statement == "The goods are still counterfeit."
    assert item.appeal_due_at == now + WINDOWS.appeal_review


# --- deadlines that bind ----------------------------------------------------------


def test_counter_notice_on_the_last_instant_of_the_window_is_accepted():
    item = removed_at(T0)
    item.counter_notice(item.counter_notice_until, "The goods are genuine.", "Sam Seller", WINDOWS)
    assert item.state is S.CONTESTED


def test_counter_notice_after_the_window_is_refused():
    item = removed_at(T0)
    late = item.counter_notice_until + TICK
    with pytest.raises(DomainError, match="counter-notice window closed") as refused:
        item.counter_notice(late, "The goods are genuine.", "Sam Seller", WINDOWS)
    assert not isinstance(refused.value, IllegalTransition)
    assert item.state is S.REMOVED and item.contested_at is None and item.reply_due_at is None


def test_maintain_on_the_reply_deadline_is_accepted():
    item = contested_at(T0)
    item.maintain(item.reply_due_at, "Still counterfeit.", WINDOWS)
    assert item.state is S.IN_APPEAL


def test_maintain_after_the_reply_deadline_is_refused():
    item = contested_at(T0)
    with pytest.raises(DomainError, match="reply deadline passed"):
        item.maintain(item.reply_due_at + TICK, "Still counterfeit.", WINDOWS)
    assert item.state is S.CONTESTED and item.appeal_due_at is None


@pytest.mark.parametrize("offset", [-timedelta(days=1), timedelta(0)], ids=["before", "on"])
def test_lapse_while_the_holder_may_still_reply_is_refused(offset):
    item = contested_at(T0)
    with pytest.raises(DomainError, match="may still reply"):
        item.lapse(item.reply_due_at + offset)
    assert item.state is S.CONTESTED and item.closed_at is None


def test_lapse_after_the_reply_deadline_reinstates():
    item = contested_at(T0)
    now = item.reply_due_at + TICK
    assert item.reply_lapsed(now)
    item.lapse(now)
    assert item.state is S.REINSTATED and item.closed_at == now


@given(offset=st.timedeltas(min_value=-timedelta(days=30), max_value=timedelta(days=30)))
def test_after_a_counter_notice_exactly_one_of_maintain_and_lapse_is_open(offset):
    now = contested_at(T0).reply_due_at + offset
    outcomes = []
    for step in (Step.MAINTAIN, Step.LAPSE):
        try:
            TAKE[step](contested_at(T0), now)
            outcomes.append(step)
        except DomainError:
            pass
    assert outcomes == ([Step.MAINTAIN] if offset <= timedelta(0) else [Step.LAPSE])


# --- is_overdue ------------------------------------------------------------------------


def test_review_is_overdue_only_after_its_deadline():
    item = walk(Step.QUEUE_FOR_REVIEW)
    assert not item.is_overdue(item.review_due_at)
    assert item.is_overdue(item.review_due_at + TICK)


def test_appeal_is_overdue_only_after_its_deadline():
    item = contested_at(T0)
    item.maintain(T0 + timedelta(hours=1), "Still counterfeit.", WINDOWS)
    assert not item.is_overdue(item.appeal_due_at)
    assert item.is_overdue(item.appeal_due_at + TICK)


@pytest.mark.parametrize(
    "path",
    [(Step.QUEUE_FOR_REVIEW, Step.REMOVE), (Step.QUEUE_FOR_REVIEW, Step.DECLINE),
     (Step.REMOVE_AT_ONCE, Step.COUNTER_NOTICE),
     (Step.REMOVE_AT_ONCE, Step.COUNTER_NOTICE, Step.MAINTAIN, Step.UPHOLD)],
    ids=["removed", "declined", "contested", "upheld"],
)
def test_item_no_longer_waiting_for_a_person_is_never_overdue(path):
    item = walk(*path)
    assert not item.is_overdue(T0 + timedelta(days=365))


# --- reversed after counter-notice ----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "reversed_"),
    [
        ((Step.REMOVE_AT_ONCE, Step.COUNTER_NOTICE, Step.WITHDRAW), True),
        ((Step.REMOVE_AT_ONCE, Step.COUNTER_NOTICE, Step.MAINTAIN, Step.REVERSE), True),
        ((Step.REMOVE_AT_ONCE, Step.COUNTER_NOTICE, Step.MAINTAIN, Step.WITHDRAW), True),
        ((Step.REMOVE_AT_ONCE, Step.WITHDRAW), False),
        ((Step.REMOVE_AT_ONCE, Step.COUNTER_NOTICE), False),
        ((Step.REMOVE_AT_ONCE, Step.COUNTER_NOTICE, Step.MAINTAIN, Step.UPHOLD), False),
        ((Step.QUEUE_FOR_REVIEW, Step.WITHDRAW), False),
    ],
    ids=["withdrawn-when-contested", "reversed-on-appeal", "withdrawn-in-appeal",
         "withdrawn-uncontested", "still-contested", "upheld", "withdrawn-before-decision"],
)
def test_reversed_after_counter_notice(path, reversed_):
    assert walk(*path).reversed_after_counter_notice is reversed_


def test_lapsed_counter_notice_counts_as_reversed():
    item = contested_at(T0)
    item.lapse(item.reply_due_at + TICK)
    assert item.reversed_after_counter_notice


# --- missing elements -----------------------------------------------------------------------

COMPLETE = dict(right_ids=[1], explanation="Counterfeit logo on the box.", good_faith=True, accurate=True,
                signature="Ada Holder", listing_refs=["amz:B0001"])


@pytest.mark.parametrize(
    ("field", "bad"),
    [("listing_refs", []), ("right_ids", []), ("explanation", "too short"), ("explanation", " " * 40),
     ("good_faith", False), ("accurate", False), ("signature", ""), ("signature", "   ")],
)
def test_missing_element_is_named(field, bad):
    named = {"listing_refs": "listings", "right_ids": "rights"}.get(field, field)
    problems = missing_elements(**{**COMPLETE, field: bad})
    assert len(problems) == 1
    assert problems[0].startswith(f"{named}: ")


def test_complete_notice_lacks_nothing():
    assert missing_elements(**COMPLETE) == []


def test_explanation_length_is_counted_without_surrounding_blanks():
    just_enough = "x" * MIN_EXPLANATION
    assert missing_elements(**{**COMPLETE, "explanation": f"  {just_enough}  "}) == []
    assert len(missing_elements(**{**COMPLETE, "explanation": f"  {just_enough[1:]}  "})) == 1


def test_empty_notice_names_every_field():
    problems = missing_elements(right_ids=[], explanation="", good_faith=False, accurate=False,
                                signature="", listing_refs=[])
    assert [p.split(":")[0] for p in problems] == [
        "listings", "rights", "explanation", "good_faith", "accurate", "signature"]
