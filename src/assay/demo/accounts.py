"""The demo's people: one account per role, so each view of the system can be tried."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from assay.demo.world import BRANDS, MARKETPLACE
from assay.domain.access import Role, Scope
from assay.domain.model import RightsHolder
from assay.services import accounts
from assay.services.app import Assay

DEMO_PASSWORD = "assay-demo-password"
HONEST_SELLER = "s-second-life"  # wins back a listing in the story


@dataclass(frozen=True)
class DemoAccount:
    role: Role
    email: str
    what: str


def create_demo_accounts(app: Assay, *, token_key: bytes) -> tuple[list[DemoAccount], str]:
    """Accounts for the demo's cast, all with DEMO_PASSWORD, and an API token for the first brand."""
    made: list[DemoAccount] = []
    with app.uow("demo") as uow:
        def add(role: Role, email: str, what: str, **owner: int) -> int:
            user_id = accounts.create_user(uow, email=email, password=DEMO_PASSWORD, role=role, commit=False, **owner)
            made.append(DemoAccount(role, email, what))
            return user_id

        add(Role.ADMIN, "admin@coalition.example", "coalition admin: verifies rights, sees everything")
        add(Role.REVIEWER, "reviewer@coalition.example", "reviewer: the review queue and appeals")
        brand_user = None
        for brand in BRANDS:
            holder = uow.repo.first(RightsHolder, name=brand.owner)
            if holder is not None:
                user_id = add(Role.HOLDER, f"team@{brand.ref}.example", f"brand protection at {brand.owner}",
                              holder_id=holder.id)
                brand_user = brand_user or (user_id, brand.owner)
        market = uow.repo.marketplace(MARKETPLACE)
        add(Role.INTEGRATION, f"integration@{MARKETPLACE}.example", f"{MARKETPLACE}'s integration",
            marketplace_id=market.id)
        seller = uow.repo.seller_by_ref(MARKETPLACE, HONEST_SELLER)
        if seller is not None:
            add(Role.SELLER, f"owner@{HONEST_SELLER}.example", f"the seller {seller.store_name}", seller_id=seller.id)
        uow.commit()
    assert brand_user is not None
    with app.uow("demo") as uow:
        token = accounts.issue_token(uow, brand_user[0], key=token_key, name="demo", scopes=list(Scope),
                                     lifetime=timedelta(days=30))
    return made, token.secret
