"""A case through the API as the people in it see it: a brand enrols and proves its mark,
a marketplace hands over its seller, the brand files, a reviewer removes, the seller
answers, the brand maintains, a reviewer decides the appeal. And the expedited lane, a
marketplace's batch of records, metrics, health and request ids."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.api.conftest import api_settings
from tests.api.people import PASSWORD, Person, integration, listing_record, person, seller_record

from assay.api.app import create_app
from assay.domain.access import Role
from assay.services.app import Assay
from assay.store.database import make_engine
from assay.store.tables import audit_events

REASON = "The title says replica and the price is a tenth of the brand's."


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json() if response.content else None


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    token = ok(client.post("/v1/auth/token", json={"email": email, "password": password}), 201)["token"]
    return {"Authorization": f"Bearer {token}"}


def enrol_brand(client: TestClient, admin: Person, name: str = "Quorvex Sports Ltd") -> tuple[dict[str, str], int]:
    """A brand enrols, signs in, claims its mark, the coalition verifies it: headers and the right's id."""
    email = f"bp@{name.split()[0].lower()}.example"
    ok(client.post("/v1/enrolments", json={"organisation": name, "contact_email": email, "password": PASSWORD,
                                           "sign_good_faith": True}), 201)
    brand = sign_in(client, email)
    right = ok(client.post("/v1/rights", headers=brand, json={
        "mark": "QUORVEX", "office": "EUIPO", "registration_number": f"0180{len(name)}", "classes": ["25"],
        "categories": ["footwear"], "expires_on": "2034-06-30"}), 201)
    assert right["status"] == "pending"
    verified = ok(client.post(f"/v1/rights/{right['id']}/decision", headers=admin.headers, json={"verified": True}))
    assert verified["status"] == "verified"
    return brand, right["id"]


def market_with_seller(app: Assay, client: TestClient, code: str = "bazaar") -> tuple[Person, dict[str, str], int]:
    """A marketplace hands over a seller with one listing and opens an account for it."""
    market, _ = integration(app, code)
    [seller_id] = ok(client.put("/v1/marketplace/sellers", headers=market.headers,
                                json={"records": [seller_record("s-lux", code)]}))["accepted"]
    [listing_id] = ok(client.put("/v1/marketplace/listings", headers=market.headers,
                                 json={"records": [listing_record("L-1", "s-lux", code)]}))["accepted"]
    ok(client.post("/v1/users", headers=market.headers, json={
        "email": "owner@lux.example", "password": PASSWORD, "role": "seller", "seller_id": seller_id}), 201)
    return market, sign_in(client, "owner@lux.example"), listing_id


def notice_body(right_id: int, *listings: str | int) -> dict[str, Any]:
    return {"right_ids": [right_id], "listings": list(listings), "infringement_type": "counterfeit",
            "explanation": "Replica of the Quorvex Stride 1.", "evidence": ["test purchase 42"],
            "good_faith": True, "accurate": True, "signature": "J. Doe"}


