"""Every error is RFC 9457 problem details that say where and what; bad input never reaches
the store, and no answer shows the server's insides."""

from __future__ import annotations

import logging
import socket
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.api.conftest import api_settings
from tests.api.people import Person, listings_on, person, verified_holder
from tests.api.test_routes import ok

from assay.api.app import create_app
from assay.domain.access import Role
from assay.services.app import Assay

PROBLEM_JSON = "application/problem+json"


@pytest.fixture
def admin(app: Assay) -> Person:
    return person(app, Role.ADMIN, "admin@coalition.example")


@pytest.fixture
def brand(app: Assay) -> tuple[dict[str, str], int]:
    """A rights holder's member, and its verified right."""
    member, right_id = verified_holder(app)
    return member.headers, right_id


def problem_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"] == "about:blank" and body["status"] == status
    assert body["title"] and body["detail"]
    return body


def fields(response: Any) -> list[str]:
    return [e.get("field") for e in problem_of(response, 422)["errors"]]


RIGHT = {"mark": "QUORVEX", "office": "EUIPO", "registration_number": "0199", "categories": ["footwear"],
         "expires_on": "2034-06-30"}


def test_a_field_the_server_owns_is_refused(client: TestClient, brand: Any) -> None:
    headers, _ = brand
    for name, value in (("id", 7), ("status", "verified"), ("holder_id", 2), ("created_at", "2026-01-01T00:00:00Z"),
                        ("strikes", 0)):
        refused = client.post("/v1/rights", headers=headers, json={**RIGHT, name: value})
        assert fields(refused) == [f"body.{name}"]


def test_bad_json_and_wrong_types_name_the_field(client: TestClient, admin: Person, brand: Any) -> None:
    headers, right_id = brand
    bad_json = client.post("/v1/rights", headers={**headers, "Content-Type": "application/json"},
                           content=b'{"mark": "QUORVEX",')
    assert fields(bad_json)[0].startswith("body")
    not_utf8 = client.post("/v1/rights", headers={**headers, "Content-Type": "application/json"},
                           content=b'{"mark": "\xff\xfe"}')
    assert fields(not_utf8) == ["body"]
    assert fields(client.post("/v1/rights", headers=headers, json={**RIGHT, "expires_on": "soon"})) \
        == ["body.expires_on"]
    assert fields(client.post("/v1/rights", headers=headers, json={**RIGHT, "categories": "footwear"})) \
        == ["body.categories"]
    for not_a_bool in ("yes", "true", 1, 0, None):
        refused = client.post(f"/v1/rights/{right_id}/decision", headers=admin.headers, json={"verified": not_a_bool})
        assert fields(refused) == ["body.verified"], not_a_bool
    for not_an_id in ("3", 3.5, 0, -1, 2**31, 10**30):
        refused = client.post("/v1/notices", headers=headers, json={
            "right_ids": [not_an_id], "listings": [1], "explanation": "x", "good_faith": True, "accurate": True,
            "signature": "J. Doe"})
        assert fields(refused)[0] == "body.right_ids.0", not_an_id
    missing = client.post("/v1/rights", headers=headers, json={"mark": "QUORVEX"})
    assert set(fields(missing)) == {"body.office", "body.registration_number", "body.categories", "body.expires_on"}


def test_text_with_a_nul_character_is_refused_before_the_store_sees_it(client: TestClient, brand: Any) -> None:
    headers, _ = brand
    assert fields(client.post("/v1/rights", headers=headers, json={**RIGHT, "mark": "QUOR\x00VEX"})) == ["body.mark"]
    assert fields(client.post("/v1/rights", headers=headers, json={**RIGHT, "categories": ["shoes\x00"]})) \
        == ["body.categories"]
    assert fields(client.post("/v1/auth/token", json={"email": "a\x00@b.example", "password": "x"})) == ["body.email"]
    assert fields(client.get("/v1/listings", headers=headers, params={"q": "replica\x00"})) == ["query.q"]


