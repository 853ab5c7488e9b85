"""JSON-safe pictures of objects, for the audit log's before and after."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any


def jsonable(value: Any) -> Any:
    """Plain JSON values only (no floats from decimals), so the audit hash is stable."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 149.0000 from PostgreSQL and 149.0 read the same
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if is_dataclass(value):
        return snapshot(value)
    return str(value)


def snapshot(obj: Any, *names: str) -> dict[str, Any]:
    """The named fields of a domain object (all of its dataclass fields if none are named)."""
    chosen = names or tuple(f.name for f in fields(obj) if f.name != "items")
    return {name: jsonable(getattr(obj, name)) for name in chosen}
