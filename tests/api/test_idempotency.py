"""Idempotency keys: a write repeated with its key is answered, not done again."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.api.people import listings_on, person, verified_holder
from tests.api.test_routes import notice_body, ok

from assay.domain.access import Role
from assay.domain.notices import Notice
from assay.services import idempotency
from assay.services.app import Assay
from assay.store.tables import idempotency_keys


@pytest.fixture
def filer(app: Assay) -> tuple[dict[str, str], dict[str, Any]]:
    """A rights holder with a verified right, and a notice body naming two listings."""
    member, right_id = verified_holder(app)
    listings_on(app, "bazaar", "s-1", "L-1", "L-2")
    return member.headers, notice_body(right_id, "bazaar:L-1", "bazaar:L-2")


def notices_filed(app: Assay) -> int:
    with app.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Notice)) or 0


def test_the_same_key_and_body_replay_the_first_answer(app: Assay, client: TestClient, filer: Any) -> None:
    brand, body = filer
    headers = {**brand, "Idempotency-Key": "notice-2026-06-01-001"}
    first = client.post("/v1/notices", headers=headers, json=body)
    again = client.post("/v1/notices", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert again.headers["content-type"] == "application/json"
    assert notices_filed(app) == 1

    other = client.post("/v1/notices", headers={**brand, "Idempotency-Key": "notice-2026-06-01-002"}, json=body)
    assert other.status_code == 422  # a new key runs anew: both listings are already in an open item
    assert notices_filed(app) == 1


def test_the_same_key_with_another_body_is_refused(app: Assay, client: TestClient, filer: Any) -> None:
    brand, body = filer
    headers = {**brand, "Idempotency-Key": "k-1"}
    ok(client.post("/v1/notices", headers=headers, json=body), 201)
    changed = client.post("/v1/notices", headers=headers, json={**body, "listings": ["bazaar:L-2"]})
    assert changed.status_code == 422
    assert changed.headers["content-type"] == "application/problem+json"
    assert "different request" in changed.json()["detail"]
    assert notices_filed(app) == 1


def test_a_key_still_in_flight_answers_409(app: Assay, client: TestClient, filer: Any) -> None:
    brand, body = filer
    content = json.dumps(body).encode()
    with app.uow() as uow:
        me = ok(client.get("/v1/me", headers=brand))
        digest = hashlib.sha256(b"\n".join([b"POST", b"/v1/notices", b"", content])).hexdigest()
        held = idempotency.reserve(uow, owner=f"user:{me['id']}", key="k-busy", method="POST", path="/v1/notices",
                                   request_hash=digest)
    assert held.outcome is idempotency.Outcome.FIRST
    busy = client.post("/v1/notices", headers={**brand, "Idempotency-Key": "k-busy",
                                               "Content-Type": "application/json"}, content=content)
    assert busy.status_code == 409 and busy.headers["Retry-After"] == "1"
    assert busy.headers["content-type"] == "application/problem+json"
    assert notices_filed(app) == 0


def test_keys_belong_to_their_caller(app: Assay, client: TestClient, filer: Any) -> None:
    brand, body = filer
    admin = person(app, Role.ADMIN, "second-admin@coalition.example")
    ok(client.post("/v1/notices", headers={**brand, "Idempotency-Key": "shared"}, json=body), 201)
    theirs = client.post("/v1/tokens", headers={**admin.headers, "Idempotency-Key": "shared"}, json={"name": "ci"})
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers


def test_reads_and_keyless_writes_are_left_alone(app: Assay, client: TestClient, filer: Any) -> None:
    brand, _ = filer
    for _ in range(2):
        response = client.get("/v1/notices", headers={**brand, "Idempotency-Key": "read"})
        assert "Idempotent-Replayed" not in response.headers
    with app.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(idempotency_keys)) == 0


def test_a_key_must_be_sane(client: TestClient, filer: Any) -> None:
    brand, body = filer
    refused = client.post("/v1/notices", headers={**brand, "Idempotency-Key": "k" * 256}, json=body)
    assert refused.status_code == 422 and "Idempotency-Key" in refused.json()["detail"]


def test_a_server_error_frees_the_key_for_a_retry(app: Assay, server: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    admin = person(app, Role.ADMIN, "admin@coalition.example")
    from assay.api.routers import accounts as routes

    calls = []

    def failing_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the disk is on fire")
        return real(*args, **kwargs)

    real = routes.accounts.issue_token
    monkeypatch.setattr(routes.accounts, "issue_token", failing_once)
    with TestClient(server, raise_server_exceptions=False) as client:
        headers = {**admin.headers, "Idempotency-Key": "retry-me"}
        failed = client.post("/v1/tokens", headers=headers, json={"name": "ci"})
        assert failed.status_code == 500
        assert "disk" not in failed.text and "Traceback" not in failed.text
        assert failed.json()["request_id"] == failed.headers["X-Request-ID"]
        retried = client.post("/v1/tokens", headers=headers, json={"name": "ci"})
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert len(calls) == 2


def test_a_key_on_a_path_longer_than_the_store_keeps(client: TestClient, filer: Any) -> None:
    brand, _ = filer
    nowhere = client.post("/v1/" + "x" * 600, headers={**brand, "Idempotency-Key": "long"}, json={})
    assert nowhere.status_code == 404 and nowhere.headers["content-type"] == "application/problem+json"
    again = client.post("/v1/" + "x" * 600, headers={**brand, "Idempotency-Key": "long"}, json={})
    assert again.status_code == 404 and again.headers["Idempotent-Replayed"] == "true"
