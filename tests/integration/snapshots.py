"""Writing small marketplace snapshots (FORMATS.md) for tests, record by record."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

REFERENCE_IMAGES = Path(__file__).resolve().parents[1] / "data" / "pdq-reference"
REFERENCE_IMAGE = REFERENCE_IMAGES / "aaa-orig.jpg"


def brand(brand_id: str = "qvx", **overrides: Any) -> dict[str, Any]:
    record = {"brand_id": brand_id, "name": "Quorvex", "owner": "Quorvex Sports Ltd", "marks": ["QUORVEX", "QVX"],
              "categories": ["footwear"], "authorized_sellers": ["s-dealer"],
              "products": [{"sku": "S1", "title": "Quorvex Stride 1", "category": "footwear", "msrp": 149,
                            "currency": "EUR", "images": []}]}
    return {**record, **overrides}


def seller(seller_id: str, status: str = "active", **identity: str | None) -> dict[str, Any]:
    fields = {"legal_name": None, "email": None, "phone": None, "address": None, "tax_id": None,
              "payment_account": None, **identity}
    return {"seller_id": seller_id, "marketplace": "taobao", "store_name": f"Store {seller_id}",
            "registered_at": "2025-01-01T00:00:00Z", "status": status, "identity": fields}


def listing(listing_id: str, seller_id: str = "s-dealer", **overrides: Any) -> dict[str, Any]:
    record = {"listing_id": listing_id, "marketplace": "taobao", "seller_id": seller_id,
              "title": f"Quorvex Stride 1 #{listing_id}", "description": "", "category": "footwear",
              "price": 149.0, "currency": "EUR", "images": [], "created_at": "2026-01-01T00:00:00Z"}
    return {**record, **overrides}


def write_jsonl(path: Path, records: list[Any]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write((record if isinstance(record, str) else json.dumps(record, ensure_ascii=False)) + "\n")


def write_snapshot(root: Path, *, brands: list[Any] | None = None, sellers: list[Any] | None = None,
                   listings: list[Any] | None = None, fx: dict[str, float] | None = None,
                   images: dict[str, Path] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    write_jsonl(root / "brands.jsonl", brands if brands is not None else [brand()])
    write_jsonl(root / "sellers.jsonl", sellers if sellers is not None else [seller("s-dealer")])
    write_jsonl(root / "listings.jsonl", listings if listings is not None else [listing("L1")])
    if fx is not None:
        (root / "fx.json").write_text(json.dumps(fx))
    for relative, source in (images or {}).items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, root / relative)
    return root


def big_snapshot(root: Path, listings: int, sellers: int = 200) -> Path:
    """A text-only snapshot of many listings, some of them bad, for crash and scale tests."""
    seller_records = [seller(f"s{n}", phone=f"+1 415 555 {n:04d}") for n in range(sellers)]
    listing_records: list[Any] = []
    for n in range(listings):
        if n % 997 == 5:
            listing_records.append(listing(f"L{n}", f"s{n % sellers}", price=-1))
        else:
            listing_records.append(listing(f"L{n}", f"s{n % sellers}", price=10 + n % 90, currency="USD"))
    return write_snapshot(root, brands=[brand()], sellers=seller_records, listings=listing_records,
                          fx={"EUR": 1.08})