def test_the_longest_email_still_acts(app: Assay, client: TestClient, admin: Person) -> None:
    email = "a" * 300 + "@coalition.example"
    created = ok(client.post("/v1/users", headers=admin.headers, json={
        "email": email, "password": "long enough password", "role": "admin"}), 201)
    assert created["display_name"] == email[:200]
    token = ok(client.post("/v1/auth/token", json={"email": email, "password": "long enough password"}), 201)
    ok(client.post("/v1/users", headers={"Authorization": f"Bearer {token['token']}"}, json={
        "email": "next@coalition.example", "password": "long enough password", "role": "reviewer"}), 201)


def test_query_values_are_checked(client: TestClient, admin: Person) -> None:
    for path, field in (("/v1/items?state=gone", "query.state"), ("/v1/notices?lane=fast", "query.lane"),
                        ("/v1/notices?source=rumour", "query.source"), ("/v1/sellers?status=asleep", "query.status"),
                        ("/v1/listings?status=hidden", "query.status"), ("/v1/rights?status=maybe", "query.status"),
                        ("/v1/suggestions?verdict=guilty", "query.verdict"), ("/v1/items?limit=0", "query.limit"),
                        ("/v1/items?limit=501", "query.limit"), ("/v1/items?offset=-1", "query.offset"),
                        ("/v1/items?listing_id=x", "query.listing_id"),
                        ("/v1/items?seller_id=99999999999999999999", "query.seller_id")):
        assert fields(client.get(path, headers=admin.headers)) == [field], path


def test_ids_beyond_the_store_are_invalid_not_missing(client: TestClient, admin: Person) -> None:
    assert fields(client.get("/v1/items/99999999999999999999", headers=admin.headers)) == ["path.item_id"]
    assert fields(client.get("/v1/items/0", headers=admin.headers)) == ["path.item_id"]
    assert fields(client.get("/v1/items/abc", headers=admin.headers)) == ["path.item_id"]
    problem_of(client.get("/v1/items/2147483647", headers=admin.headers), 404)


def test_domain_refusals_are_problems_too(client: TestClient, admin: Person, brand: Any) -> None:
    headers, right_id = brand
    again = client.post(f"/v1/rights/{right_id}/decision", headers=admin.headers, json={"verified": True})
    assert "already verified" in problem_of(again, 409)["detail"]
    nothing = client.post("/v1/notices", headers=headers, json={
        "right_ids": [right_id], "listings": ["nowhere:L-0"], "explanation": "Replica.", "good_faith": True,
        "accurate": True, "signature": "J. Doe"})
    assert "listing nowhere:L-0: not found" in problem_of(nothing, 422)["detail"]
    rejected = client.post(f"/v1/rights/{right_id}/decision", headers=admin.headers, json={"verified": False})
    problem_of(rejected, 409)


def test_unknown_paths_and_methods_are_problems(client: TestClient, admin: Person) -> None:
    problem_of(client.get("/v1/nothing-here", headers=admin.headers), 404)
    problem_of(client.delete("/v1/notices", headers=admin.headers), 405)


def test_an_unexpected_error_shows_no_insides(app: Assay, admin: Person, monkeypatch: pytest.MonkeyPatch) -> None:
    from assay.api.routers import accounts as routes

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("password=hunter2 at /srv/assay/secret.py line 12")

    monkeypatch.setattr(routes.accounts, "user_summary", broken)
    with TestClient(create_app(api_settings(), app), raise_server_exceptions=False) as client:
        failed = client.get("/v1/me", headers={**admin.headers, "X-Request-ID": "req-500"})
    body = problem_of(failed, 500)
    assert body["request_id"] == "req-500" and failed.headers["X-Request-ID"] == "req-500"
    assert "hunter2" not in failed.text and "secret.py" not in failed.text and "Traceback" not in failed.text