def test_a_case_from_enrolment_to_reinstatement_on_appeal(app: Assay, client: TestClient) -> None:
    admin = person(app, Role.ADMIN, "admin@coalition.example")
    reviewer = person(app, Role.REVIEWER, "reviewer@coalition.example")
    _, seller, listing_id = market_with_seller(app, client)
    brand, right_id = enrol_brand(client, admin)
    ok(client.post("/v1/brands", headers=brand, json={
        "brand_ref": "quorvex", "name": "Quorvex", "marks": ["QUORVEX"], "categories": ["footwear"],
        "products": [{"sku": "QS1", "title": "Stride 1", "category": "footwear", "msrp": "189.00", "currency": "USD"}]}),
       201)

    filed = ok(client.post("/v1/notices", headers=brand, json=notice_body(right_id, "bazaar:L-1")), 201)
    assert filed["lane"] == "standard" and filed["removed"] == []
    [item_id] = filed["queued"]
    assert [i["id"] for i in ok(client.get("/v1/review/queue", headers=reviewer.headers))] == [item_id]
    assert ok(client.get(f"/v1/listings/{listing_id}", headers=seller))["status"] == "active"

    decided = ok(client.post(f"/v1/items/{item_id}/decision", headers=reviewer.headers,
                             json={"remove": True, "reason": REASON}))
    assert decided == {"item_id": item_id, "state": "removed"}
    assert ok(client.get(f"/v1/listings/{listing_id}", headers=seller))["status"] == "removed"
    item = ok(client.get(f"/v1/items/{item_id}", headers=seller))
    assert item["state"] == "removed" and item["counter_notice_until"] is not None
    [statement] = ok(client.get(f"/v1/items/{item_id}/statements", headers=seller))
    assert statement["measure"] == "listing_removed" and "counter-notice" in statement["redress"]
    assert "QUORVEX" in statement["legal_ground"] and REASON in statement["text"]
    [strike] = ok(client.get(f"/v1/sellers/{item['seller_id']}/strikes", headers=seller))
    assert strike["standing"] is True

    contested = ok(client.post(f"/v1/items/{item_id}/counter-notice", headers=seller, json={
        "statement": "Bought from an authorised dealer; the receipt is attached.", "signature": "Chen Wei"}))
    assert contested["state"] == "contested"
    maintained = ok(client.post(f"/v1/items/{item_id}/reply", headers=brand, json={
        "maintain": True, "statement": "The receipt names a dealer we never authorised."}))
    assert maintained["state"] == "in_appeal"
    assert [i["id"] for i in ok(client.get("/v1/review/queue", headers=reviewer.headers))] == [item_id]
    reversed_ = ok(client.post(f"/v1/items/{item_id}/appeal-decision", headers=reviewer.headers,
                               json={"uphold": False, "reason": "The dealer's invoice checks out."}))
    assert reversed_["state"] == "reinstated"

    assert ok(client.get(f"/v1/listings/{listing_id}", headers=seller))["status"] == "reinstated"
    [strike] = ok(client.get(f"/v1/sellers/{item['seller_id']}/strikes", headers=seller))
    assert strike["standing"] is False and strike["revoked_at"] is not None
    measures = [s["measure"] for s in ok(client.get(f"/v1/sellers/{item['seller_id']}/statements", headers=seller))]
    assert measures[0] == "listing_removed" and "listing_reinstated" in measures
    trail = [e["action"] for e in ok(client.get(f"/v1/items/{item_id}/audit", headers=brand))]
    assert trail == ["notice.filed", "item.filed", "item.queue_for_review", "item.remove", "item.counter_notice",
                     "item.maintain", "item.reverse"]


def test_a_trusted_filer_takes_a_listing_down_at_once(app: Assay, client: TestClient) -> None:
    admin = person(app, Role.ADMIN, "admin@coalition.example")
    market, seller, listing_id = market_with_seller(app, client)
    brand, right_id = enrol_brand(client, admin)
    earn_a_good_record(app, client, market, brand, right_id)

    filed = ok(client.post("/v1/notices", headers=brand, json=notice_body(right_id, listing_id)), 201)
    assert filed["lane"] == "expedited"
    assert filed["removed"] == filed["item_ids"] and filed["queued"] == []
    assert ok(client.get(f"/v1/listings/{listing_id}", headers=seller))["status"] == "removed"
    [statement] = ok(client.get(f"/v1/items/{filed['item_ids'][0]}/statements", headers=seller))
    assert statement["automated_decision"] == "fully" and statement["source"] == "trusted_notifier"

    metrics = client.get("/metrics").text
    assert 'assay_notices_received_total{source="notice"} 2.0' in metrics
    assert "assay_notice_items_received_total 11.0" in metrics
    assert 'assay_takedowns_total{lane="standard",outcome="queued"} 10.0' in metrics
    assert 'assay_takedowns_total{lane="standard",outcome="removed"} 10.0' in metrics
    assert 'assay_takedowns_total{lane="expedited",outcome="removed"} 1.0' in metrics
    assert 'assay_time_to_action_seconds_count{lane="expedited"} 1.0' in metrics


