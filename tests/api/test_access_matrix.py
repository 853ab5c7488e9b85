"""Who may call what, on whose objects: every route with a path id, for every role.

For each route the matrix says, per role, whether the role acts on its own tenant's objects
(OWNER), on everyone's (ALL), on nobody's (NONE: every id answers as a missing one), or may
not use the route at all (REFUSED: 403 whatever the id). The test calls each route as each
person on their own object, their neighbour's (the other tenant of the same role) and an id
that does not exist:

- the neighbour's object answers exactly as the missing id does (same status, same body);
- a refused role gets 403, for any id;
- an owner gets its answer (2xx) or the domain's (409/422 when the state does not allow the step);
- nothing answers 5xx.

A route added to the API without a line here fails `test_every_route_is_in_the_matrix`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from httpx import Response
from tests.api.conftest import World
from tests.api.seed import Seed, Side

MISSING_ID = 2_000_000_000
STAFF = ("admin", "reviewer")
PEOPLE = ("admin", "reviewer", "holder_a", "holder_b", "integration_a", "integration_b", "seller_a", "seller_b")
PROBLEM_JSON = "application/problem+json"


class Mode(Enum):
    OWNER = "acts on its own tenant's objects"
    ALL = "acts on every object"
    NONE = "sees none: every id answers as a missing one"
    REFUSED = "may not use the route at all"


OWNER, ALL, NONE, REFUSED = Mode.OWNER, Mode.ALL, Mode.NONE, Mode.REFUSED
Body = Callable[[Side], dict[str, Any]]


@dataclass(frozen=True)
class Rule:
    kind: str  # the seeded object the path id names
    modes: dict[str, Mode]  # by role
    body: Body | None = None  # a valid body for the owner of the object on this side


def rule(kind: str, *, admin: Mode, reviewer: Mode, holder: Mode, seller: Mode, integration: Mode,
         body: Body | None = None) -> Rule:
    return Rule(kind, dict(admin=admin, reviewer=reviewer, holder=holder, seller=seller, integration=integration),
                body)


def readable(kind: str, *, holder: Mode = NONE, seller: Mode = NONE, integration: Mode = NONE) -> Rule:
    """A read route: staff read everything."""
    return rule(kind, admin=ALL, reviewer=ALL, holder=holder, seller=seller, integration=integration)


def holder_action(kind: str, body: Body | None = None) -> Rule:
    """Only a rights holder's own members act in its name."""
    return rule(kind, admin=REFUSED, reviewer=REFUSED, holder=OWNER, seller=REFUSED, integration=REFUSED, body=body)


def staff_action(kind: str, body: Body, *, admin_only: bool = False) -> Rule:
    return rule(kind, admin=ALL, reviewer=REFUSED if admin_only else ALL, holder=REFUSED, seller=REFUSED,
                integration=REFUSED, body=body)


