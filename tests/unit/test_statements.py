"""Statements of reasons: who and what decided a removal, their export to the EU
Transparency Database's vocabulary, and the text the seller reads."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from assay.domain import statements
from assay.domain.model import Listing, RightStatus, TrademarkRight
from assay.domain.notices import InfringementType, Lane, Notice, NoticeItem, NoticeSource, Windows
from assay.domain.reasons import AutomatedDecision, DecisionGround, Measure, StatementOfReasons

NOW = datetime(2026, 6, 1, 9, 30, 45, tzinfo=timezone.utc)
WINDOWS = Windows()

# The Transparency Database's vocabulary, written out here rather than read from reasons.py.
REMOVED = ["DECISION_VISIBILITY_CONTENT_REMOVED"]
DSA_MEASURE = {  # measure -> (decision_visibility, decision_account)
    Measure.LISTING_REMOVED: (REMOVED, None),
    Measure.REMOVAL_UPHELD: (REMOVED, None),
    Measure.LISTING_REINSTATED: ([], None),
    Measure.NO_ACTION: ([], None),
    Measure.SELLER_WARNED: ([], None),
    Measure.STOREFRONT_RESTRICTED: ([], "DECISION_ACCOUNT_SUSPENDED"),
    Measure.STOREFRONT_RESTORED: ([], None),
    Measure.STOREFRONT_CLOSED: (REMOVED, "DECISION_ACCOUNT_TERMINATED"),
}
DSA_SOURCE = {
    NoticeSource.NOTICE: "SOURCE_ARTICLE_16",
    NoticeSource.TRUSTED_NOTIFIER: "SOURCE_TRUSTED_FLAGGER",
    NoticeSource.OWN_INITIATIVE: "SOURCE_VOLUNTARY",
}
DSA_AUTOMATED_DECISION = {
    AutomatedDecision.FULLY: "AUTOMATED_DECISION_FULLY",
    AutomatedDecision.PARTIALLY: "AUTOMATED_DECISION_PARTIALLY",
    AutomatedDecision.NOT_AUTOMATED: "AUTOMATED_DECISION_NOT_AUTOMATED",
}

RIGHT = TrademarkRight(holder_id=3, mark="ACME", office="EUIPO", registration_number="018123456", classes=["25"],
                       categories=["shoes"], expires_on=date(2030, 1, 1), status=RightStatus.VERIFIED, id=7)
LISTING = Listing(marketplace_id=1, listing_ref="B0001", seller_id=5, title="ACME runner", category="shoes",
                  price=Decimal("19.99"), currency="EUR", created_at=NOW - timedelta(days=30), id=100)


def notice(lane: Lane, source: NoticeSource = NoticeSource.NOTICE) -> Notice:
    return Notice(holder_id=3, right_ids=[7], infringement_type=InfringementType.COUNTERFEIT,
                  explanation="The logo and the box are fakes. ", evidence=[], good_faith=True, accurate=True,
                  signature="Ada Holder", filed_at=NOW, filed_by="ada", source=source, lane=lane)


def removed_item() -> NoticeItem:
    item = NoticeItem(listing_id=100, seller_id=5, holder_id=3, filed_at=NOW, id=42)
    item.remove_at_once(NOW, WINDOWS)
    return item


def removal(lane: Lane, source: NoticeSource = NoticeSource.NOTICE) -> StatementOfReasons:
    return statements.removal(notice(lane, source), removed_item(), LISTING, [RIGHT], "Acme Corp",
                              "assay:expedited-lane" if lane is Lane.EXPEDITED else "rev-1", NOW)


def statement(**overrides) -> StatementOfReasons:
    fields = dict(measure=Measure.LISTING_REMOVED, scope="listing B0001", facts="Counterfeit ACME shoes.",
                  ground=DecisionGround.ILLEGAL_CONTENT, legal_ground="Infringement of trademark 'ACME'",
                  source=NoticeSource.NOTICE, automated_detection=False,
                  automated_decision=AutomatedDecision.NOT_AUTOMATED, redress="File a counter-notice.",
                  decided_at=NOW, decided_by="rev-1", seller_id=5)
    return StatementOfReasons(**{**fields, **overrides})


# --- who decided a removal ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("lane", "automated", "source"),
    [(Lane.EXPEDITED, AutomatedDecision.FULLY, NoticeSource.TRUSTED_NOTIFIER),
     (Lane.STANDARD, AutomatedDecision.NOT_AUTOMATED, NoticeSource.NOTICE)],
    ids=["expedited", "standard"],
)
def test_removal_says_how_it_was_decided(lane, automated, source):
    sor = removal(lane)
    assert (sor.automated_decision, sor.source, sor.automated_detection) == (automated, source, False)


def test_expedited_removal_says_no_person_reviewed_it():
    assert "no person reviewed it" in removal(Lane.EXPEDITED).facts
    assert "A reviewer examined" in removal(Lane.STANDARD).facts


@pytest.mark.parametrize("lane", list(Lane))
def test_own_initiative_removal_is_voluntary_and_automatically_detected(lane):
    sor = removal(lane, NoticeSource.OWN_INITIATIVE)
    assert (sor.source, sor.automated_detection) == (NoticeSource.OWN_INITIATIVE, True)


def test_removal_identifies_the_decision():
    item = removed_item()
    sor = removal(Lane.STANDARD)
    assert (sor.measure, sor.ground) == (Measure.LISTING_REMOVED, DecisionGround.ILLEGAL_CONTENT)
    assert (sor.seller_id, sor.item_id, sor.listing_id) == (5, 42, 100)
    assert (sor.decided_at, sor.decided_by) == (NOW, "rev-1")
    assert sor.redress_deadline == item.counter_notice_until == NOW + WINDOWS.counter_notice
    assert sor.legal_ground == "Infringement of trademark 'ACME', EUIPO registration 018123456"
    assert "B0001" in sor.scope and "Acme Corp" in sor.facts and "counterfeit" in sor.facts


# --- to_dsa ---------------------------------------------------------------------------------


@pytest.mark.parametrize("measure", list(Measure))
def test_to_dsa_maps_the_measure(measure):
    dsa = statement(measure=measure).to_dsa()
    assert (dsa["decision_visibility"], dsa["decision_account"]) == DSA_MEASURE[measure]


@pytest.mark.parametrize("source", list(NoticeSource))
def test_to_dsa_maps_the_source(source):
    assert statement(source=source).to_dsa()["source_type"] == DSA_SOURCE[source]


@pytest.mark.parametrize("automated", list(AutomatedDecision))
def test_to_dsa_maps_the_automated_decision(automated):
    assert statement(automated_decision=automated).to_dsa()["automated_decision"] == DSA_AUTOMATED_DECISION[automated]


@pytest.mark.parametrize(("detected", "answer"), [(True, "Yes"), (False, "No")])
def test_to_dsa_maps_automated_detection(detected, answer):
    assert statement(automated_detection=detected).to_dsa()["automated_detection"] == answer


@pytest.mark.parametrize(
    ("ground", "dsa_ground"),
    [(DecisionGround.ILLEGAL_CONTENT, "DECISION_GROUND_ILLEGAL_CONTENT"),
     (DecisionGround.INCOMPATIBLE_CONTENT, "DECISION_GROUND_INCOMPATIBLE_CONTENT")],
)
def test_to_dsa_maps_the_ground(ground, dsa_ground):
    assert statement(ground=ground).to_dsa()["decision_ground"] == dsa_ground


def test_to_dsa_never_reports_a_lawful_listing_as_incompatible_content():
    assert statement(measure=Measure.NO_ACTION, ground=DecisionGround.NOT_ILLEGAL).to_dsa() is None
    assert statement(measure=Measure.LISTING_REINSTATED, ground=DecisionGround.NOT_ILLEGAL).to_dsa() is None


def test_to_dsa_carries_the_facts_ground_and_fixed_fields():
    dsa = statement().to_dsa()
    assert dsa["illegal_content_legal_ground"] == "Infringement of trademark 'ACME'"
    assert dsa["illegal_content_explanation"] == dsa["decision_facts"] == "Counterfeit ACME shoes."
    assert dsa["category"] == "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS"
    assert dsa["content_type"] == ["CONTENT_TYPE_PRODUCT"]
    assert dsa["application_date"] == "2026-06-01"
    assert dsa["territorial_scope"] == ["EU"]


@pytest.mark.parametrize(
    ("lane", "source", "automated"),
    [(Lane.EXPEDITED, "SOURCE_TRUSTED_FLAGGER", "AUTOMATED_DECISION_FULLY"),
     (Lane.STANDARD, "SOURCE_ARTICLE_16", "AUTOMATED_DECISION_NOT_AUTOMATED")],
    ids=["expedited", "standard"],
)
def test_removal_exports_as_removed_content_on_illegal_ground(lane, source, automated):
    dsa = removal(lane).to_dsa()
    assert (dsa["source_type"], dsa["automated_decision"], dsa["automated_detection"]) == (source, automated, "No")
    assert dsa["decision_visibility"] == REMOVED
    assert dsa["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"


# --- render ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lane", list(Lane))
def test_render_tells_the_seller_decision_ground_redress_and_deadline(lane):
    sor = removal(lane)
    text = sor.render()
    deadline = (NOW + WINDOWS.counter_notice).isoformat(timespec="minutes")
    assert "Decision: listing removed (listing B0001" in text
    assert "Ground: Infringement of trademark 'ACME', EUIPO registration 018123456" in text
    assert f"Your options: {sor.redress}" in text and "counter-notice" in sor.redress
    assert f"Deadline: {deadline}" in text and deadline == "2026-06-15T09:30+00:00"


def test_render_says_how_the_decision_was_taken():
    assert "automated decision: fully" in removal(Lane.EXPEDITED).render()
    assert "Prompted by: trusted notifier" in removal(Lane.EXPEDITED).render()
    assert "automated decision: not automated" in removal(Lane.STANDARD).render()


def test_render_without_a_deadline_has_no_deadline_line():
    text = statement(measure=Measure.NO_ACTION, redress="No action is needed.").render()
    assert "Deadline" not in text
    assert text.splitlines()[-1] == "Your options: No action is needed."
