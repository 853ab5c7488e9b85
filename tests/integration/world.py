"""A small world for integration tests, built through the use cases themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from assay.domain.identity import TraderIdentity
from assay.domain.notices import InfringementType
from assay.services import enrolment, marketplace, notices
from assay.services.app import Assay
from assay.services.notices import FilingResult

MARKET = "bazaar"


@dataclass
class World:
    app: Assay
    holder: int = 0
    right: int = 0
    sellers: dict[str, int] = field(default_factory=dict)
    listings: dict[str, int] = field(default_factory=dict)

    def seller(self, ref: str, **identity: str) -> int:
        with self.app.uow("marketplace") as uow:
            self.sellers[ref] = marketplace.upsert_seller(
                uow, marketplace=MARKET, seller_ref=ref, store_name=f"Store {ref}",
                registered_at=uow.now - timedelta(days=30), identity=TraderIdentity(**identity))
        return self.sellers[ref]

    def listing(self, ref: str, seller: str, title: str = "QUORVEX replica shoe", price: str = "19.90") -> int:
        with self.app.uow("marketplace") as uow:
            self.listings[ref] = marketplace.upsert_listing(
                uow, marketplace=MARKET, listing_ref=ref, seller_ref=seller, title=title, category="footwear",
                price=price, currency="USD", created_at=uow.now)
        return self.listings[ref]

    def file(self, *refs: str, holder: int | None = None, right: int | None = None,
             kind: InfringementType = InfringementType.COUNTERFEIT, **overrides: object) -> FilingResult:
        holder = holder or self.holder
        fields: dict[str, object] = dict(
            holder_id=holder, right_ids=[right or self.right], listings=[f"{MARKET}:{r}" for r in refs],
            infringement_type=kind, explanation="Replica of the Quorvex Stride 1 under the QUORVEX mark.",
            evidence=["test purchase 42"], good_faith=True, accurate=True, signature="J. Doe")
        fields.update(overrides)
        with self.app.uow(f"holder:{holder}") as uow:
            return notices.file_notice(uow, **fields)  # type: ignore[arg-type]

    def review(self, item_id: int, remove: bool = True, reason: str = "Checked the listing.", **kw: bool) -> None:
        with self.app.uow("reviewer") as uow:
            notices.decide_review(uow, item_id, remove=remove, reason=reason, **kw)


def enrolled_holder(app: Assay, name: str = "Quorvex Sports Ltd", *, good_faith: bool = True,
                    verified: bool = True, mark: str = "QUORVEX", number: str = "018000001") -> tuple[int, int]:
    with app.uow("holder") as uow:
        holder = enrolment.enroll_holder(uow, name=name, contact_email="bp@example.com", sign_good_faith=good_faith)
    with app.uow("holder") as uow:
        right = enrolment.add_right(uow, holder_id=holder, mark=mark, office="EUIPO", registration_number=number,
                                    classes=["25"], categories=["footwear"], expires_on=date(2034, 1, 1))
    if verified:
        with app.uow("coalition") as uow:
            enrolment.decide_right(uow, right, verified=True)
    return holder, right


def build_world(app: Assay, *, good_faith: bool = True) -> World:
    world = World(app)
    world.holder, world.right = enrolled_holder(app, good_faith=good_faith)
    return world


def earn_expedited_lane(world: World, count: int = 10) -> None:
    """File and win `count` reviewed notices, so the holder's record earns the fast lane."""
    for n in range(count):
        world.seller(f"past-{n}", email=f"past{n}@mail.example")
        world.listing(f"P-{n}", f"past-{n}")
        result = world.file(f"P-{n}")
        world.review(result.item_ids[0])
