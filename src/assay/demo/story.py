"""The demo's story, played against a real database on a clock the demo moves:
a brand earns the expedited lane, an unknown brand waits for review, an honest
seller wins back a listing, and a counterfeit ring is closed and banned."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from assay.demo.world import BRANDS, HISTORY, LISTINGS, MARKETPLACE, SELLERS
from assay.domain.identity import TraderIdentity
from assay.domain.model import Seller
from assay.domain.notices import InfringementType, Lane
from assay.services import catalog, enrolment, marketplace, notices, redress
from assay.services.app import Assay
from assay.services.clock import ManualClock
from assay.services.deadlines import process_due
from assay.services.reports import Summary, summary

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
ADMIN = "coalition:admin"
REVIEWER = "reviewer:rosa"


@dataclass
class Story:
    """What happened, line by line, and the figures at the end."""

    lines: list[str] = field(default_factory=list)
    summary: Summary | None = None

    def say(self, line: str) -> None:
        self.lines.append(line)


def play(app: Assay, clock: ManualClock, say: Callable[[str], None] | None = None) -> Story:
    story = Story()
    tell = (lambda line: (story.say(line), say(line))) if say else story.say

    def uow(actor: str):  # one use case, one transaction
        return app.uow(actor)

    # -- the world --------------------------------------------------------------------
    holders, rights = {}, {}
    for brand in BRANDS:
        with uow(f"holder:{brand.ref}") as u:
            holders[brand.ref] = enrolment.enroll_holder(u, name=brand.owner, contact_email=brand.email,
                                                         sign_good_faith=True)
        with uow(f"holder:{brand.ref}") as u:
            rights[brand.ref] = enrolment.add_right(
                u, holder_id=holders[brand.ref], mark=brand.marks[0], office=brand.office,
                registration_number=brand.registration, classes=["25"] if "footwear" in brand.categories else ["3"],
                categories=brand.categories, expires_on=date(2034, 6, 30))
        with uow(ADMIN) as u:
            enrolment.decide_right(u, rights[brand.ref], verified=True, reason="checked against the office register")
        with uow(f"holder:{brand.ref}") as u:
            catalog.register_brand(u, holder_id=holders[brand.ref], brand_ref=brand.ref, name=brand.name,
                                   marks=brand.marks, categories=brand.categories, products=brand.products,
                                   authorized_sellers=brand.authorized)
    market = f"marketplace:{MARKETPLACE}"
    for ref, (store, identity) in SELLERS.items():
        with uow(market) as u:
            marketplace.upsert_seller(u, marketplace=MARKETPLACE, seller_ref=ref, store_name=store,
                                      registered_at=START - timedelta(days=400), identity=identity)
    for ref, seller, title, category, price, currency in LISTINGS:
        with uow(market) as u:
            marketplace.upsert_listing(u, marketplace=MARKETPLACE, listing_ref=ref, seller_ref=seller, title=title,
                                       category=category, price=price, currency=currency, created_at=START)
    tell(f"The cast: {len(BRANDS)} brands with verified marks, {len(SELLERS)} sellers, {len(LISTINGS)} listings on {MARKETPLACE}.")

    def file(brand: str, refs: list[str], why: str, kind: InfringementType = InfringementType.COUNTERFEIT):
        with uow(f"holder:{brand}") as u:
            return notices.file_notice(
                u, holder_id=holders[brand], right_ids=[rights[brand]], listings=[f"{MARKETPLACE}:{r}" for r in refs],
                infringement_type=kind, explanation=why, evidence=["test purchase report"], good_faith=True,
                accurate=True, signature=f"Brand protection, {brand}")

    def review(item_id: int, remove: bool, reason: str, **kw: bool) -> None:
        with uow(REVIEWER) as u:
            notices.decide_review(u, item_id, remove=remove, reason=reason, **kw)

    # -- Quorvex earns its record through the standard lane -----------------------------------
    clock.set(START - timedelta(days=150))
    lanes = {Lane.STANDARD: 0, Lane.EXPEDITED: 0}
    for seller_ref, listing_ref, title in HISTORY:
        with uow(market) as u:
            marketplace.upsert_seller(u, marketplace=MARKETPLACE, seller_ref=seller_ref, store_name=title[:20],
                                      registered_at=clock.now(), identity=TraderIdentity(email=f"{seller_ref}@mail.example"))
        with uow(market) as u:
            marketplace.upsert_listing(u, marketplace=MARKETPLACE, listing_ref=listing_ref, seller_ref=seller_ref,
                                       title=title, category="footwear", price="12.00", currency="USD",
                                       created_at=clock.now())
        result = file("quorvex", [listing_ref], "Replica of the Quorvex Stride 1 sold under the QUORVEX mark.")
        lanes[result.lane] += 1
        if result.queued:
            clock.advance(timedelta(hours=20))
            review(result.item_ids[0], True, "Replica wording and a price a tenth of the MSRP; the test purchase was fake.")
        clock.advance(timedelta(days=6))
    tell(f"Quorvex's first {lanes[Lane.STANDARD]} notices went to review and every removal stood; "
         f"that record earned the expedited lane for the next {lanes[Lane.EXPEDITED]}.")

    # -- today: the trusted brand is expedited ---------------------------------------------------
    clock.set(START)
    fast = file("quorvex", ["L-1004", "L-1010", "L-1003"],
                "Replicas of the Quorvex Stride 1 offered under the QUORVEX and QVX marks far below MSRP.")
    tell(f"Quorvex files notice {fast.notice_id}: lane {fast.lane.value}; "
         f"{len(fast.removed)} listings down at once, no person in the loop.")

    # -- an unknown brand goes to review ---------------------------------------------------------
    slow = file("tessaline", ["L-2001", "L-2002", "L-2003"],
                "Counterfeit Tessaline Nuit sold as testers and 'dupes' using the TESSALINE mark.")
    tell(f"Tessaline files notice {slow.notice_id}: lane {slow.lane.value} ({slow.lane_reasons[0]}); "
         f"{len(slow.queued)} items wait for a reviewer.")
    clock.advance(timedelta(hours=30))
    l2001, l2002, l2003 = slow.item_ids
    review(l2001, True, "Testers are not sold to the public; the batch code belongs to no Tessaline batch.")
    review(l2002, True, "Uses the TESSALINE mark to sell a product that is not Tessaline's.")
    review(l2003, False, "Genuine second-hand bottle with proof of purchase; resale of genuine goods is lawful.")
    tell("The reviewer removes two Tessaline listings and declines the third (genuine second-hand).")

    # -- an honest seller answers; the brand stays silent ------------------------------------------
    second_hand = fast.item_ids[2]
    with uow("seller:s-second-life") as u:
        redress.counter_notice(u, second_hand, seller_id=_seller_id(app, "s-second-life"),
                               statement="These are my own Quorvex shoes, bought at Northstar Sports; receipt attached.",
                               signature="Ana Ferreira")
    tell("Second Life Vintage counter-notices its removed listing L-1003 (genuine, worn twice).")

    # -- GlowHub contests, Tessaline maintains, the reviewer upholds ---------------------------------
    with uow("seller:s-glowhub") as u:
        redress.counter_notice(u, l2002, seller_id=_seller_id(app, "s-glowhub"),
                               statement="A dupe is a different product; we never claimed it was Tessaline.",
                               signature="GlowHub Trading Ltd")
    with uow("holder:tessaline") as u:
        redress.reply(u, l2002, holder_id=holders["tessaline"], maintain=True,
                      statement="The listing title puts our mark first to draw buyers searching for it.")
    clock.advance(timedelta(days=2))
    with uow(REVIEWER) as u:
        redress.decide_appeal(u, l2002, uphold=True, reason="The mark is used to sell another product: removal stands.")
    tell("GlowHub contests L-2002; Tessaline maintains; the reviewer upholds the removal.")

    clock.advance(timedelta(days=11))
    due = process_due(lambda: uow("worker"))
    tell(f"Eleven days on, Quorvex never answered: the worker reinstates {due.reinstated} listing (L-1003).")

    # -- the repeat infringer ------------------------------------------------------------------------
    for ref in ("L-1005", "L-1007"):
        clock.advance(timedelta(days=3))
        result = file("quorvex", [ref], "Counterfeit Quorvex goods under a disguised QUORVEX mark.")
        if result.lane is Lane.STANDARD:  # the record may no longer earn the fast lane
            clock.advance(timedelta(hours=8))
            review(result.item_ids[0], True, "Disguised mark, replica wording, a fraction of the MSRP.")
        tell(f"Quorvex reports {ref} of LuxDeals Outlet ({result.lane.value} lane): the removal is a strike.")
    with uow("system") as u:
        closed = [s for s in u.repo.all(Seller) if s.is_banned and s.seller_ref in SELLERS]
        for seller in closed:
            tell(f"Closed and banned: {seller.store_name} ({seller.ban_reason}).")

    # -- the ring comes back under a new name ------------------------------------------------------
    clock.advance(timedelta(days=5))
    with uow(market) as u:
        marketplace.upsert_seller(
            u, marketplace=MARKETPLACE, seller_ref="s-luxe-new", store_name="Luxe New Arrivals",
            registered_at=clock.now(), identity=TraderIdentity(legal_name="W. Chen", email="top.deals.shop@googlemail.com"))
    with uow("system") as u:
        newcomer = u.repo.seller_by_ref(MARKETPLACE, "s-luxe-new")
        tell(f"A new account 'Luxe New Arrivals' registers: {'banned on arrival' if newcomer.is_banned else 'allowed'}"
             f"{' (' + newcomer.ban_reason + ')' if newcomer.is_banned else ''}.")
        story.summary = summary(u)
    return story


def _seller_id(app: Assay, seller_ref: str) -> int:
    with app.uow() as u:
        seller = u.repo.seller_by_ref(MARKETPLACE, seller_ref)
        assert seller is not None and seller.id is not None
        return seller.id