def test_the_rate_limit_answers_429_with_retry_after(app: Assay) -> None:
    admin = person(app, Role.ADMIN, "admin@coalition.example")
    limited = create_app(api_settings(rate_limit_per_token=3), app)
    with TestClient(limited) as client:
        for _ in range(3):
            ok(client.get("/v1/me", headers=admin.headers))
        refused = client.get("/v1/me", headers=admin.headers)
        body = problem_of(refused, 429)
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert "at most 3 a minute" in body["detail"]
        ok(client.get("/health/live"))  # the limit is the token's: the address still has room

    by_address = create_app(api_settings(rate_limit_per_address=3), app)
    with TestClient(by_address) as client:
        for _ in range(3):
            ok(client.get("/health/live"))
        assert problem_of(client.get("/health/live"), 429)["detail"].startswith("too many requests for this address")


REDIS = "redis://127.0.0.1:6379/0"


def redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not redis_answers(), reason="no Redis on 127.0.0.1:6379")
def test_server_processes_sharing_redis_share_the_limit(app: Assay) -> None:
    """Two servers (as behind a load balancer) count the same token together; each alone, it
    would let through three requests a minute of its own."""
    admin = person(app, Role.ADMIN, "admin@coalition.example")
    prefix = f"assay-test-{uuid.uuid4().hex}"  # concurrent test runs share the Redis
    shared = [create_app(api_settings(rate_limit_per_token=3, rate_limit_storage=REDIS, rate_limit_prefix=prefix), app)
              for _ in range(2)]
    with TestClient(shared[0]) as first, TestClient(shared[1]) as second:
        ok(first.get("/v1/me", headers=admin.headers))
        ok(second.get("/v1/me", headers=admin.headers))
        ok(first.get("/v1/me", headers=admin.headers))
        assert "at most 3 a minute" in problem_of(second.get("/v1/me", headers=admin.headers), 429)["detail"]


def test_an_unreachable_limit_store_lets_requests_through_and_says_so(app: Assay, caplog: Any) -> None:
    admin = person(app, Role.ADMIN, "admin@coalition.example")
    nowhere = api_settings(rate_limit_per_token=1, rate_limit_storage="redis://127.0.0.1:9/0")
    with TestClient(create_app(nowhere, app)) as client, caplog.at_level(logging.ERROR, "assay.api"):
        for _ in range(3):
            ok(client.get("/v1/me", headers=admin.headers))
    outages = [r for r in caplog.records if "rate limits are off" in r.getMessage()]
    assert len(outages) == 1  # once for the outage, not once a request


def test_a_bulk_notice_checks_its_fields_like_a_notice(app: Assay, client: TestClient, brand: Any) -> None:
    headers, right_id = brand
    listings_on(app, "bazaar", "s-1", "L-1")
    form = {"right_ids": str(right_id), "explanation": "Replicas of the Quorvex Stride 1.", "signature": "J. Doe",
            "good_faith": "true", "accurate": "true"}
    csv = {"file": ("notice.csv", b"listing\nbazaar:L-1\n", "text/csv")}
    too_big = client.post("/v1/notices/bulk/upload", headers=headers, files=csv,
                          data={**form, "right_ids": "99999999999999999999"})
    assert fields(too_big) == ["right_ids"]
    nul = client.post("/v1/notices/bulk/upload", headers=headers, files=csv, data={**form, "signature": "J.\x00Doe"})
    assert fields(nul) == ["body.signature"]
    rows = {"right_ids": [right_id], "explanation": "Replicas.", "signature": "J. Doe", "good_faith": True,
            "accurate": True, "rows": [{"listing": "bazaar:L-1"}]}
    assert fields(client.post("/v1/notices/bulk", headers=headers, json={**rows, "good_faith": "true"})) \
        == ["body.good_faith"]
    assert fields(client.post("/v1/notices/bulk", headers=headers, json={**rows, "right_ids": [2**31]})) \
        == ["body.right_ids.0"]
    filed = ok(client.post("/v1/notices/bulk/upload", headers=headers, files=csv, data=form), 201)
    assert filed["result"]["filed"] == 1 and filed["result"]["rejected"] == []