REASON = "The listing copies the mark and sells at a tenth of the price."
MATRIX: dict[tuple[str, str], Rule] = {
    ("DELETE", "/v1/tokens/{token_id}"): rule("token", admin=OWNER, reviewer=OWNER, holder=OWNER, seller=OWNER,
                                              integration=OWNER),
    ("GET", "/v1/holders/{holder_id}"): readable("holder", holder=OWNER),
    ("POST", "/v1/holders/{holder_id}/undertaking"): holder_action("holder"),
    ("GET", "/v1/rights/{right_id}"): readable("right", holder=OWNER),
    ("POST", "/v1/rights/{right_id}/decision"): staff_action("right", lambda s: {"verified": True}, admin_only=True),
    ("GET", "/v1/brands/{brand_id}"): readable("brand", holder=OWNER),
    ("GET", "/v1/brands/{brand_id}/products"): readable("brand", holder=OWNER),
    ("POST", "/v1/brands/{brand_id}/authorized-sellers"): holder_action(
        "brand", lambda s: {"seller_ref": f"seller-{s.name}", "authorized": True}),
    ("PUT", "/v1/brands/{brand_id}/proactive-removal"): holder_action("brand", lambda s: {"enabled": True}),
    ("GET", "/v1/notices/{notice_id}"): readable("notice", holder=OWNER),
    ("POST", "/v1/notices/{notice_id}/withdraw"): holder_action("notice", lambda s: {"reason": "settled"}),
    ("GET", "/v1/items/{item_id}"): readable("item", holder=OWNER, seller=OWNER, integration=OWNER),
    ("GET", "/v1/items/{item_id}/statements"): readable("item", holder=OWNER, seller=OWNER, integration=OWNER),
    ("GET", "/v1/items/{item_id}/audit"): readable("item", holder=OWNER, seller=OWNER, integration=OWNER),
    ("POST", "/v1/items/{item_id}/decision"): staff_action("item", lambda s: {"remove": True, "reason": REASON}),
    ("POST", "/v1/items/{item_id}/counter-notice"): rule(
        "item", admin=REFUSED, reviewer=REFUSED, holder=REFUSED, seller=OWNER, integration=REFUSED,
        body=lambda s: {"statement": "Bought from the brand's own outlet; receipt attached.", "signature": "C. Wei"}),
    ("POST", "/v1/items/{item_id}/reply"): holder_action(
        "item", lambda s: {"maintain": True, "statement": "The receipt is forged; see our test purchase."}),
    ("POST", "/v1/items/{item_id}/appeal-decision"): staff_action("item", lambda s: {"uphold": True, "reason": REASON}),
    ("GET", "/v1/sellers/{seller_id}"): readable("seller", seller=OWNER, integration=OWNER),
    ("GET", "/v1/sellers/{seller_id}/strikes"): readable("seller", seller=OWNER, integration=OWNER),
    ("GET", "/v1/sellers/{seller_id}/statements"): readable("seller", seller=OWNER, integration=OWNER),
    ("GET", "/v1/listings/{listing_id}"): readable("listing", holder=ALL, seller=OWNER, integration=OWNER),
    ("GET", "/v1/suggestions/{suggestion_id}"): readable("suggestion", holder=OWNER),
    ("POST", "/v1/suggestions/{suggestion_id}/confirm"): holder_action(
        "suggestion", lambda s: {"right_ids": [s.right], "signature": "J. Doe"}),
    ("POST", "/v1/suggestions/{suggestion_id}/dismiss"): holder_action(
        "suggestion", lambda s: {"reason": "A genuine pair resold second hand."}),
    ("GET", "/v1/jobs/{job_id}"): readable("job", holder=OWNER),
}