def earn_a_good_record(app: Assay, client: TestClient, market: Person, brand: dict[str, str], right_id: int) -> None:
    """Ten listings named through the API, each removed by a reviewer: the record the expedited lane asks for."""
    sellers = [seller_record(f"past-{n}", "bazaar") for n in range(10)]  # three strikes would close one
    ok(client.put("/v1/marketplace/sellers", headers=market.headers, json={"records": sellers}))
    records = [listing_record(f"P-{n}", f"past-{n}", "bazaar") for n in range(10)]
    past = ok(client.put("/v1/marketplace/listings", headers=market.headers, json={"records": records}))["accepted"]
    filed = ok(client.post("/v1/notices", headers=brand, json=notice_body(right_id, *past)), 201)
    reviewer = person(app, Role.REVIEWER, "reviewer@coalition.example")
    for item_id in filed["queued"]:
        ok(client.post(f"/v1/items/{item_id}/decision", headers=reviewer.headers,
                       json={"remove": True, "reason": REASON}))


def test_a_marketplace_batch_keeps_the_good_records_and_names_each_bad_one(app: Assay, client: TestClient) -> None:
    market, market_id = integration(app, "bazaar")
    integration(app, "emporium")
    sellers = [seller_record("s-1", "bazaar"), seller_record("s-2", "bazaar", store_name=""),
               seller_record("s-3", "emporium"), {"seller_id": "s-4"}, seller_record("s-1", "bazaar"),
               seller_record("s-5", "bazaar", store_name="S" * 301), seller_record("s-6\x00", "bazaar"),
               seller_record("s-7", "bazaar")]
    answer = ok(client.put("/v1/marketplace/sellers", headers=market.headers, json={"records": sellers}))
    assert len(answer["accepted"]) == 2
    rejected = {r["index"]: r["reason"] for r in answer["rejected"]}
    assert sorted(rejected) == [1, 2, 3, 4, 5, 6]
    assert "store_name" in rejected[1]
    assert "'emporium' is not yours" in rejected[2]
    assert "identity" in rejected[3]
    assert "duplicate id 's-1'" in rejected[4]
    assert rejected[5] == "store_name: at most 300 characters, not 301"
    assert rejected[6] == "text may not contain NUL characters"

    listings = [listing_record("L-1", "s-1", "bazaar"), listing_record("L-2", "s-1", "bazaar", price=-3),
                listing_record("L-3", "s-9", "bazaar"), listing_record("L-4", "s-1", "bazaar", currency="dollars"),
                listing_record("L-5", "s-1", "bazaar")]
    answer = ok(client.put("/v1/marketplace/listings", headers=market.headers, json={"records": listings}))
    rejected = {r["index"]: r["reason"] for r in answer["rejected"]}
    assert sorted(rejected) == [1, 2, 3]
    assert "price" in rejected[1] and "s-9" in rejected[2] and "currency" in rejected[3]
    kept = ok(client.get("/v1/listings", headers=market.headers))
    assert [row["listing_ref"] for row in kept["items"]] == ["L-1", "L-5"]
    assert {row["id"] for row in kept["items"]} == set(answer["accepted"])
    assert {row["marketplace_id"] for row in kept["items"]} == {market_id}


def test_the_request_id_comes_back_and_is_in_the_audit_log(app: Assay, client: TestClient) -> None:
    admin = person(app, Role.ADMIN, "admin@coalition.example")
    response = client.post("/v1/enrolments", headers={"X-Request-ID": "req-7f3a"}, json={
        "organisation": "Tessaline SA", "contact_email": "legal@tessaline.example", "password": PASSWORD})
    assert response.status_code == 201 and response.headers["X-Request-ID"] == "req-7f3a"
    with app.uow() as uow:
        recorded = uow.session.execute(select(audit_events.c.action, audit_events.c.request_id)).all()
    assert {action for action, rid in recorded if rid == "req-7f3a"} == {"holder.enrolled", "user.created"}

    generated = client.get("/v1/me", headers=admin.headers).headers["X-Request-ID"]
    assert len(generated) == 32 and generated != "req-7f3a"
    refused = client.get("/v1/me", headers={"X-Request-ID": "x" * 101, **admin.headers})
    assert refused.headers["X-Request-ID"] != "x" * 101  # an id that is not sane is replaced


