"""Accounts: users with Argon2-hashed passwords, and API tokens for machine clients.

A token is a long random secret shown once; the store keeps only its HMAC under the
server's secret key, so a copy of the database does not yield working tokens."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, insert, select, update

from assay.domain.access import Principal, Role, Scope
from assay.domain.errors import NotFound, ValidationFailed
from assay.domain.model import Marketplace, RightsHolder, Seller
from assay.store.tables import api_tokens, users
from assay.store.uow import UnitOfWork

TOKEN_PREFIX = "assay_"
MIN_PASSWORD = 10
MAX_TOKEN_DAYS = 366
LAST_USED_GRANULARITY = timedelta(minutes=1)  # how finely a token's last use is kept
DISPLAY_NAME = users.c.display_name.type.length or 200  # an email stands in for a missing name, cut to fit
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verifying against this when the email is unknown keeps both answers equally slow."""
    return _hasher.hash("not a password of anyone's")


@dataclass(frozen=True)
class IssuedToken:
    id: int
    secret: str
    prefix: str
    expires_at: datetime


def create_user(
    uow: UnitOfWork, *, email: str, password: str, role: Role, display_name: str = "",
    holder_id: int | None = None, marketplace_id: int | None = None, seller_id: int | None = None,
    commit: bool = True,
) -> int:
    email = email.strip().lower()
    problems = _account_problems(uow, email, password, role, holder_id, marketplace_id, seller_id)
    if problems:
        raise ValidationFailed(problems)
    user_id = uow.session.execute(insert(users).values(
        email=email, display_name=(display_name.strip() or email)[:DISPLAY_NAME], password_hash=_hasher.hash(password),
        role=role.value, holder_id=holder_id, marketplace_id=marketplace_id, seller_id=seller_id,
        created_at=uow.now,
    ).returning(users.c.id)).scalar_one()
    uow.record("user.created", "user", user_id, after={"email": email, "role": role.value, "holder_id": holder_id,
                                                      "marketplace_id": marketplace_id, "seller_id": seller_id})
    if commit:
        uow.commit()
    return user_id


def _account_problems(uow: UnitOfWork, email: str, password: str, role: Role, holder_id: int | None,
                      marketplace_id: int | None, seller_id: int | None) -> list[str]:
    problems = []
    if "@" not in email or len(email) > 320:
        problems.append(f"email: {email!r} is not an email address")
    elif uow.session.scalar(select(func.count()).where(users.c.email == email)):
        problems.append(f"email: an account for {email} already exists")
    if len(password) < MIN_PASSWORD:
        problems.append(f"password: use at least {MIN_PASSWORD} characters")
    needs = {Role.HOLDER: ("holder_id", holder_id, RightsHolder), Role.INTEGRATION:
             ("marketplace_id", marketplace_id, Marketplace), Role.SELLER: ("seller_id", seller_id, Seller)}
    for other_role, (name, value, cls) in needs.items():
        if role is other_role:
            if value is None:
                problems.append(f"{name}: required for a {role.value} account")
            elif uow.session.get(cls, value) is None:
                problems.append(f"{name}: {value} not found")
        elif value is not None:
            problems.append(f"{name}: not allowed for a {role.value} account")
    return problems


def authenticate(uow: UnitOfWork, email: str, password: str) -> int | None:
    """The user id for this email and password, or None (for an unknown email as for a wrong password)."""
    row = uow.session.execute(select(users.c.id, users.c.password_hash, users.c.disabled_at)
                              .where(users.c.email == email.strip().lower())).first()
    try:
        _hasher.verify(row.password_hash if row else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled_at is not None:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        uow.session.execute(update(users).where(users.c.id == row.id).values(password_hash=_hasher.hash(password)))
        uow.commit()
    return row.id


def token_digest(secret: str, key: bytes) -> str:
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def issue_token(uow: UnitOfWork, user_id: int, *, key: bytes, name: str, scopes: list[Scope],
                lifetime: timedelta) -> IssuedToken:
    problems = []
    if not name.strip():
        problems.append("name: say what the token is for")
    if not scopes:
        problems.append("scopes: grant at least one of read, write")
    if lifetime <= timedelta(0) or lifetime > timedelta(days=MAX_TOKEN_DAYS):
        problems.append(f"expires_in_days: between 1 and {MAX_TOKEN_DAYS}")
    if problems:
        raise ValidationFailed(problems)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    prefix = secret[: len(TOKEN_PREFIX) + 6]
    expires_at = uow.now + lifetime
    token_id = uow.session.execute(insert(api_tokens).values(
        user_id=user_id, name=name.strip(), prefix=prefix, token_hash=token_digest(secret, key),
        scopes=sorted(s.value for s in scopes), created_at=uow.now, expires_at=expires_at,
    ).returning(api_tokens.c.id)).scalar_one()
    uow.record("token.issued", "api_token", token_id, after={"user_id": user_id, "name": name.strip(),
                                                            "scopes": sorted(s.value for s in scopes),
                                                            "expires_at": expires_at.isoformat()})
    uow.commit()
    return IssuedToken(token_id, secret, prefix, expires_at)


def principal_for_token(uow: UnitOfWork, secret: str, *, key: bytes) -> Principal | None:
    """The principal a bearer token stands for, if it is known, unexpired, unrevoked and its user enabled."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    row = uow.session.execute(
        select(api_tokens.c.id.label("token_id"), api_tokens.c.scopes, api_tokens.c.expires_at,
               api_tokens.c.revoked_at, api_tokens.c.last_used_at, users.c.id.label("user_id"), users.c.email,
               users.c.role, users.c.holder_id,
               users.c.marketplace_id, users.c.seller_id, users.c.disabled_at)
        .join(users, users.c.id == api_tokens.c.user_id)
        .where(api_tokens.c.token_hash == token_digest(secret, key))
    ).first()
    if row is None or row.revoked_at is not None or row.disabled_at is not None or row.expires_at <= uow.now:
        return None
    if row.last_used_at is None or uow.now - row.last_used_at >= LAST_USED_GRANULARITY:
        # to the minute: owners see which tokens are idle, without a write on every request
        uow.session.execute(update(api_tokens).where(api_tokens.c.id == row.token_id).values(last_used_at=uow.now))
        uow.commit()
    return Principal(
        user_id=row.user_id, email=row.email, role=Role(row.role), holder_id=row.holder_id,
        marketplace_id=row.marketplace_id, seller_id=row.seller_id,
        scopes=frozenset(Scope(s) for s in row.scopes), token_id=row.token_id,
    )


def tokens_of(uow: UnitOfWork, user_id: int) -> list[dict[str, Any]]:
    rows = uow.session.execute(select(api_tokens).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.id))
    return [{k: v for k, v in row._mapping.items() if k != "token_hash"} for row in rows]


def revoke_token(uow: UnitOfWork, token_id: int, *, user_id: int) -> None:
    row = uow.session.execute(select(api_tokens.c.user_id, api_tokens.c.revoked_at)
                              .where(api_tokens.c.id == token_id)).first()
    if row is None or row.user_id != user_id:
        raise NotFound("token", token_id)
    if row.revoked_at is None:
        uow.session.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=uow.now))
        uow.record("token.revoked", "api_token", token_id, after={"revoked_at": uow.now.isoformat()})
    uow.commit()


def user_summary(uow: UnitOfWork, user_id: int) -> dict[str, Any]:
    row = uow.session.execute(select(users).where(users.c.id == user_id)).mappings().first()
    if row is None:
        raise NotFound("user", user_id)
    return {k: v for k, v in row.items() if k != "password_hash"}
