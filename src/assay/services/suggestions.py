"""What detection finds, kept as suggestions that a brand confirms (which files a notice)
or dismisses (which is remembered); and brands that opted in have infringing listings
taken down on the platform's own initiative. Detection itself is not loaded here
(`assay.services.store_scan` runs it): a load that scans nothing should not pay for it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from assay.domain.errors import DomainError, NotFound, NotPermitted, ValidationFailed
from assay.domain.model import Brand, RightsHolder, TrademarkRight
from assay.domain.notices import InfringementType, NoticeSource
from assay.services import notices
from assay.store.tables import suggestions
from assay.store.uow import UnitOfWork

if TYPE_CHECKING:
    from assay.detection.pipeline import Flag

OPEN, CONFIRMED, DISMISSED = "open", "confirmed", "dismissed"


def suggest(uow: UnitOfWork, listing_id: int, brand_id: int, flag: Flag, *, source: str) -> int:
    """Keep a flag as an open suggestion; refresh an open one; leave a decided one alone."""
    existing = uow.session.execute(select(suggestions).where(
        suggestions.c.listing_id == listing_id, suggestions.c.brand_id == brand_id)).mappings().first()
    values = dict(verdict=flag.verdict, score=round(flag.score, 4), signals=[s.as_json() for s in flag.signals])
    if existing is None:
        uow.session.execute(suggestions.insert().values(listing_id=listing_id, brand_id=brand_id, source=source,
                                                        status=OPEN, created_at=uow.now, **values))
        return 1
    if existing["status"] == OPEN and existing["source"] == source:  # a stay-down catch keeps its own reasons
        uow.session.execute(update(suggestions).where(suggestions.c.id == existing["id"]).values(**values))
    return 0


# -- the brand's answer ------------------------------------------------------------------------------

def _open_suggestion(uow: UnitOfWork, suggestion_id: int, holder_id: int) -> tuple[dict, Brand]:
    row = uow.session.execute(select(suggestions).where(suggestions.c.id == suggestion_id)).mappings().first()
    brand = uow.session.get(Brand, row["brand_id"]) if row else None
    if row is None or brand is None or brand.holder_id != holder_id:
        raise NotFound("suggestion", suggestion_id)  # another brand's suggestion is not there for you
    if row["status"] != OPEN:
        raise DomainError(f"suggestion {suggestion_id} is already {row['status']}")
    return dict(row), brand


def confirm(uow: UnitOfWork, suggestion_id: int, *, holder_id: int, right_ids: list[int], signature: str) -> int:
    """The brand confirms: a notice is filed in its name, on the reasons detection gave."""
    row, brand = _open_suggestion(uow, suggestion_id, holder_id)
    reasons = "; ".join(s["detail"] for s in row["signals"] if s["weight"] > 0)
    result = notices.file_notice(
        uow, holder_id=holder_id, right_ids=right_ids, listings=[row["listing_id"]],
        infringement_type=InfringementType.COUNTERFEIT, explanation=f"Found by Assay's detection: {reasons}",
        evidence=[f"suggestion {suggestion_id}"], good_faith=True, accurate=True, signature=signature, commit=False)
    _decide(uow, suggestion_id, CONFIRMED, notice_id=result.notice_id)
    uow.commit()
    return result.notice_id


def dismiss(uow: UnitOfWork, suggestion_id: int, *, holder_id: int, reason: str) -> None:
    """The brand dismisses: remembered, never suggested again, and counted against detection's accuracy."""
    if not reason.strip():
        raise ValidationFailed(["reason: say why the listing is not infringing (it teaches the detector)"])
    _open_suggestion(uow, suggestion_id, holder_id)
    _decide(uow, suggestion_id, DISMISSED, reason=reason.strip())
    uow.commit()


def _decide(uow: UnitOfWork, suggestion_id: int, status: str, *, notice_id: int | None = None,
            reason: str | None = None) -> None:
    uow.session.execute(update(suggestions).where(suggestions.c.id == suggestion_id).values(
        status=status, decided_at=uow.now, decided_by=uow.actor, notice_id=notice_id, reason=reason))
    uow.record(f"suggestion.{status}", "suggestion", suggestion_id, before={"status": OPEN},
               after={"status": status, "notice_id": notice_id}, reason=reason)


def accuracy(uow: UnitOfWork) -> dict[str, int]:
    """How brands answered detection: confirmed against dismissed, and still open."""
    rows = uow.session.execute(select(suggestions.c.status, func.count()).group_by(suggestions.c.status)).all()
    return {OPEN: 0, CONFIRMED: 0, DISMISSED: 0, **dict(rows)}


# -- proactive removal ---------------------------------------------------------------------------------

def act_for_opted_in_brands(new_uow: Callable[[], UnitOfWork]) -> int:
    """For brands that opted in, every open `infringing` suggestion files an own-initiative notice
    on the brand's verified rights for the mark: expedited, the automated detection on record.
    Idempotent: a listing already in an open item of the brand's is confirmed, not filed twice."""
    with new_uow() as uow:
        pending = uow.session.execute(
            select(suggestions.c.id, suggestions.c.listing_id, suggestions.c.brand_id, suggestions.c.signals)
            .join(Brand, Brand.id == suggestions.c.brand_id)
            .where(suggestions.c.status == OPEN, suggestions.c.verdict == "infringing",
                   Brand.proactive_removal.is_(True)).order_by(suggestions.c.id)).all()
    filed = 0
    for suggestion_id, listing_id, brand_id, signals in pending:
        with new_uow() as uow:
            brand = uow.repo.get(Brand, brand_id)
            holder = uow.repo.get(RightsHolder, brand.holder_id)
            marks = {m.casefold() for m in brand.marks}
            rights = [r.id for r in uow.repo.all(TrademarkRight, holder_id=holder.id)
                      if r.is_usable(uow.now) and r.mark.casefold() in marks]
            already = uow.repo.open_item(holder.id, listing_id)
            if already is not None:
                _decide(uow, suggestion_id, CONFIRMED, notice_id=already.notice_id)
                uow.commit()
                continue
            if not rights:
                continue  # nothing to file on; the suggestion waits for the brand
            reasons = "; ".join(s["detail"] for s in signals if s["weight"] > 0)
            try:
                result = notices.file_notice(
                    uow, holder_id=holder.id, right_ids=rights, listings=[listing_id],
                    infringement_type=InfringementType.COUNTERFEIT,
                    explanation=f"Found by Assay's own-initiative detection: {reasons}",
                    evidence=[f"suggestion {suggestion_id}"], good_faith=holder.good_faith_signed_at is not None,
                    accurate=True, signature=f"{holder.name}, by its standing instruction for proactive removal",
                    source=NoticeSource.OWN_INITIATIVE, commit=False)
            except (ValidationFailed, NotPermitted, DomainError):
                continue
            _decide(uow, suggestion_id, CONFIRMED, notice_id=result.notice_id)
            uow.commit()
            filed += 1
    return filed
