"""People of a test: accounts created through the accounts use case, with their bearer tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from assay.domain.access import Role, Scope
from assay.domain.identity import TraderIdentity
from assay.services import accounts, enrolment, marketplace
from assay.services.app import Assay

SECRET = "a-test-secret-of-thirty-two-char"
PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Person:
    user_id: int
    email: str
    token: str
    token_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_user(app: Assay, role: Role, email: str, **owner: int) -> int:
    with app.uow("test") as uow:
        return accounts.create_user(uow, email=email, password=PASSWORD, role=role, **owner)


def issue(app: Assay, user_id: int, *, scopes: tuple[Scope, ...] = (Scope.READ, Scope.WRITE),
          lifetime: timedelta = timedelta(days=30), name: str = "test") -> accounts.IssuedToken:
    with app.uow("test") as uow:
        return accounts.issue_token(uow, user_id, key=SECRET.encode(), name=name, scopes=list(scopes),
                                    lifetime=lifetime)


def person(app: Assay, role: Role, email: str, **owner: int) -> Person:
    user_id = make_user(app, role, email, **owner)
    token = issue(app, user_id)
    return Person(user_id, email, token.secret, token.id)


def integration(app: Assay, code: str) -> tuple[Person, int]:
    """A marketplace and its integration's account; the marketplace's id."""
    with app.uow("test") as uow:
        market_id = marketplace.ensure_marketplace(uow, code).id
        uow.commit()
    assert market_id is not None
    return person(app, Role.INTEGRATION, f"api@{code}.example", marketplace_id=market_id), market_id


def seller_record(ref: str, market: str, **overrides: object) -> dict[str, object]:
    """A line of sellers.jsonl, as a marketplace sends it."""
    record: dict[str, object] = {
        "seller_id": ref, "marketplace": market, "store_name": f"Store {ref}", "status": "active",
        "registered_at": "2026-01-05T10:00:00+00:00",
        "identity": {"legal_name": None, "email": f"{ref}@mail.example", "phone": None, "address": None,
                     "tax_id": None, "payment_account": None},
    }
    record.update(overrides)
    return record


def listing_record(ref: str, seller: str, market: str, **overrides: object) -> dict[str, object]:
    """A line of listings.jsonl, as a marketplace sends it."""
    record: dict[str, object] = {
        "listing_id": ref, "marketplace": market, "seller_id": seller, "title": f"QUORVEX replica {ref}",
        "description": "", "category": "footwear", "price": 19.9, "currency": "USD", "images": [],
        "created_at": "2026-05-30T08:00:00+00:00",
    }
    record.update(overrides)
    return record


def verified_holder(app: Assay, name: str = "Quorvex Sports Ltd") -> tuple[Person, int]:
    """A rights holder whose mark the coalition verified, with a member's account: the member and the right."""
    with app.uow("test") as uow:
        holder_id = enrolment.enroll_holder(uow, name=name, contact_email="bp@quorvex.example", sign_good_faith=True)
    with app.uow("test") as uow:
        right_id = enrolment.add_right(uow, holder_id=holder_id, mark="QUORVEX", office="EUIPO",
                                       registration_number=f"0180-{holder_id}", classes=["25"],
                                       categories=["footwear"], expires_on=date(2034, 6, 30))
    with app.uow("coalition") as uow:
        enrolment.decide_right(uow, right_id, verified=True)
    return person(app, Role.HOLDER, f"member-{holder_id}@quorvex.example", holder_id=holder_id), right_id


def listings_on(app: Assay, market: str, seller: str, *refs: str) -> list[int]:
    """A seller and its listings, as the marketplace's feed brings them."""
    with app.uow("test") as uow:
        marketplace.upsert_seller(uow, marketplace=market, seller_ref=seller, store_name=f"Store {seller}",
                                  registered_at=uow.now, identity=TraderIdentity(email=f"{seller}@mail.example"))
    ids = []
    for ref in refs:
        with app.uow("test") as uow:
            ids.append(marketplace.upsert_listing(uow, marketplace=market, listing_ref=ref, seller_ref=seller,
                                                  title=f"QUORVEX replica {ref}", category="footwear", price="19.90",
                                                  currency="USD", created_at=uow.now))
    return ids
