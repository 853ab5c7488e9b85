"""The feed formats of FORMATS.md (version 1): one record in, a clean record or the reason out.

Pure: the reading of files lives in the services; this module only judges records,
so every rule has one place and one test."""

from __future__ import annotations

import math
import posixpath
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from assay.domain.currencies import ISO_4217
from assay.domain.identity import TraderIdentity
from assay.domain.time import as_utc


class RecordError(ValueError):
    """A record breaks the format; the message says which field and how."""


@dataclass(frozen=True)
class ProductRecord:
    sku: str
    title: str
    category: str
    msrp: Decimal
    currency: str
    images: tuple[str, ...]


@dataclass(frozen=True)
class BrandRecord:
    brand_id: str
    name: str
    owner: str
    marks: tuple[str, ...]
    categories: tuple[str, ...]
    products: tuple[ProductRecord, ...]
    authorized_sellers: tuple[str, ...]


@dataclass(frozen=True)
class SellerRecord:
    seller_id: str
    marketplace: str
    store_name: str
    registered_at: datetime
    banned: bool
    identity: TraderIdentity


class ListingRecord(NamedTuple):  # a tuple: a snapshot has millions, made and sent between processes
    listing_id: str
    marketplace: str
    seller_id: str
    title: str
    description: str
    category: str
    price: Decimal
    currency: str
    images: tuple[str, ...]
    created_at: datetime


def _object(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise RecordError(f"expected a JSON object, got {type(raw).__name__}")
    return raw


def _string(record: dict[str, Any], name: str, *, required: bool = True, where: str = "") -> str:
    value = record.get(name)
    if type(value) is str and value:  # the common case, first: a snapshot has millions of these
        return value
    if value is None or value == "":
        if required:
            raise RecordError(f"{where}{name}: required")
        return ""
    if not isinstance(value, str):
        raise RecordError(f"{where}{name}: expected a string, got {type(value).__name__}")
    return value


def _strings(record: dict[str, Any], name: str, *, where: str = "", non_empty: bool = False) -> tuple[str, ...]:
    value = record.get(name)
    if type(value) is list and not value and not non_empty:
        return ()
    if value is None:
        raise RecordError(f"{where}{name}: required")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RecordError(f"{where}{name}: expected a list of strings")
    if non_empty and not value:
        raise RecordError(f"{where}{name}: must not be empty")
    return tuple(value)


def _amount(record: dict[str, Any], name: str, *, where: str = "") -> Decimal:
    value = record.get(name)
    if type(value) is int and value > 0:  # the common cases first (bool is no int here)
        return Decimal(value)
    if type(value) is float and 0 < value < math.inf:
        return Decimal(str(value))
    if value is None:
        raise RecordError(f"{where}{name}: required")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RecordError(f"{where}{name}: expected a number, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise RecordError(f"{where}{name}: must be a finite number")
    if value <= 0:
        raise RecordError(f"{where}{name}: must be greater than 0, got {value}")
    return Decimal(str(value))


def _currency(record: dict[str, Any], name: str, fx: dict[str, float] | None, *, where: str = "") -> str:
    code = _string(record, name, where=where)
    if code not in ISO_4217:
        raise RecordError(f"{where}{name}: {code!r} is not an ISO 4217 currency code")
    if fx is not None and code != "USD" and code not in fx:
        raise RecordError(f"{where}{name}: {code} has no rate in fx.json")
    return code


def _moment(record: dict[str, Any], name: str) -> datetime:
    text = _string(record, name)
    try:
        return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise RecordError(f"{name}: {text!r} is not an ISO 8601 date-time") from None


def image_path(path: str, *, where: str) -> str:
    """A snapshot-relative path with `/`, that cannot leave the snapshot directory."""
    normal = posixpath.normpath(path)
    if path.startswith("/") or "\\" in path or ":" in path.split("/")[0] or normal.startswith("..") or normal == ".":
        raise RecordError(f"{where}: {path!r} is not a path inside the snapshot")
    return normal


def _images(record: dict[str, Any], where: str = "") -> tuple[str, ...]:
    paths = _strings(record, "images", where=where)
    if not paths:  # text-only listings are the common case
        return ()
    return tuple(image_path(p, where=f"{where}images[{i}]") for i, p in enumerate(paths))


def brand(raw: Any, fx: dict[str, float] | None) -> BrandRecord:
    record = _object(raw)
    products = record.get("products")
    if not isinstance(products, list):
        raise RecordError("products: expected a list of objects")
    parsed = []
    for index, item in enumerate(products):
        where = f"products[{index}]."
        if not isinstance(item, dict):
            raise RecordError(f"products[{index}]: expected an object")
        parsed.append(ProductRecord(
            sku=_string(item, "sku", where=where), title=_string(item, "title", where=where),
            category=_string(item, "category", where=where), msrp=_amount(item, "msrp", where=where),
            currency=_currency(item, "currency", fx, where=where), images=_images(item, where),
        ))
    return BrandRecord(
        brand_id=_string(record, "brand_id"), name=_string(record, "name"), owner=_string(record, "owner"),
        marks=_strings(record, "marks", non_empty=True), categories=_strings(record, "categories"),
        products=tuple(parsed), authorized_sellers=_strings(record, "authorized_sellers"),
    )


IDENTITY_FIELDS = ("legal_name", "email", "phone", "address", "tax_id", "payment_account")
SELLER_STATUSES = {"active": False, "banned": True}


def seller(raw: Any) -> SellerRecord:
    record = _object(raw)
    identity = record.get("identity")
    if not isinstance(identity, dict):
        raise RecordError("identity: expected an object")
    values = {}
    for name in IDENTITY_FIELDS:
        value = identity.get(name)
        if value is not None and not isinstance(value, str):
            raise RecordError(f"identity.{name}: expected a string or null")
        values[name] = value
    status = _string(record, "status")
    if status not in SELLER_STATUSES:
        raise RecordError(f"status: {status!r} is neither 'active' nor 'banned'")
    return SellerRecord(
        seller_id=_string(record, "seller_id"), marketplace=_string(record, "marketplace"),
        store_name=_string(record, "store_name"), registered_at=_moment(record, "registered_at"),
        banned=SELLER_STATUSES[status], identity=TraderIdentity(**values),
    )


def listing(raw: Any, fx: dict[str, float] | None) -> ListingRecord:
    record = _object(raw)
    return ListingRecord(
        listing_id=_string(record, "listing_id"), marketplace=_string(record, "marketplace"),
        seller_id=_string(record, "seller_id"), title=_string(record, "title"),
        description=_string(record, "description", required=False), category=_string(record, "category"),
        price=_amount(record, "price"), currency=_currency(record, "currency", fx), images=_images(record),
        created_at=_moment(record, "created_at"),
    )


def exchange_rates(raw: Any) -> dict[str, float]:
    """fx.json: US dollars per one unit of each currency."""
    if not isinstance(raw, dict):
        raise RecordError("fx.json: expected an object of currency codes to rates")
    rates = {}
    for code, rate in raw.items():
        if code not in ISO_4217:
            raise RecordError(f"fx.json: {code!r} is not an ISO 4217 currency code")
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) or rate <= 0:
            raise RecordError(f"fx.json: the rate for {code} must be a number greater than 0")
        rates[code] = float(rate)
    return rates
