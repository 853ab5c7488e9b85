"""Rights holders enroll and prove their trademarks; the coalition verifies them."""

from __future__ import annotations

from datetime import date

from assay.domain.errors import DomainError, ValidationFailed
from assay.domain.model import RightsHolder, RightStatus, TrademarkRight
from assay.services.snapshots import snapshot
from assay.store.uow import UnitOfWork


def enroll_holder(uow: UnitOfWork, *, name: str, contact_email: str, sign_good_faith: bool = False,
                  commit: bool = True) -> int:
    problems = []
    if not name.strip():
        problems.append("name: required")
    if "@" not in contact_email:
        problems.append(f"contact_email: {contact_email!r} is not an email address")
    if problems:
        raise ValidationFailed(problems)
    if uow.repo.first(RightsHolder, name=name.strip()) is not None:
        raise ValidationFailed([f"name: a rights holder called {name.strip()!r} is already enrolled"])
    holder = RightsHolder(name=name.strip(), contact_email=contact_email.strip(), created_at=uow.now)
    if sign_good_faith:
        holder.good_faith_signed_at = uow.now
    uow.repo.add(holder)
    uow.flush()
    uow.record("holder.enrolled", "rights_holder", holder.id, after=snapshot(holder))
    if commit:  # a caller creating the first member's account in the same transaction commits itself
        uow.commit()
    assert holder.id is not None
    return holder.id


def sign_good_faith_undertaking(uow: UnitOfWork, holder_id: int) -> None:
    """The holder undertakes to file only notices it believes in good faith to be founded."""
    holder = uow.repo.get(RightsHolder, holder_id)
    if holder.good_faith_signed_at is None:
        holder.good_faith_signed_at = uow.now
        uow.record("holder.signed_good_faith", "rights_holder", holder_id,
                   before={"good_faith_signed_at": None}, after=snapshot(holder, "good_faith_signed_at"))
    uow.commit()


def add_right(
    uow: UnitOfWork, *, holder_id: int, mark: str, office: str, registration_number: str,
    classes: list[str], categories: list[str], expires_on: date,
) -> int:
    uow.repo.get(RightsHolder, holder_id)
    problems = []
    for field_name, value in (("mark", mark), ("office", office), ("registration_number", registration_number)):
        if not value.strip():
            problems.append(f"{field_name}: required")
    if not categories:
        problems.append("categories: name at least one product category the mark is registered for")
    if expires_on < uow.now.date():
        problems.append(f"expires_on: {expires_on.isoformat()} is in the past")
    if problems:
        raise ValidationFailed(problems)
    if uow.repo.first(TrademarkRight, office=office.strip(), registration_number=registration_number.strip()):
        raise ValidationFailed([f"registration_number: {office} {registration_number} is already claimed"])
    right = TrademarkRight(
        holder_id=holder_id, mark=mark.strip(), office=office.strip(),
        registration_number=registration_number.strip(), classes=list(classes),
        categories=[c.strip() for c in categories], expires_on=expires_on,
    )
    uow.repo.add(right)
    uow.flush()
    uow.record("right.added", "trademark_right", right.id, after=snapshot(right))
    uow.commit()
    assert right.id is not None
    return right.id


def decide_right(uow: UnitOfWork, right_id: int, *, verified: bool, reason: str | None = None) -> RightStatus:
    """The coalition's verdict on a claimed registration, after checking it with the office."""
    right = uow.repo.get(TrademarkRight, right_id)
    if right.status is not RightStatus.PENDING:
        raise DomainError(f"right {right_id} is already {right.status.value}")
    if not verified and not (reason or "").strip():
        raise ValidationFailed(["reason: say why the right is rejected"])
    before = snapshot(right, "status", "status_reason")
    right.status = RightStatus.VERIFIED if verified else RightStatus.REJECTED
    right.status_reason = reason
    right.decided_at, right.decided_by = uow.now, uow.actor
    uow.record(f"right.{right.status.value}", "trademark_right", right_id,
               before=before, after=snapshot(right, "status", "status_reason"), reason=reason)
    uow.commit()
    return right.status


def expire_rights(uow: UnitOfWork) -> int:
    """Verified rights past their expiry can no longer back a notice."""
    expired = 0
    for right in uow.repo.all(TrademarkRight, status=RightStatus.VERIFIED):
        if right.expires_on < uow.now.date():
            right.status = RightStatus.EXPIRED
            right.status_reason = f"registration expired on {right.expires_on.isoformat()}"
            uow.record("right.expired", "trademark_right", right.id, before={"status": "verified"},
                       after={"status": "expired"}, reason=right.status_reason)
            expired += 1
    uow.commit()
    return expired
