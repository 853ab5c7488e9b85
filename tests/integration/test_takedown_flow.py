"""The notice lifecycle through the use cases, on a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from tests.integration.world import build_world, earn_expedited_lane

from assay.domain.errors import DomainError, IllegalTransition, NotPermitted, ValidationFailed
from assay.domain.model import Listing, ListingStatus, Seller, SellerStatus
from assay.domain.notices import ItemState, Lane, NoticeItem, NoticeSource
from assay.domain.policies import Strike
from assay.domain.reasons import AutomatedDecision, Measure, StatementOfReasons
from assay.services import redress
from assay.services.deadlines import process_due
from assay.store.audit_log import verify_log


def _get(app, cls, id_):
    with app.uow() as uow:
        return uow.repo.get(cls, id_)


def _statements(app, item_id):
    with app.uow() as uow:
        return uow.repo.statements_for_item(item_id)


def test_a_new_filer_goes_to_review_and_a_reviewer_removes(app, clock):
    world = build_world(app)
    world.seller("lux", phone="+86 138 0013 8000")
    world.listing("L1", "lux")
    result = world.file("L1")
    assert result.lane is Lane.STANDARD
    assert any("decided items" in reason for reason in result.lane_reasons)
    item = _get(app, NoticeItem, result.item_ids[0])
    assert item.state is ItemState.IN_REVIEW
    assert item.review_due_at == clock.now() + app.policy.windows.review
    assert _get(app, Listing, world.listings["L1"]).status is ListingStatus.ACTIVE

    clock.advance(timedelta(hours=5))
    world.review(item.id, reason="Replica wording and a price far below MSRP.")
    assert _get(app, Listing, world.listings["L1"]).status is ListingStatus.REMOVED
    [statement] = _statements(app, item.id)
    assert statement.measure is Measure.LISTING_REMOVED
    assert statement.automated_decision is AutomatedDecision.NOT_AUTOMATED
    assert statement.source is NoticeSource.NOTICE
    assert statement.redress_deadline == clock.now() + app.policy.windows.counter_notice
    assert "QUORVEX" in statement.legal_ground and "counter-notice" in statement.redress
    with app.uow() as uow:
        assert [s.kind.value for s in uow.repo.strikes_of(world.sellers["lux"])] == ["counterfeit"]


def test_a_filer_with_a_good_record_is_expedited_and_the_listing_goes_down_at_once(app):
    world = build_world(app)
    earn_expedited_lane(world)
    world.seller("lux")
    world.listing("L1", "lux")
    result = world.file("L1")
    assert result.lane is Lane.EXPEDITED
    assert result.removed == result.item_ids
    assert _get(app, Listing, world.listings["L1"]).status is ListingStatus.REMOVED
    [statement] = _statements(app, result.item_ids[0])
    assert statement.automated_decision is AutomatedDecision.FULLY
    assert statement.source is NoticeSource.TRUSTED_NOTIFIER
    assert statement.to_dsa()["source_type"] == "SOURCE_TRUSTED_FLAGGER"


def test_without_a_good_faith_undertaking_there_is_no_fast_lane(app):
    world = build_world(app, good_faith=False)
    earn_expedited_lane(world)
    world.seller("lux")
    world.listing("L1", "lux")
    result = world.file("L1")
    assert result.lane is Lane.STANDARD
    assert "no good-faith undertaking signed" in result.lane_reasons


def test_an_incomplete_notice_is_kept_and_says_what_is_missing(app):
    world = build_world(app)
    world.seller("lux")
    world.listing("L1", "lux")
    result = world.file("L1", explanation="", good_faith=False, signature="  ")
    assert [r.split(":")[0] for r in result.incomplete_reasons] == ["explanation", "good_faith", "signature"]
    assert _get(app, NoticeItem, result.item_ids[0]).state is ItemState.INCOMPLETE
    assert _get(app, Listing, world.listings["L1"]).status is ListingStatus.ACTIVE


def test_a_notice_may_invoke_only_a_verified_right_of_its_filer(app):
    from tests.integration.world import enrolled_holder

    world = build_world(app)
    other_holder, other_right = enrolled_holder(app, "Other Brand SA", number="999")
    from datetime import date

    from assay.services import enrolment

    with app.uow("holder") as uow:
        pending = enrolment.add_right(uow, holder_id=world.holder, mark="QVX", office="EUIPO",
                                      registration_number="777", classes=["25"], categories=["footwear"],
                                      expires_on=date(2030, 1, 1))
    world.seller("lux")
    world.listing("L1", "lux")
    result = world.file("L1", right=other_right)
    assert result.incomplete_reasons == [f"rights: right {other_right} belongs to another rights holder"]
    world.listing("L2", "lux")
    result = world.file("L2", right=pending)
    assert any("pending, not verified" in r for r in result.incomplete_reasons)


def test_listings_that_cannot_be_named_are_rejected_one_by_one(app):
    world = build_world(app)
    world.seller("lux")
    world.listing("L1", "lux")
    world.listing("L2", "lux")
    first = world.file("L1")
    result = world.file("L1", "L2", "NOPE", "L2")
    reasons = dict(result.rejected)
    assert reasons["bazaar:L1"] == f"already named in your open notice item {first.item_ids[0]}"
    assert reasons["bazaar:NOPE"].startswith("not found")
    assert reasons["bazaar:L2"] == "named twice in this notice"
    assert len(result.item_ids) == 1
    with pytest.raises(ValidationFailed) as failure:
        world.file("NOPE")
    assert failure.value.problems == ["listing bazaar:NOPE: not found (name it by Assay id or as marketplace:listing_id)"]


def test_the_database_refuses_a_second_open_item_for_the_same_holder_and_listing(app):
    from sqlalchemy.exc import IntegrityError

    world = build_world(app)
    world.seller("lux")
    world.listing("L1", "lux")
    result = world.file("L1")
    with app.uow() as uow:
        item = uow.repo.get(NoticeItem, result.item_ids[0])
        uow.repo.add(NoticeItem(listing_id=item.listing_id, seller_id=item.seller_id, holder_id=item.holder_id,
                                filed_at=uow.now, notice_id=item.notice_id, state=ItemState.IN_REVIEW))
        with pytest.raises(IntegrityError):
            uow.flush()


def test_counter_notice_unanswered_past_the_deadline_reinstates(app, clock):
    world = build_world(app)
    world.seller("honest")
    world.listing("L1", "honest", title="Quorvex Stride 1, worn twice")
    item_id = world.file("L1").item_ids[0]
    world.review(item_id)
    with app.uow("seller") as uow:
        with pytest.raises(NotPermitted):
            redress.counter_notice(uow, item_id, seller_id=world.sellers["honest"] + 999,
                                   statement="Genuine, receipt attached from the shop.", signature="A. F.")
    with app.uow("seller") as uow:
        redress.counter_notice(uow, item_id, seller_id=world.sellers["honest"],
                               statement="Genuine, receipt attached from the shop.", signature="A. F.")
    reply_due = _get(app, NoticeItem, item_id).reply_due_at
    assert reply_due == clock.now() + app.policy.windows.reply

    clock.set(reply_due)  # not yet past
    assert process_due(lambda: app.uow("worker")).reinstated == 0
    clock.advance(timedelta(minutes=1))
    assert process_due(lambda: app.uow("worker")).reinstated == 1
    assert _get(app, NoticeItem, item_id).state is ItemState.REINSTATED
    assert _get(app, Listing, world.listings["L1"]).status is ListingStatus.REINSTATED
    last = _statements(app, item_id)[-1]
    assert last.measure is Measure.LISTING_REINSTATED and last.automated_decision is AutomatedDecision.FULLY
    with app.uow() as uow:
        [strike] = uow.repo.strikes_of(world.sellers["honest"])
        assert strike.revoked_at == clock.now()


def test_a_counter_notice_after_its_window_is_refused(app, clock):
    world = build_world(app)
    world.seller("s")
    world.listing("L1", "s")
    item_id = world.file("L1").item_ids[0]
    world.review(item_id)
    clock.advance(app.policy.windows.counter_notice + timedelta(seconds=1))
    with app.uow("seller") as uow, pytest.raises(DomainError, match="counter-notice window closed"):
        redress.counter_notice(uow, item_id, seller_id=world.sellers["s"],
                               statement="Too late but still trying my luck here.", signature="S")


@pytest.mark.parametrize("uphold", [True, False])
def test_maintained_notice_goes_to_appeal_and_the_reviewer_decides(app, uphold):
    world = build_world(app)
    world.seller("s")
    world.listing("L1", "s")
    item_id = world.file("L1").item_ids[0]
    world.review(item_id)
    with app.uow("seller") as uow:
        redress.counter_notice(uow, item_id, seller_id=world.sellers["s"],
                               statement="This is a different product, not theirs.", signature="S")
    with app.uow("holder") as uow:
        assert redress.reply(uow, item_id, holder_id=world.holder, maintain=True,
                             statement="The title puts our mark first to attract buyers.") is ItemState.IN_APPEAL
    with app.uow("reviewer") as uow:
        state = redress.decide_appeal(uow, item_id, uphold=uphold, reason="Weighed both statements.")
    assert state is (ItemState.UPHELD if uphold else ItemState.REINSTATED)
    listing = _get(app, Listing, world.listings["L1"])
    assert listing.status is (ListingStatus.REMOVED if uphold else ListingStatus.REINSTATED)
    with app.uow() as uow:
        standing = [s for s in uow.repo.strikes_of(world.sellers["s"]) if s.revoked_at is None]
    assert len(standing) == (1 if uphold else 0)
    with app.uow("reviewer") as uow, pytest.raises(IllegalTransition, match=f"in state '{state.value}' cannot uphold"):
        redress.decide_appeal(uow, item_id, uphold=True, reason="Again.")


def test_withdrawing_a_removed_item_reinstates_the_listing(app):
    world = build_world(app)
    world.seller("s")
    world.listing("L1", "s")
    world.listing("L2", "s")
    result = world.file("L1", "L2")
    world.review(result.item_ids[0])
    from assay.services import notices

    with app.uow("holder") as uow:
        withdrawn = notices.withdraw(uow, result.notice_id, holder_id=world.holder)
    assert withdrawn == result.item_ids
    assert _get(app, NoticeItem, result.item_ids[0]).state is ItemState.REINSTATED
    assert _get(app, NoticeItem, result.item_ids[1]).state is ItemState.WITHDRAWN
    assert _get(app, Listing, world.listings["L1"]).status is ListingStatus.REINSTATED


def test_three_counterfeit_strikes_close_the_storefront_and_ban_linked_accounts(app):
    world = build_world(app)
    world.seller("lux", phone="+86 138 0013 8000", email="topdeals.shop+lux@gmail.com")
    world.seller("twin", phone="0086-13800138000")
    world.seller("cousin", email="TopDeals.Shop@googlemail.com")
    world.seller("stranger", phone="+86 139 9999 0000")
    for n in range(3):
        world.listing(f"L{n}", "lux")
    world.listing("T1", "twin")
    levels = []
    for n in range(3):
        world.review(world.file(f"L{n}").item_ids[0])
        levels.append(_get(app, Seller, world.sellers["lux"]).status)
    assert levels == [SellerStatus.ACTIVE, SellerStatus.RESTRICTED, SellerStatus.CLOSED]
    banned = {ref: _get(app, Seller, sid).is_banned for ref, sid in world.sellers.items()}
    assert banned == {"lux": True, "twin": True, "cousin": True, "stranger": False}
    assert "by phone" in _get(app, Seller, world.sellers["twin"]).ban_reason
    assert "by email" in _get(app, Seller, world.sellers["cousin"]).ban_reason
    assert _get(app, Listing, world.listings["T1"]).status is ListingStatus.REMOVED
    with app.uow() as uow:
        measures = [s.measure for s in uow.repo.all(StatementOfReasons, seller_id=world.sellers["lux"])]
    assert Measure.SELLER_WARNED in measures and Measure.STOREFRONT_RESTRICTED in measures
    assert measures.count(Measure.STOREFRONT_CLOSED) == 1

    # The ring returns under a new account: banned on arrival.
    world.seller("comeback", payment_account="x", phone="+86-138-0013-8000")
    assert _get(app, Seller, world.sellers["comeback"]).is_banned


def test_strikes_age_out_and_a_restriction_is_lifted(app, clock):
    from assay.services.sanctions import apply_sanctions_now

    world = build_world(app)
    world.seller("s")
    for n in range(2):
        world.listing(f"L{n}", "s")
        world.review(world.file(f"L{n}").item_ids[0])
    assert _get(app, Seller, world.sellers["s"]).status is SellerStatus.RESTRICTED
    clock.advance(app.policy.strike_lifetime + timedelta(days=1))
    with app.uow("worker") as uow:
        assert apply_sanctions_now(uow, world.sellers["s"]) == [Measure.STOREFRONT_RESTORED]
    assert _get(app, Seller, world.sellers["s"]).status is SellerStatus.ACTIVE


def test_a_filer_of_unfounded_notices_is_warned_then_suspended(app, clock):
    from assay.domain.errors import FilingSuspended
    from assay.domain.model import RightsHolder

    world = build_world(app)
    world.seller("s")
    policy = app.policy
    for n in range(policy.warn_after_unfounded + policy.suspend_after_warning):
        world.listing(f"L{n}", "s")
        world.review(world.file(f"L{n}").item_ids[0], remove=False, reason="Genuine goods.",
                     manifestly_unfounded=True)
        clock.advance(timedelta(hours=1))
        holder = _get(app, RightsHolder, world.holder)
        if n + 1 < policy.warn_after_unfounded:
            assert holder.warned_at is None
        elif n + 1 == policy.warn_after_unfounded:
            assert holder.warned_at is not None and holder.suspended_until is None
    assert holder.suspended_until is not None
    world.listing("LX", "s")
    with pytest.raises(FilingSuspended, match="suspended from filing until"):
        world.file("LX")
    clock.set(holder.suspended_until + timedelta(seconds=1))
    assert world.file("LX").item_ids


def test_review_deadlines_are_flagged_once(app, clock):
    world = build_world(app)
    world.seller("s")
    world.listing("L1", "s")
    item_id = world.file("L1").item_ids[0]
    clock.advance(app.policy.windows.review + timedelta(minutes=1))
    assert process_due(lambda: app.uow("worker")).flagged_overdue == 1
    assert process_due(lambda: app.uow("worker")).flagged_overdue == 0
    assert _get(app, NoticeItem, item_id).overdue


def test_a_use_case_that_fails_midway_leaves_nothing_behind(app, monkeypatch):
    from assay.services import notices

    world = build_world(app)
    world.seller("s")
    world.listing("L1", "s")
    item_id = world.file("L1").item_ids[0]
    with app.uow() as uow:
        events_before = verify_log(uow.session)[0]

    def broken(*_args, **_kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(notices, "issue_strike", broken)
    with pytest.raises(RuntimeError):
        world.review(item_id)
    assert _get(app, NoticeItem, item_id).state is ItemState.IN_REVIEW
    assert _get(app, Listing, world.listings["L1"]).status is ListingStatus.ACTIVE
    with app.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(StatementOfReasons)) == 0
        assert uow.session.scalar(select(func.count()).select_from(Strike)) == 0
        counted, problem = verify_log(uow.session)
    assert (counted, problem) == (events_before, None)
