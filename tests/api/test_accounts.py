"""Signing in, API tokens and their scopes, expiry and revocation; who may open accounts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.api.people import PASSWORD, Person, integration, issue, make_user, person, seller_record
from tests.api.test_routes import ok

from assay.domain.access import Role, Scope
from assay.domain.model import RightsHolder
from assay.services.app import Assay
from assay.services.clock import ManualClock
from assay.store.tables import api_tokens

PROBLEM_JSON = "application/problem+json"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_signing_in_gives_a_token_and_a_wrong_password_gives_nothing(app: Assay, client: TestClient) -> None:
    make_user(app, Role.REVIEWER, "reviewer@coalition.example")
    issued = ok(client.post("/v1/auth/token", json={"email": " Reviewer@Coalition.example ", "password": PASSWORD}),
                201)
    assert issued["token"].startswith("assay_") and issued["token_type"] == "bearer"
    me = ok(client.get("/v1/me", headers=bearer(issued["token"])))
    assert me["email"] == "reviewer@coalition.example" and me["role"] == "reviewer"
    assert "password_hash" not in me

    wrong = client.post("/v1/auth/token", json={"email": "reviewer@coalition.example", "password": "not it at all"})
    unknown = client.post("/v1/auth/token", json={"email": "nobody@coalition.example", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()  # an unknown email is not told apart from a wrong password
    assert wrong.headers["content-type"] == PROBLEM_JSON


def test_without_a_token_or_with_a_made_up_one_the_answer_is_401(app: Assay, client: TestClient) -> None:
    missing = client.get("/v1/notices")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    for header in ("Bearer assay_made-up", "Bearer ", "Basic dXNlcjpwYXNz"):
        made_up = client.get("/v1/notices", headers={"Authorization": header})
        assert made_up.status_code == 401, header
        assert made_up.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert made_up.json()["detail"] == "the bearer token is unknown, expired or revoked"


def test_a_read_only_token_reads_and_may_not_write(app: Assay, client: TestClient) -> None:
    user = make_user(app, Role.ADMIN, "admin@coalition.example")
    reader = issue(app, user, scopes=(Scope.READ,))
    ok(client.get("/v1/notices", headers=bearer(reader.secret)))
    refused = client.post("/v1/tokens", headers=bearer(reader.secret), json={"name": "ci"})
    assert refused.status_code == 403 and refused.json()["detail"] == "this token lacks the 'write' scope"
    writer = issue(app, user, scopes=(Scope.WRITE,))
    refused = client.get("/v1/notices", headers=bearer(writer.secret))
    assert refused.status_code == 403 and refused.json()["detail"] == "this token lacks the 'read' scope"


def test_a_token_cannot_grant_scopes_it_lacks(app: Assay, client: TestClient) -> None:
    user = make_user(app, Role.ADMIN, "admin@coalition.example")
    writer = issue(app, user, scopes=(Scope.WRITE,))
    refused = client.post("/v1/tokens", headers=bearer(writer.secret), json={"name": "ci", "scopes": ["read", "write"]})
    assert refused.status_code == 403
    assert refused.json()["detail"] == "a token cannot grant scopes its creator's token lacks"
    granted = ok(client.post("/v1/tokens", headers=bearer(writer.secret), json={"name": "ci", "scopes": ["write"]}),
                 201)
    with app.uow() as uow:
        assert uow.session.scalar(select(api_tokens.c.scopes).where(api_tokens.c.id == granted["token_id"])) \
            == ["write"]


def test_tokens_expire(app: Assay, client: TestClient, clock: ManualClock) -> None:
    admin = person(app, Role.ADMIN, "admin@coalition.example")
    issued = ok(client.post("/v1/tokens", headers=admin.headers, json={"name": "nightly", "expires_in_days": 2}), 201)
    ok(client.get("/v1/me", headers=bearer(issued["token"])))
    clock.advance(timedelta(days=2))
    expired = client.get("/v1/me", headers=bearer(issued["token"]))
    assert expired.status_code == 401 and expired.headers["content-type"] == PROBLEM_JSON


def test_a_revoked_token_is_refused_and_listed_as_revoked(app: Assay, client: TestClient) -> None:
    admin = person(app, Role.ADMIN, "admin@coalition.example")
    issued = ok(client.post("/v1/tokens", headers=admin.headers, json={"name": "ci", "scopes": ["read"]}), 201)
    ok(client.get("/v1/me", headers=bearer(issued["token"])))
    assert client.delete(f"/v1/tokens/{issued['token_id']}", headers=admin.headers).status_code == 204
    assert client.get("/v1/me", headers=bearer(issued["token"])).status_code == 401
    listed = {t["id"]: t for t in ok(client.get("/v1/tokens", headers=admin.headers))}
    assert listed[issued["token_id"]]["revoked_at"] is not None
    assert listed[admin.token_id]["revoked_at"] is None
    assert all("token_hash" not in t and "token" not in t for t in listed.values())
    assert listed[issued["token_id"]]["prefix"] == issued["token"][:12]


def test_token_requests_are_checked(app: Assay, client: TestClient) -> None:
    admin = person(app, Role.ADMIN, "admin@coalition.example")
    for body, field in (({"name": ""}, "body.name"), ({"name": "ci", "scopes": []}, "body.scopes"),
                        ({"name": "ci", "scopes": ["admin"]}, "body.scopes.0"),
                        ({"name": "ci", "expires_in_days": 400}, "body.expires_in_days")):
        refused = client.post("/v1/tokens", headers=admin.headers, json=body)
        assert refused.status_code == 422, body
        assert [e["field"] for e in refused.json()["errors"]] == [field]


def accounts_of(client: TestClient, who: Person, body: dict[str, Any]) -> Any:
    return client.post("/v1/users", headers=who.headers, json={"password": PASSWORD, **body})


def test_who_may_open_accounts(app: Assay, client: TestClient) -> None:
    admin = person(app, Role.ADMIN, "admin@coalition.example")
    market, _ = integration(app, "bazaar")
    other_market, _ = integration(app, "emporium")
    [own_seller] = ok(client.put("/v1/marketplace/sellers", headers=market.headers,
                                 json={"records": [seller_record("s-1", "bazaar")]}))["accepted"]
    [their_seller] = ok(client.put("/v1/marketplace/sellers", headers=other_market.headers,
                                   json={"records": [seller_record("s-2", "emporium")]}))["accepted"]

    created = ok(accounts_of(client, admin, {"email": "rev@coalition.example", "role": "reviewer"}), 201)
    assert created["role"] == "reviewer" and "password_hash" not in created
    ok(accounts_of(client, market, {"email": "s1@shop.example", "role": "seller", "seller_id": own_seller}), 201)
    for body in ({"email": "s2@shop.example", "role": "seller", "seller_id": their_seller},
                 {"email": "s3@shop.example", "role": "seller", "seller_id": 999_999},
                 {"email": "boss@coalition.example", "role": "admin"}):
        refused = accounts_of(client, market, body)
        assert refused.status_code == 403, body
    reviewer = person(app, Role.REVIEWER, "second@coalition.example")
    assert accounts_of(client, reviewer, {"email": "x@coalition.example", "role": "reviewer"}).status_code == 403

    taken = accounts_of(client, admin, {"email": "REV@coalition.example", "role": "reviewer"})
    assert taken.status_code == 422
    assert taken.json()["errors"] == [{"field": "email", "message": "an account for rev@coalition.example already exists"}]
    unowned = accounts_of(client, admin, {"email": "h@brand.example", "role": "holder"})
    assert unowned.json()["errors"] == [{"field": "holder_id", "message": "required for a holder account"}]


def test_enrolment_opens_the_holder_and_its_first_account_together(app: Assay, client: TestClient) -> None:
    body = {"organisation": "Quorvex Sports Ltd", "contact_email": "bp@quorvex.example", "password": PASSWORD}
    enrolled = ok(client.post("/v1/enrolments", json=body), 201)
    headers = {"Authorization": "Bearer " + ok(client.post("/v1/auth/token", json={
        "email": "bp@quorvex.example", "password": PASSWORD}), 201)["token"]}
    me = ok(client.get("/v1/me", headers=headers))
    assert me["holder_id"] == enrolled["holder_id"] and me["role"] == "holder"
    assert ok(client.get(f"/v1/holders/{enrolled['holder_id']}", headers=headers))["good_faith_signed_at"] is None
    signed = ok(client.post(f"/v1/holders/{enrolled['holder_id']}/undertaking", headers=headers))
    assert signed["good_faith_signed_at"] is not None

    again = client.post("/v1/enrolments", json={**body, "organisation": "Another Name"})
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "email"
    with app.uow() as uow:  # the holder of a refused enrolment is not kept without its account
        assert [h.name for h in uow.repo.all(RightsHolder)] == ["Quorvex Sports Ltd"]


def test_a_token_shows_when_it_was_last_used_to_the_minute(app: Assay, client: TestClient, clock: ManualClock) -> None:
    admin = person(app, Role.ADMIN, "admin@coalition.example")
    issued = ok(client.post("/v1/tokens", headers=admin.headers, json={"name": "nightly"}), 201)

    def last_used() -> Any:
        listed = {t["id"]: t for t in ok(client.get("/v1/tokens", headers=admin.headers))}
        return listed[issued["token_id"]]["last_used_at"]

    assert last_used() is None
    first_use = clock.now()
    ok(client.get("/v1/me", headers=bearer(issued["token"])))
    assert last_used() == first_use.isoformat().replace("+00:00", "Z")
    clock.advance(timedelta(seconds=30))
    ok(client.get("/v1/me", headers=bearer(issued["token"])))
    assert last_used() == first_use.isoformat().replace("+00:00", "Z")  # within the minute: not written again
    clock.advance(timedelta(seconds=45))
    ok(client.get("/v1/me", headers=bearer(issued["token"])))
    assert last_used() == clock.now().isoformat().replace("+00:00", "Z")