EVERYONE = frozenset({"admin", "reviewer", "holder", "seller", "integration"})
PUBLIC = frozenset({"public"}) | EVERYONE
# Routes without a path id: who may use them at all (the rows they answer are checked in
# test_lists_hold_only_what_the_caller_may_see).
WITHOUT_ID: dict[tuple[str, str], frozenset[str]] = {
    ("POST", "/v1/auth/token"): PUBLIC,
    ("POST", "/v1/enrolments"): PUBLIC,
    ("GET", "/v1/transparency"): PUBLIC,
    ("GET", "/health/live"): PUBLIC,
    ("GET", "/health/ready"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/v1/me"): EVERYONE,
    ("POST", "/v1/tokens"): EVERYONE,
    ("GET", "/v1/tokens"): EVERYONE,
    ("POST", "/v1/users"): frozenset({"admin", "integration"}),
    ("POST", "/v1/rights"): frozenset({"holder"}),
    ("GET", "/v1/rights"): EVERYONE,
    ("POST", "/v1/brands"): frozenset({"holder"}),
    ("GET", "/v1/brands"): EVERYONE,
    ("POST", "/v1/notices"): frozenset({"holder"}),
    ("POST", "/v1/notices/bulk"): frozenset({"holder"}),
    ("POST", "/v1/notices/bulk/upload"): frozenset({"holder"}),
    ("GET", "/v1/notices"): EVERYONE,
    ("GET", "/v1/items"): EVERYONE,
    ("GET", "/v1/review/queue"): frozenset({"admin", "reviewer"}),
    ("GET", "/v1/sellers"): EVERYONE,
    ("GET", "/v1/listings"): EVERYONE,
    ("PUT", "/v1/marketplace/sellers"): frozenset({"integration"}),
    ("PUT", "/v1/marketplace/listings"): frozenset({"integration"}),
    ("GET", "/v1/marketplace/webhook"): frozenset({"integration"}),
    ("PUT", "/v1/marketplace/webhook"): frozenset({"integration"}),
    ("POST", "/v1/marketplace/webhook/rotate-secret"): frozenset({"integration"}),
    ("GET", "/v1/marketplace/webhook/deliveries"): frozenset({"integration"}),
    ("GET", "/v1/marketplace/webhook/events"): frozenset({"integration"}),
    ("POST", "/v1/marketplace/webhook/redeliver"): frozenset({"integration"}),
    ("GET", "/v1/suggestions"): EVERYONE,
}


def api_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the application answers, besides its own documentation pages."""
    try:  # recent FastAPI keeps included routers whole; this walks into them
        from fastapi.routing import iter_route_contexts
        routes: list[Any] = list(iter_route_contexts(app.routes))
    except ImportError:
        routes = list(app.routes)
    return {(method, route.path) for route in routes
            if isinstance(getattr(route, "original_route", route), APIRoute)
            for method in route.methods - {"HEAD"}}


def role_of(who: str) -> str:
    return who.split("_")[0]


def neighbour(who: str) -> str:
    """The other tenant of the same role (for staff: the other staff member)."""
    if who in STAFF:
        return STAFF[1 - STAFF.index(who)]
    role, side = who.split("_")
    return f"{role}_{'b' if side == 'a' else 'a'}"


def object_of(seed: Seed, who: str, kind: str) -> tuple[int, Side]:
    """The object of this kind that belongs to `who` (for staff, side a's), and its side."""
    side = seed.a if who in STAFF else seed.sides[who.split("_")[1]]
    if kind == "token":
        return seed.spare_tokens[who], side
    if kind == "item":
        return side.item, side
    return {"holder": side.holder, "right": side.pending_right, "brand": side.brand, "notice": side.notice,
            "suggestion": side.suggestion, "seller": side.seller, "listing": side.listings[f"{side.name}-4"],
            "job": side.job}[kind], side


def neighbours_object(seed: Seed, who: str, kind: str) -> tuple[int, Side]:
    """The neighbour's object. Items cross tenants on purpose: a rights holder's neighbour's item
    concerns the same seller; a seller's (and a marketplace's) neighbour's item has the same filer."""
    if kind == "item" and who not in STAFF:
        role, side = who.split("_")
        other = seed.sides["b" if side == "a" else "a"]
        cross = other.cross_item if role == "holder" else seed.sides[side].cross_item
        return cross, other
    return object_of(seed, neighbour(who), kind)


# -- calling and comparing ---------------------------------------------------------------------------------

def call(world: World, who: str, method: str, path: str, object_id: int, body: dict[str, Any] | None) -> Response:
    url = re.sub(r"\{[a-z_]+\}", str(object_id), path)
    headers = world.seed.people[who].headers
    return world.client.request(method, url, headers=headers, json=body)


def answer(response: Response, object_id: int) -> tuple[Any, ...]:
    """What a caller learns from an error answer, with the id it asked for taken out."""
    body = response.json()
    detail = re.sub(rf"\b{object_id}\b", "<id>", str(body.get("detail")))
    return response.status_code, response.headers["content-type"], sorted(body), body.get("title"), detail


def check_owner(response: Response, who: str, method: str, path: str) -> None:
    """A read always answers; a step may meet a state that does not allow it (409, 422)."""
    allowed = (200,) if method == "GET" else (200, 201, 204, 409, 422)
    assert response.status_code in allowed, \
        f"{who} on its own object: {method} {path} answered {response.status_code} {response.text}"
    if response.status_code >= 300:
        assert response.headers["content-type"] == PROBLEM_JSON


def targets(seed: Seed, who: str, kind: str, mode: Mode) -> list[tuple[str, int, Side]]:
    """What to call: an owner its own object and its neighbour's; any other role one object
    that exists (its answer cannot depend on whose it is)."""
    own = object_of(seed, who, kind)
    if mode is Mode.OWNER:
        return [("its own", *own), ("its neighbour's", *neighbours_object(seed, who, kind))]
    return [("an existing", *own)]


@pytest.mark.parametrize("route", list(MATRIX), ids=[f"{m} {p}" for m, p in MATRIX])
def test_each_role_reaches_only_its_own_objects(world: World, route: tuple[str, str]) -> None:
    method, path = route
    spec = MATRIX[route]
    missing: dict[str, Response] = {}  # the answer to an id that does not exist, by role
    for who in PEOPLE:
        role, mode = role_of(who), spec.modes[role_of(who)]
        if role not in missing:
            missing[role] = call(world, who, method, path, MISSING_ID, spec.body(world.seed.a) if spec.body else None)
            expected = 403 if mode is Mode.REFUSED else 404
            assert missing[role].status_code == expected, f"{who} {method} {path} on a missing id: {missing[role].text}"
        for whose, object_id, side in targets(world.seed, who, spec.kind, mode):
            response = call(world, who, method, path, object_id, spec.body(side) if spec.body else None)
            where = f"{who} ({mode.name}) {method} {path} on {whose} {spec.kind} {object_id}"
            assert response.status_code < 500, f"{where}: {response.text}"
            if mode is Mode.ALL or whose == "its own":
                check_owner(response, who, method, path)
            else:  # refused, sees none, or the neighbour's: exactly as if it did not exist
                assert answer(response, object_id) == answer(missing[role], MISSING_ID), \
                    f"{where} must answer as a missing id does: {response.status_code} {response.text}"


def test_every_route_is_in_the_matrix(world: World) -> None:
    routes = api_routes(world.client.app)  # type: ignore[arg-type]
    with_id = {r for r in routes if "{" in r[1]}
    assert with_id - set(MATRIX) == set(), "routes with a path id missing from MATRIX: add their access rules"
    assert set(MATRIX) - with_id == set(), "MATRIX names routes the API no longer has"
    without_id = routes - with_id
    assert without_id - set(WITHOUT_ID) == set(), "routes missing from WITHOUT_ID: say who may use them"
    assert set(WITHOUT_ID) - without_id == set(), "WITHOUT_ID names routes the API no longer has"


@pytest.mark.parametrize("route", list(WITHOUT_ID), ids=[f"{m} {p}" for m, p in WITHOUT_ID])
def test_roles_refused_a_route_get_403(world: World, route: tuple[str, str]) -> None:
    method, path = route
    for who in ("admin", "reviewer", "holder_a", "integration_a", "seller_a"):
        body = {} if method in ("POST", "PUT") else None  # not valid: the role check comes first
        response = world.client.request(method, path, headers=world.seed.people[who].headers, json=body)
        assert response.status_code < 500, f"{who} {method} {path}: {response.text}"
        if role_of(who) in WITHOUT_ID[route]:
            assert response.status_code != 403, f"{who} {method} {path}: {response.text}"
        else:
            assert response.status_code == 403, f"{who} {method} {path}: {response.status_code} {response.text}"


# -- lists: every row is the caller's to see -------------------------------------------------------------------

def owners(seed: Seed, who: str) -> dict[str, set[int]]:
    """The tenant ids whose rows `who` may see in lists (no entry: every row)."""
    if who in STAFF:
        return {}
    role, side_name = who.split("_")
    side = seed.sides[side_name]
    return {"holder": {"holder_id": {side.holder}}, "seller": {"seller_id": {side.seller}},
            "integration": {"marketplace_id": {side.marketplace}}}[role]


def own_rows(side: Side, path: str, role: str) -> set[int]:
    """The seeded rows of this side that a person of this role (or staff) must find in the list."""
    rows = {
        "/v1/rights": {"holder": side.right}, "/v1/brands": {"holder": side.brand},
        "/v1/notices": {"holder": side.notice}, "/v1/suggestions": {"holder": side.suggestion},
        "/v1/items": {"holder": side.item, "seller": side.item, "integration": side.item},
        "/v1/sellers": {"seller": side.seller, "integration": side.seller},
        "/v1/listings": {r: side.listings[f"{side.name}-4"] for r in ("holder", "seller", "integration")},
    }[path]
    if role in STAFF:
        return set(rows.values())
    return {rows[role]} if role in rows else set()


LISTS = ("/v1/rights", "/v1/brands", "/v1/notices", "/v1/items", "/v1/sellers", "/v1/listings", "/v1/suggestions")


@pytest.mark.parametrize("path", LISTS)
def test_lists_hold_only_what_the_caller_may_see(world: World, path: str) -> None:
    seed = world.seed
    brand_holder = {side.brand: side.holder for side in seed.sides.values()}
    market_of_listing = {listing: side.marketplace for side in seed.sides.values() for listing in side.listings.values()}
    market_of_seller = {side.seller: side.marketplace for side in seed.sides.values()}
    for who in PEOPLE:
        response = world.client.get(path, headers=seed.people[who].headers, params={"limit": 500})
        assert response.status_code == 200, f"{who} {path}: {response.text}"
        page = response.json()
        assert page["total"] == len(page["items"]), "the seeded world fits in one page"
        sides = seed.sides.values() if who in STAFF else [seed.sides[who.split("_")[1]]]
        expected = set().union(*(own_rows(side, path, role_of(who)) for side in sides))
        assert expected <= {row["id"] for row in page["items"]}, f"{who} misses its own rows in {path}"
        for row in page["items"]:
            facts = dict(row)
            facts.setdefault("holder_id", brand_holder.get(row.get("brand_id")))
            facts.setdefault("marketplace_id", market_of_listing.get(row.get("listing_id"),
                                                                     market_of_seller.get(row.get("seller_id"))))
            if path == "/v1/sellers":
                facts["seller_id"] = row["id"]
            for field, allowed in owners(seed, who).items():
                if path == "/v1/listings" and role_of(who) == "holder":
                    continue  # listings are public offers: rights holders read them all to name them
                assert facts.get(field) in allowed, f"{who} sees a row of someone else's in {path}: {row}"