def test_health(client: TestClient) -> None:
    assert ok(client.get("/health/live")) == {"status": "ok"}
    assert ok(client.get("/health/ready")) == {"status": "ok"}


def test_not_ready_when_the_schema_is_behind(tmp_path: Any) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with TestClient(create_app(api_settings(), Assay(engine))) as client:
        response = client.get("/health/ready")
        live = client.get("/health/live")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "assay db upgrade" in response.json()["detail"]
    assert live.status_code == 200


def test_not_ready_when_the_database_is_unreachable_and_no_address_is_told() -> None:
    engine = make_engine("postgresql+psycopg://watcher:s3cret@127.0.0.1:9/nowhere?connect_timeout=2")
    with TestClient(create_app(api_settings(), Assay(engine))) as client:
        response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["detail"] == "not ready: the database cannot be reached or read"
    assert "s3cret" not in response.text and "watcher" not in response.text and "127.0.0.1" not in response.text


def test_the_queue_lists_the_earliest_deadline_first(app: Assay, client: TestClient, clock: Any) -> None:
    admin = person(app, Role.ADMIN, "admin@coalition.example")
    market, _, first_listing = market_with_seller(app, client)
    brand, right_id = enrol_brand(client, admin)
    first = ok(client.post("/v1/notices", headers=brand, json=notice_body(right_id, first_listing)), 201)
    clock.advance(timedelta(hours=3))
    [second_listing] = ok(client.put("/v1/marketplace/listings", headers=market.headers,
                                     json={"records": [listing_record("L-2", "s-lux", "bazaar")]}))["accepted"]
    second = ok(client.post("/v1/notices", headers=brand, json=notice_body(right_id, second_listing)), 201)
    queue = ok(client.get("/v1/review/queue", headers=admin.headers, params={"limit": 1}))
    assert [i["id"] for i in queue] == first["queued"]
    queue = ok(client.get("/v1/review/queue", headers=admin.headers))
    assert [i["id"] for i in queue] == first["queued"] + second["queued"]


def test_a_marketplace_rotates_its_webhook_secret_with_an_overlap(app: Assay, clock: Any) -> None:
    market, _ = integration(app, "bazaar")
    with TestClient(create_app(api_settings(allow_private_webhooks=True), app)) as client:
        first = ok(client.put("/v1/marketplace/webhook", headers=market.headers,
                              json={"url": "http://127.0.0.1:9/hooks"}))
        assert first["secret"].startswith("whsec_") and first["previous_secret_until"] is None
        rotated = ok(client.post("/v1/marketplace/webhook/rotate-secret", headers=market.headers))
        assert rotated["secret"] not in (None, first["secret"])
        until = (clock.now() + timedelta(hours=24)).isoformat().replace("+00:00", "Z")
        assert rotated["previous_secret_until"] == until
        shown = ok(client.get("/v1/marketplace/webhook", headers=market.headers))
        assert shown["secret"] is None and shown["previous_secret_until"] == until
        at_once = ok(client.post("/v1/marketplace/webhook/rotate-secret", headers=market.headers,
                                 json={"overlap_hours": 0}))
        assert at_once["previous_secret_until"] is None
        for body, field in (({"overlap_hours": 169}, "body.overlap_hours"), ({"secret": "mine"}, "body.secret")):
            refused = client.post("/v1/marketplace/webhook/rotate-secret", headers=market.headers, json=body)
            assert refused.status_code == 422, refused.text
            assert field in refused.text
