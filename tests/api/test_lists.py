"""Lists: pages (limit, offset, total) and filters, over the seeded world (read only)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.api.conftest import World
from tests.api.test_routes import ok


def ids(world: World, path: str, **params: Any) -> list[int]:
    page = ok(world.client.get(path, headers=world.seed.people["admin"].headers, params={"limit": 500, **params}))
    assert page["total"] == len(page["items"])
    return [row["id"] for row in page["items"]]


@pytest.mark.parametrize("path", ["/v1/notices", "/v1/items", "/v1/listings", "/v1/sellers", "/v1/suggestions",
                                  "/v1/rights", "/v1/brands"])
def test_pages_cover_the_list_once(world: World, path: str) -> None:
    everything = ids(world, path)
    assert len(everything) >= 2
    seen: list[int] = []
    for offset in range(0, len(everything) + 2, 2):
        page = ok(world.client.get(path, headers=world.seed.people["admin"].headers,
                                   params={"limit": 2, "offset": offset}))
        assert page["total"] == len(everything) and page["limit"] == 2 and page["offset"] == offset
        assert len(page["items"]) == min(2, max(0, len(everything) - offset))
        seen += [row["id"] for row in page["items"]]
    assert seen == everything  # a stable order: no row twice, none left out


def test_notice_filters(world: World) -> None:
    every = ids(world, "/v1/notices")
    assert every == sorted(every, reverse=True)  # the newest first
    assert ids(world, "/v1/notices", lane="standard") == every
    assert ids(world, "/v1/notices", lane="expedited") == []
    assert ids(world, "/v1/notices", source="notice") == every
    assert ids(world, "/v1/notices", source="own_initiative") == []


def test_item_filters(world: World) -> None:
    a, b = world.seed.a, world.seed.b
    assert set(ids(world, "/v1/items", state="in_review")) == {a.cross_item, b.cross_item}
    assert ids(world, "/v1/items", state="contested") == [a.item]
    assert ids(world, "/v1/items", state="removed") == [b.item]
    assert ids(world, "/v1/items", listing_id=a.listings["a-1"]) == [a.item]
    assert set(ids(world, "/v1/items", seller_id=a.seller)) == {a.item, b.cross_item}
    assert ids(world, "/v1/items", seller_id=a.seller, state="in_review") == [b.cross_item]


def test_listing_filters(world: World) -> None:
    a, b = world.seed.a, world.seed.b
    assert set(ids(world, "/v1/listings", status="removed")) == {a.listings["a-1"], b.listings["b-1"]}
    assert ids(world, "/v1/listings", seller_id=a.seller) == sorted(a.listings.values())
    assert ids(world, "/v1/listings", q="a-3") == [a.listings["a-3"]]
    assert ids(world, "/v1/listings", q="REPLICA", seller_id=b.seller, status="active") \
        == sorted(b.listings[r] for r in ("b-2", "b-3", "b-4"))


def test_seller_suggestion_and_right_filters(world: World) -> None:
    a, b = world.seed.a, world.seed.b
    assert ids(world, "/v1/sellers", status="active") == sorted([a.seller, b.seller])
    assert ids(world, "/v1/sellers", status="closed") == []
    assert set(ids(world, "/v1/suggestions", status="open")) == {a.suggestion, b.suggestion}
    assert ids(world, "/v1/suggestions", brand_id=b.brand) == [b.suggestion]
    assert ids(world, "/v1/suggestions", verdict="suspect") == []
    assert ids(world, "/v1/rights", status="pending") == sorted([a.pending_right, b.pending_right])
    assert ids(world, "/v1/rights", status="verified") == sorted([a.right, b.right])
