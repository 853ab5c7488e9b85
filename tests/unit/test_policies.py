"""The policies: a filer's record and the lane it earns, accountability for
manifestly unfounded notices, strikes and sanctions on sellers, linked accounts."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assay.domain.identity import IdentityKey, LinkKind
from assay.domain.model import RightsHolder, RightStatus, TrademarkRight
from assay.domain.notices import InfringementType, ItemState, Lane, NoticeItem
from assay.domain.policies import (
    FilerMeasure,
    FilerRecord,
    Policy,
    SanctionLevel,
    Strike,
    choose_lane,
    filer_measure,
    filer_record,
    linked_accounts,
    sanction_level,
)

S = ItemState
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)
TICK = timedelta(microseconds=1)
POLICY = Policy()
DAY = timedelta(days=1)


def item(state: ItemState, decided_at: datetime | None = NOW - DAY, *, contested: bool = False,
         unfounded: bool = False) -> NoticeItem:
    return NoticeItem(listing_id=1, seller_id=2, holder_id=3, filed_at=NOW - 200 * DAY, state=state,
                      decided_at=decided_at, contested_at=NOW - DAY if contested else None,
                      manifestly_unfounded=unfounded)


def holder(*, signed: bool = True, warned_at: datetime | None = None,
           suspended_until: datetime | None = None) -> RightsHolder:
    return RightsHolder(name="Acme", contact_email="legal@acme.test", created_at=NOW - 400 * DAY,
                        good_faith_signed_at=NOW - 300 * DAY if signed else None,
                        warned_at=warned_at, suspended_until=suspended_until, id=3)


def right(status: RightStatus = RightStatus.VERIFIED, expires_on: date = date(2030, 1, 1)) -> TrademarkRight:
    return TrademarkRight(holder_id=3, mark="ACME", office="EUIPO", registration_number="018123456",
                          classes=["25"], categories=["shoes"], expires_on=expires_on, status=status, id=7)


# --- filer_record ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "counted"),
    [
        (item(S.REMOVED), (1, 1, 0)),
        (item(S.CONTESTED, contested=True), (1, 1, 0)),
        (item(S.IN_APPEAL, contested=True), (1, 1, 0)),
        (item(S.UPHELD, contested=True), (1, 1, 0)),
        (item(S.DECLINED), (1, 0, 0)),
        (item(S.REINSTATED, contested=True), (1, 0, 1)),
        (item(S.REINSTATED), (1, 0, 0)),  # withdrawn by the filer before any counter-notice
        (item(S.FILED, None), (0, 0, 0)),
        (item(S.IN_REVIEW, None), (0, 0, 0)),
        (item(S.INCOMPLETE, None), (0, 0, 0)),
        (item(S.WITHDRAWN, None), (0, 0, 0)),
        (item(S.REMOVED, None), (0, 0, 0)),
    ],
    ids=["removed", "contested", "in_appeal", "upheld", "declined", "reinstated-after-counter-notice",
         "reinstated-uncontested", "filed", "in_review", "incomplete", "withdrawn", "removed-without-decision-time"],
)
def test_filer_record_counts_decided_items_by_outcome(entry, counted):
    assert filer_record([entry], NOW, POLICY) == FilerRecord(*counted)


@pytest.mark.parametrize(("age", "counted"), [(POLICY.record_window, 1), (POLICY.record_window + TICK, 0)],
                         ids=["on-the-edge", "just-outside"])
def test_filer_record_window_is_measured_by_decision_time(age, counted):
    assert filer_record([item(S.REMOVED, NOW - age)], NOW, POLICY).decided == counted


def test_filer_record_mix():
    items = [item(S.REMOVED)] * 6 + [item(S.DECLINED)] * 2 + [item(S.REINSTATED, contested=True)] * 2 \
        + [item(S.UPHELD, NOW - 400 * DAY)] * 5 + [item(S.IN_REVIEW, None)] * 3
    record = filer_record(items, NOW, POLICY)
    assert record == FilerRecord(decided=10, stood=6, reversed_after_counter_notice=2)
    assert (record.stood_ratio, record.reversed_ratio) == (0.6, 0.2)


def test_empty_record_has_zero_ratios():
    assert (FilerRecord(0, 0, 0).stood_ratio, FilerRecord(0, 0, 0).reversed_ratio) == (0.0, 0.0)


# --- choose_lane -------------------------------------------------------------------------

GOOD_RECORD = FilerRecord(decided=20, stood=20, reversed_after_counter_notice=0)


def lane_for(*, signed: bool = True, rights: list[TrademarkRight] | None = None,
             record: FilerRecord = GOOD_RECORD, now: datetime = NOW):
    return choose_lane(holder(signed=signed), [right()] if rights is None else rights, record, now, POLICY)


def test_good_filer_gets_the_expedited_lane():
    choice = lane_for()
    assert choice.lane is Lane.EXPEDITED
    assert len(choice.reasons) == 1 and "verified rights" in choice.reasons[0]


@pytest.mark.parametrize(
    "record",
    [
        FilerRecord(decided=10, stood=10, reversed_after_counter_notice=0),  # exactly the minimum decided
        FilerRecord(decided=20, stood=18, reversed_after_counter_notice=1),  # exactly 90% stood, 5% reversed
        FilerRecord(decided=100, stood=90, reversed_after_counter_notice=5),
    ],
    ids=["min-decided", "ratios-at-bar", "ratios-at-bar-x5"],
)
def test_record_exactly_at_the_thresholds_is_expedited(record):
    assert lane_for(record=record).lane is Lane.EXPEDITED


def test_right_expiring_today_still_counts():
    assert lane_for(rights=[right(expires_on=NOW.date())]).lane is Lane.EXPEDITED


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        (dict(rights=[right(RightStatus.PENDING)]), "right 7 (ACME) is pending, not verified"),
        (dict(rights=[right(RightStatus.REJECTED)]), "right 7 (ACME) is rejected, not verified"),
        (dict(rights=[right(RightStatus.EXPIRED)]), "right 7 (ACME) is expired, not verified"),
        (dict(rights=[right(), right(expires_on=NOW.date() - DAY)]), "right 7 (ACME) expired on 2026-05-31"),
        (dict(signed=False), "no good-faith undertaking signed"),
        (dict(record=FilerRecord(9, 9, 0)), "9 decided items in the record window, 10 needed"),
        (dict(record=FilerRecord(100, 89, 0)), "89 of 100 decided items stood (89.0%), at least 90% needed"),
        (dict(record=FilerRecord(100, 94, 6)), "6 of 100 reversed after counter-notice (6.0%), at most 5%"),
    ],
    ids=["pending", "rejected", "status-expired", "date-expired", "no-undertaking", "too-few-decided",
         "too-few-stood", "too-many-reversed"],
)
def test_each_failing_condition_holds_the_notice_back_with_its_reason(kwargs, named):
    choice = lane_for(**kwargs)
    assert choice.lane is Lane.STANDARD
    assert choice.reasons == (named,)


def test_every_failing_condition_is_reported():
    choice = lane_for(signed=False, rights=[right(RightStatus.PENDING)], record=FilerRecord(100, 80, 10))
    assert choice.lane is Lane.STANDARD
    assert len(choice.reasons) == 4


@given(scale=st.integers(min_value=1, max_value=500))
def test_ratio_thresholds_are_inclusive_at_any_scale(scale):
    decided, stood, reversed_ = 20 * scale, 18 * scale, scale  # exactly 90% stood, exactly 5% reversed
    assert lane_for(record=FilerRecord(decided, stood, reversed_)).lane is Lane.EXPEDITED
    assert lane_for(record=FilerRecord(decided, stood - 1, reversed_)).lane is Lane.STANDARD
    assert lane_for(record=FilerRecord(decided, stood - 1, reversed_ + 1)).lane is Lane.STANDARD
    assert lane_for(record=FilerRecord(decided, stood, reversed_ + 1)).lane is Lane.STANDARD


def test_no_rights_is_not_expedited():
    assert lane_for(rights=[]).lane is Lane.STANDARD


@pytest.mark.parametrize("record", [FilerRecord(1000, 899, 0), FilerRecord(1000, 946, 54)],
                         ids=["stood-89.9%", "reversed-5.4%"])
def test_reason_for_a_ratio_just_past_the_bar_does_not_show_the_bar(record):
    (reason,) = lane_for(record=record).reasons
    shown, bar = re.findall(r"([\d.]+)%", reason)
    assert shown != bar, reason


# --- filer_measure -----------------------------------------------------------------------


def unfounded(*ages: timedelta) -> list[NoticeItem]:
    return [item(S.DECLINED, NOW - age, unfounded=True) for age in ages]


def measure(items: list[NoticeItem], **holder_fields) -> FilerMeasure:
    return filer_measure(holder(**holder_fields), items, NOW, POLICY)


@pytest.mark.parametrize(("count", "expected"), [(0, FilerMeasure.NONE), (2, FilerMeasure.NONE),
                                                 (3, FilerMeasure.WARN), (7, FilerMeasure.WARN)])
def test_filer_is_warned_after_three_unfounded_notices(count, expected):
    assert measure(unfounded(*[DAY] * count)) is expected


def test_declined_but_not_manifestly_unfounded_does_not_count():
    assert measure([item(S.DECLINED)] * 5 + unfounded(DAY, DAY)) is FilerMeasure.NONE


@pytest.mark.parametrize(("age", "expected"), [(POLICY.unfounded_window - TICK, FilerMeasure.WARN),
                                               (POLICY.unfounded_window + TICK, FilerMeasure.NONE)],
                         ids=["inside", "outside"])
def test_only_unfounded_notices_inside_the_window_count(age, expected):
    assert measure(unfounded(DAY, DAY, age)) is expected


@pytest.mark.parametrize(("after_warning", "expected"), [(0, FilerMeasure.NONE), (1, FilerMeasure.NONE),
                                                         (2, FilerMeasure.SUSPEND), (4, FilerMeasure.SUSPEND)])
def test_warned_filer_is_suspended_after_two_more(after_warning, expected):
    warned = NOW - 10 * DAY
    before = unfounded(*[11 * DAY] * 5, 10 * DAY)  # the ones that earned the warning, and one on the warning itself
    assert measure(before + unfounded(*[DAY] * after_warning), warned_at=warned) is expected


def test_suspended_filer_gets_no_further_measure():
    assert measure(unfounded(*[DAY] * 10), warned_at=NOW - 20 * DAY, suspended_until=NOW + TICK) is FilerMeasure.NONE


def test_filer_back_from_suspension_starts_from_the_warning():
    # The service records the suspension as a fresh warning; the suspension has just ended.
    suspended = NOW - POLICY.suspension_period
    history = unfounded(*[POLICY.suspension_period + DAY] * 5)  # what led to the warning and the suspension
    assert measure(history, warned_at=suspended, suspended_until=NOW) is FilerMeasure.NONE
    assert measure(history + unfounded(DAY, DAY), warned_at=suspended, suspended_until=NOW) is FilerMeasure.SUSPEND


@pytest.mark.parametrize(
    ("warned_age", "expected"),
    [(POLICY.unfounded_window - TICK, FilerMeasure.SUSPEND), (POLICY.unfounded_window + TICK, FilerMeasure.NONE)],
    ids=["warning-in-window", "warning-expired"],
)
def test_a_warning_older_than_the_window_is_forgotten(warned_age, expected):
    assert measure(unfounded(DAY, DAY), warned_at=NOW - warned_age) is expected


def test_after_an_old_warning_three_new_ones_warn_again():
    assert measure(unfounded(DAY, DAY, DAY), warned_at=NOW - POLICY.unfounded_window - DAY) is FilerMeasure.WARN


# --- strikes and sanctions -----------------------------------------------------------------

CF, TM = InfringementType.COUNTERFEIT, InfringementType.TRADEMARK_MISUSE


def strike(kind: InfringementType = TM, age: timedelta = DAY, revoked: bool = False) -> Strike:
    return Strike(seller_id=2, item_id=1, kind=kind, issued_at=NOW - age, revoked_at=NOW - TICK if revoked else None)


def level(*strikes: Strike) -> SanctionLevel:
    return sanction_level(strikes, NOW, POLICY)


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        ((), SanctionLevel.NONE),
        ((TM,), SanctionLevel.WARNING),
        ((CF,), SanctionLevel.WARNING),
        ((TM, TM), SanctionLevel.RESTRICTION),
        ((TM,) * 4, SanctionLevel.RESTRICTION),
        ((TM,) * 5, SanctionLevel.CLOSURE),
        ((CF, CF), SanctionLevel.RESTRICTION),
        ((CF, CF, CF), SanctionLevel.CLOSURE),
        ((CF, CF, TM, TM), SanctionLevel.RESTRICTION),
        ((CF, CF, TM, TM, InfringementType.DESIGN), SanctionLevel.CLOSURE),
    ],
    ids=lambda v: f"{v.count(CF)}cf+{len(v) - v.count(CF)}other" if isinstance(v, tuple) else v.name,
)
def test_sanction_level_thresholds(kinds, expected):
    assert level(*(strike(kind) for kind in kinds)) is expected


def test_revoked_strikes_do_not_count():
    assert level(strike(CF), strike(CF), strike(CF, revoked=True)) is SanctionLevel.RESTRICTION
    assert level(*[strike(TM, revoked=True)] * 5) is SanctionLevel.NONE


@pytest.mark.parametrize(("age", "expected"), [(POLICY.strike_lifetime - TICK, SanctionLevel.WARNING),
                                               (POLICY.strike_lifetime, SanctionLevel.NONE)],
                         ids=["last-instant", "aged-out"])
def test_strikes_age_out_after_their_lifetime(age, expected):
    assert level(strike(age=age)) is expected


strikes_st = st.lists(
    st.builds(strike, kind=st.sampled_from(InfringementType),
              age=st.timedeltas(min_value=timedelta(0), max_value=2 * POLICY.strike_lifetime),
              revoked=st.booleans()),
    max_size=8,
)


@given(others=strikes_st, fewer=st.integers(0, 6), more=st.integers(0, 6))
def test_sanction_level_is_monotone_in_standing_counterfeit_strikes(others, fewer, more):
    fewer, more = sorted((fewer, more))
    assert level(*others, *[strike(CF)] * fewer) <= level(*others, *[strike(CF)] * more)


@given(others=strikes_st, kind=st.sampled_from(InfringementType), revoked=st.booleans())
def test_strikes_that_do_not_stand_never_change_the_level(others, kind, revoked):
    dead = strike(kind, age=POLICY.strike_lifetime + DAY) if not revoked else strike(kind, revoked=True)
    assert level(*others, dead) == level(*others)


# --- linked accounts -----------------------------------------------------------------------

EMAIL = IdentityKey(LinkKind.EMAIL, "boss@fakes.test")
PHONE = IdentityKey(LinkKind.PHONE, "+4915112345678")
TAX = IdentityKey(LinkKind.TAX_ID, "DE123456789")
OTHER_EMAIL = IdentityKey(LinkKind.EMAIL, "someone@else.test")
# The same value under another kind is a different key.
EMAIL_AS_ADDRESS = IdentityKey(LinkKind.ADDRESS, "boss@fakes.test")


def test_linked_accounts_are_those_sharing_a_key_with_what_they_share():
    banned = frozenset({EMAIL, PHONE, TAX})
    others = {
        1: frozenset({EMAIL, OTHER_EMAIL}),
        2: frozenset({OTHER_EMAIL, EMAIL_AS_ADDRESS}),
        3: frozenset({PHONE, TAX}),
        4: frozenset(),
    }
    assert linked_accounts(banned, others) == {1: frozenset({EMAIL}), 3: frozenset({PHONE, TAX})}


def test_nothing_links_to_a_seller_without_keys():
    assert linked_accounts(frozenset(), {1: frozenset({EMAIL}), 2: frozenset({PHONE})}) == {}
