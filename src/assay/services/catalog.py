"""Brands, their official catalog and their authorized sellers."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from assay.domain.errors import NotPermitted, ValidationFailed
from assay.domain.model import Brand, Product, RightsHolder
from assay.services.snapshots import snapshot
from assay.store.uow import UnitOfWork


def _products(raw: list[dict[str, Any]]) -> tuple[list[Product], list[str]]:
    products, problems = [], []
    for index, entry in enumerate(raw):
        where = f"products[{index}]"
        missing = [k for k in ("sku", "title", "category", "msrp", "currency") if entry.get(k) in (None, "")]
        if missing:
            problems.append(f"{where}: missing {', '.join(missing)}")
            continue
        try:
            msrp = Decimal(str(entry["msrp"]))
        except InvalidOperation:
            problems.append(f"{where}.msrp: {entry['msrp']!r} is not a number")
            continue
        if msrp <= 0:
            problems.append(f"{where}.msrp: must be greater than 0")
            continue
        currency = str(entry["currency"]).upper()
        if len(currency) != 3 or not currency.isalpha():
            problems.append(f"{where}.currency: {entry['currency']!r} is not an ISO 4217 code")
            continue
        products.append(Product(sku=str(entry["sku"]), title=str(entry["title"]), category=str(entry["category"]),
                                msrp=msrp, currency=currency, images=[str(i) for i in entry.get("images") or []]))
    return products, problems


def register_brand(
    uow: UnitOfWork, *, holder_id: int, brand_ref: str, name: str, marks: list[str], categories: list[str],
    products: list[dict[str, Any]] | None = None, authorized_sellers: list[str] | None = None,
) -> int:
    """Create or update a brand with its catalog; the products listed replace the catalog."""
    uow.repo.get(RightsHolder, holder_id)
    parsed, problems = _products(products or [])
    if not brand_ref.strip():
        problems.insert(0, "brand_id: required")
    if not [m for m in marks if m.strip()]:
        problems.append("marks: name at least one word mark")
    if problems:
        raise ValidationFailed(problems)
    brand = uow.repo.first(Brand, brand_ref=brand_ref)
    before = None
    if brand is None:
        brand = Brand(brand_ref=brand_ref, holder_id=holder_id, name=name, marks=[], categories=[])
        uow.repo.add(brand)
    elif brand.holder_id != holder_id:
        raise NotPermitted(f"brand {brand_ref} belongs to another rights holder")
    else:
        before = snapshot(brand)
    brand.name, brand.marks, brand.categories = name, [m.strip() for m in marks if m.strip()], list(categories)
    brand.authorized_sellers = sorted(set(authorized_sellers or []))
    uow.flush()
    for old in uow.repo.all(Product, brand_id=brand.id):
        uow.session.delete(old)
    uow.flush()
    for product in parsed:
        product.brand_id = brand.id
        uow.repo.add(product)
    uow.record("brand.registered" if before is None else "brand.updated", "brand", brand.id,
               before=before, after={**snapshot(brand), "products": len(parsed)})
    uow.commit()
    assert brand.id is not None
    return brand.id


def set_authorized_seller(uow: UnitOfWork, *, brand_id: int, seller_ref: str, authorized: bool) -> None:
    brand = uow.repo.get(Brand, brand_id)
    before = list(brand.authorized_sellers)
    if authorized and seller_ref not in brand.authorized_sellers:
        brand.authorized_sellers.append(seller_ref)
    elif not authorized and seller_ref in brand.authorized_sellers:
        brand.authorized_sellers.remove(seller_ref)
    if before != brand.authorized_sellers:
        uow.record("brand.authorized_sellers", "brand", brand_id, before={"authorized_sellers": before},
                   after={"authorized_sellers": list(brand.authorized_sellers)})
    uow.commit()


def set_proactive_removal(uow: UnitOfWork, *, brand_id: int, holder_id: int, enabled: bool) -> None:
    """The brand's standing instruction: let own-initiative detection file for it (or no longer)."""
    brand = uow.repo.get(Brand, brand_id)
    if brand.holder_id != holder_id:
        raise NotPermitted(f"brand {brand_id} belongs to another rights holder")
    if brand.proactive_removal != enabled:
        uow.record("brand.proactive_removal", "brand", brand_id, before={"proactive_removal": brand.proactive_removal},
                   after={"proactive_removal": enabled})
        brand.proactive_removal = enabled
    uow.commit()
