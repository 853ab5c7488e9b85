"""A world with two tenants of every kind, built through the use cases.

Side `a` and side `b` each have a rights holder (a verified and a pending right, a brand, an
open suggestion), a marketplace with its integration, and a seller with listings. Notices cross
the sides, so every kind of owner has a neighbour's object within reach:

    a.item        holder A against seller A's listing  (removed, then contested by seller A)
    b.item        holder B against seller B's listing  (removed)
    a.cross_item  holder A against seller B's listing  (in review)
    b.cross_item  holder B against seller A's listing  (in review)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from tests.api.people import Person, issue, person

from assay.domain.access import Role
from assay.domain.identity import TraderIdentity
from assay.domain.notices import InfringementType
from assay.services import catalog, enrolment, jobs, marketplace, notices, redress
from assay.services.app import Assay
from assay.store.tables import suggestions

SIDES = ("a", "b")


@dataclass
class Side:
    name: str
    market: str
    holder: int = 0
    right: int = 0
    pending_right: int = 0
    brand: int = 0
    suggestion: int = 0
    marketplace: int = 0
    seller: int = 0
    listings: dict[str, int] = field(default_factory=dict)
    notice: int = 0
    item: int = 0
    cross_notice: int = 0
    cross_item: int = 0
    job: int = 0  # a bulk notice's job, queued by the holder's member


@dataclass
class Seed:
    sides: dict[str, Side]
    people: dict[str, Person]
    spare_tokens: dict[str, int]  # a second token of each person, for revoking

    @property
    def a(self) -> Side:
        return self.sides["a"]

    @property
    def b(self) -> Side:
        return self.sides["b"]


def _holder(app: Assay, side: Side, n: int) -> None:
    with app.uow("seed") as uow:
        side.holder = enrolment.enroll_holder(uow, name=f"Holder {side.name.upper()}",
                                              contact_email=f"brand-{side.name}@example.com", sign_good_faith=True)
    for attr, number in (("right", f"0180000{n}1"), ("pending_right", f"0180000{n}2")):
        with app.uow("seed") as uow:
            setattr(side, attr, enrolment.add_right(
                uow, holder_id=side.holder, mark=f"MARK{side.name.upper()}", office="EUIPO",
                registration_number=number, classes=["25"], categories=["footwear"], expires_on=date(2034, 1, 1)))
    with app.uow("coalition") as uow:
        enrolment.decide_right(uow, side.right, verified=True)
    with app.uow("seed") as uow:
        side.brand = catalog.register_brand(
            uow, holder_id=side.holder, brand_ref=f"brand-{side.name}", name=f"Brand {side.name.upper()}",
            marks=[f"MARK{side.name.upper()}"], categories=["footwear"],
            products=[{"sku": f"SKU-{side.name}", "title": "Runner", "category": "footwear", "msrp": "120.00",
                       "currency": "USD"}])


def _market(app: Assay, side: Side) -> None:
    with app.uow("seed") as uow:
        side.seller = marketplace.upsert_seller(
            uow, marketplace=side.market, seller_ref=f"seller-{side.name}", store_name=f"Store {side.name.upper()}",
            registered_at=uow.now - timedelta(days=90), identity=TraderIdentity(email=f"shop-{side.name}@mail.example"))
    for n in (1, 2, 3, 4):
        ref = f"{side.name}-{n}"
        with app.uow("seed") as uow:
            side.listings[ref] = marketplace.upsert_listing(
                uow, marketplace=side.market, listing_ref=ref, seller_ref=f"seller-{side.name}",
                title=f"Listing {ref} replica shoe", category="footwear", price="19.90", currency="USD",
                created_at=uow.now)
    with app.uow("seed") as uow:
        side.marketplace = uow.repo.marketplace(side.market).id


def _file(app: Assay, holder: Side, listing: int) -> tuple[int, int]:
    with app.uow(f"holder:{holder.name}") as uow:
        result = notices.file_notice(
            uow, holder_id=holder.holder, right_ids=[holder.right], listings=[listing],
            infringement_type=InfringementType.COUNTERFEIT, explanation="A replica sold under our mark.",
            evidence=["test purchase"], good_faith=True, accurate=True, signature="J. Doe")
    return result.notice_id, result.item_ids[0]


def _suggest(app: Assay, side: Side, listing: int) -> None:
    with app.uow("detection") as uow:
        side.suggestion = uow.session.execute(suggestions.insert().values(
            listing_id=listing, brand_id=side.brand, verdict="infringing", score=0.93, source="scan",
            status="open", created_at=uow.now,
            signals=[{"kind": "mark", "detail": "the mark in the title", "weight": 0.6}],
        ).returning(suggestions.c.id)).scalar_one()
        uow.commit()


def seed_world(app: Assay) -> Seed:
    sides = {"a": Side("a", "mkt-a"), "b": Side("b", "mkt-b")}
    for n, side in enumerate(sides.values(), start=1):
        _holder(app, side, n)
        _market(app, side)
    a, b = sides["a"], sides["b"]
    a.notice, a.item = _file(app, a, a.listings["a-1"])
    b.notice, b.item = _file(app, b, b.listings["b-1"])
    a.cross_notice, a.cross_item = _file(app, a, b.listings["b-2"])
    b.cross_notice, b.cross_item = _file(app, b, a.listings["a-2"])
    for item in (a.item, b.item):
        with app.uow("reviewer") as uow:
            notices.decide_review(uow, item, remove=True, reason="The listing copies the mark.")
    with app.uow("seller") as uow:
        redress.counter_notice(uow, a.item, seller_id=a.seller, statement="Bought from an authorised dealer.",
                               signature="Chen Wei")
    _suggest(app, a, a.listings["a-3"])
    _suggest(app, b, b.listings["b-3"])
    people = {
        "admin": person(app, Role.ADMIN, "admin@coalition.example"),
        "reviewer": person(app, Role.REVIEWER, "reviewer@coalition.example"),
    }
    for side in sides.values():
        people[f"holder_{side.name}"] = person(app, Role.HOLDER, f"member-{side.name}@example.com",
                                               holder_id=side.holder)
        people[f"integration_{side.name}"] = person(app, Role.INTEGRATION, f"api-{side.name}@market.example",
                                                    marketplace_id=side.marketplace)
        people[f"seller_{side.name}"] = person(app, Role.SELLER, f"owner-{side.name}@shop.example",
                                               seller_id=side.seller)
    spare = {name: issue(app, who.user_id, name="spare").id for name, who in people.items()}
    for side in sides.values():
        with app.uow("seed") as uow:
            side.job = jobs.create_job(uow, "bulk_notice", people[f"holder_{side.name}"].user_id, side.holder,
                                       params={}, total=0)
    return Seed(sides, people, spare)
