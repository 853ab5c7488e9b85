"""Filing notices and deciding them: the takedown itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from assay.domain import statements
from assay.domain.errors import DomainError, NotPermitted, ValidationFailed
from assay.domain.model import Listing, ListingStatus, RightsHolder, TrademarkRight
from assay.domain.notices import (
    InfringementType,
    ItemState,
    Lane,
    Notice,
    NoticeItem,
    NoticeSource,
    Transition,
)
from assay.domain.policies import FilerMeasure, filer_measure
from assay.services.filing import Filing, ListingFacts, NoticeFields, notice_problems
from assay.services.sanctions import issue_strike, restore, revoke_strike, take_down
from assay.services.snapshots import snapshot
from assay.store.uow import UnitOfWork


@dataclass
class FilingResult:
    notice_id: int
    lane: Lane
    lane_reasons: tuple[str, ...]
    item_ids: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    queued: list[int] = field(default_factory=list)
    incomplete_reasons: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Case:
    """Everything a decision on one item needs to state its reasons."""

    item: NoticeItem
    notice: Notice
    listing: Listing
    rights: list[TrademarkRight]
    holder: RightsHolder


def load_case(uow: UnitOfWork, item_id: int) -> Case:
    item = uow.repo.get(NoticeItem, item_id, lock=True)
    notice = uow.repo.get(Notice, item.notice_id)
    rights = list(uow.repo.rights(notice.right_ids).values())
    return Case(item, notice, uow.repo.get(Listing, item.listing_id), rights,
                uow.repo.get(RightsHolder, item.holder_id))


def record_transition(uow: UnitOfWork, transition: Transition, reason: str | None = None) -> None:
    uow.record(f"item.{transition.step.value}", "notice_item", transition.item_id,
               before={"state": transition.before.value}, after={"state": transition.after.value}, reason=reason)


def resolve_listing(uow: UnitOfWork, reference: str | int) -> Listing | None:
    """A listing by Assay id, or by `marketplace:listing_id` as the marketplace knows it."""
    if isinstance(reference, int) or str(reference).isdigit():
        return uow.session.get(Listing, int(reference))
    marketplace, _, ref = str(reference).partition(":")
    return uow.repo.listing_by_ref(marketplace, ref) if ref else None


def file_notice(
    uow: UnitOfWork, *, holder_id: int, right_ids: Sequence[int], listings: Sequence[str | int],
    infringement_type: InfringementType, explanation: str, evidence: Sequence[str] = (),
    good_faith: bool, accurate: bool, signature: str, source: NoticeSource = NoticeSource.NOTICE,
    commit: bool = True,
) -> FilingResult:
    """File a notice. Listings that cannot be named (unknown, already down, already in an open
    item of this filer) are rejected one by one with the reason; the rest go ahead. A notice
    missing a required element is kept as incomplete, saying exactly what is missing."""
    fields = NoticeFields(holder_id, tuple(right_ids), infringement_type, explanation, good_faith, accurate, signature)
    check = notice_problems(uow, fields, names_listings=bool(listings))
    accepted, rejected = _accept_listings(uow, holder_id, listings)
    if not accepted:
        raise ValidationFailed(check.problems + [f"listing {ref}: {why}" for ref, why in rejected])
    filing = Filing(uow, fields, check, [ListingFacts.of(listing) for listing in accepted], evidence=evidence,
                    source=source)
    filing.file()
    result = FilingResult(filing.notice_id, filing.lane, filing.lane_reasons, item_ids=filing.item_ids,
                          removed=filing.removed, queued=filing.queued, incomplete_reasons=check.problems,
                          rejected=rejected)
    if commit:  # a caller that records more in the same transaction commits itself
        uow.commit()
    return result


def _accept_listings(
    uow: UnitOfWork, holder_id: int, references: Sequence[str | int]
) -> tuple[list[Listing], list[tuple[str, str]]]:
    found = _resolve_listings(uow, references)
    open_items = uow.repo.open_items_by_listing(holder_id, [listing.id for listing in found.values()])
    accepted: list[Listing] = []
    rejected: list[tuple[str, str]] = []
    seen: set[int] = set()
    for reference in references:
        listing = found.get(_reference_key(reference))
        ref = str(reference)
        if listing is None:
            rejected.append((ref, "not found (name it by Assay id or as marketplace:listing_id)"))
        elif listing.id in seen:
            rejected.append((ref, "named twice in this notice"))
        elif listing.status is ListingStatus.REMOVED:
            rejected.append((ref, "already removed"))
        elif (open_item := open_items.get(listing.id)) is not None:
            rejected.append((ref, f"already named in your open notice item {open_item}"))
        else:
            seen.add(listing.id)
            accepted.append(listing)
    return accepted, rejected


def _reference_key(reference: str | int) -> int | tuple[str, str] | None:
    """What `resolve_listing` looks a reference up by: an id, a (marketplace, ref) pair, or nothing."""
    if isinstance(reference, int) or str(reference).isdigit():
        return int(reference)
    marketplace, _, ref = str(reference).partition(":")
    return (marketplace, ref) if ref else None


def _resolve_listings(uow: UnitOfWork, references: Sequence[str | int]) -> dict[object, Listing]:
    """`resolve_listing` for many references, in a few queries."""
    keys = [key for key in map(_reference_key, references) if key is not None]
    by_id = uow.repo.listings_by_id(key for key in keys if isinstance(key, int))
    by_ref = uow.repo.listings_by_ref(key for key in keys if isinstance(key, tuple))
    return {**by_id, **by_ref}


def _remove(uow: UnitOfWork, case: Case, decided_by: str, note: str | None = None) -> None:
    take_down(uow, case.listing, reason=f"notice {case.notice.id}, item {case.item.id}")
    statement = statements.removal(case.notice, case.item, case.listing, case.rights, case.holder.name,
                                   decided_by, uow.now, note)
    uow.repo.add(statement)
    issue_strike(uow, case.item, case.notice.infringement_type)


def reinstate(uow: UnitOfWork, case: Case, why: str, *, automated: bool = False) -> None:
    """After an item is reinstated: listing back, strike withdrawn, reasons stated."""
    restore(uow, case.listing, reason=f"item {case.item.id} reinstated")
    uow.repo.add(statements.reinstatement(case.notice, case.item, case.listing, case.rights, uow.actor,
                                          uow.now, why, automated))
    revoke_strike(uow, case.item)


def decide_review(
    uow: UnitOfWork, item_id: int, *, remove: bool, reason: str, manifestly_unfounded: bool = False
) -> ItemState:
    """A reviewer's decision on a standard-lane item."""
    if not reason.strip():
        raise ValidationFailed(["reason: state the reasons for the decision"])
    if remove and manifestly_unfounded:
        raise ValidationFailed(["manifestly_unfounded: only a declined notice can be manifestly unfounded"])
    case = load_case(uow, item_id)
    if remove:
        record_transition(uow, case.item.remove(uow.now, uow.policy.windows), reason)
        _remove(uow, case, decided_by=uow.actor, note=reason)
    else:
        record_transition(uow, case.item.decline(uow.now, manifestly_unfounded), reason)
        uow.repo.add(statements.no_action(case.notice, case.item, case.listing, case.rights, uow.actor, uow.now,
                                          reason, manifestly_unfounded))
        if manifestly_unfounded:
            _hold_filer_to_account(uow, case.holder)
    uow.commit()
    return case.item.state


def _hold_filer_to_account(uow: UnitOfWork, holder: RightsHolder) -> None:
    items = uow.repo.items_decided_since(holder.id, uow.now - uow.policy.unfounded_window)
    uow.flush()
    measure = filer_measure(holder, items, uow.now, uow.policy)
    if measure is FilerMeasure.NONE:
        return
    before = snapshot(holder, "warned_at", "suspended_until")
    holder.warned_at = uow.now
    if measure is FilerMeasure.SUSPEND:
        holder.suspended_until = uow.now + uow.policy.suspension_period
    uow.record(f"holder.{'warned' if measure is FilerMeasure.WARN else 'suspended'}", "rights_holder", holder.id,
               before=before, after=snapshot(holder, "warned_at", "suspended_until"),
               reason="repeated manifestly unfounded notices")


def withdraw(uow: UnitOfWork, notice_id: int, *, holder_id: int, item_ids: Sequence[int] | None = None,
             reason: str = "withdrawn by the rights holder") -> list[int]:
    """The filer withdraws its notice, or some of its items; removed listings go back up."""
    notice = uow.repo.get(Notice, notice_id)
    if notice.holder_id != holder_id:
        raise NotPermitted(f"notice {notice_id} was filed by another rights holder")
    chosen = [i for i in notice.items if item_ids is None or i.id in set(item_ids)]
    if item_ids is not None and len(chosen) != len(set(item_ids)):
        unknown = sorted(set(item_ids) - {i.id for i in chosen})
        raise ValidationFailed([f"items: {unknown} are not items of notice {notice_id}"])
    withdrawn = []
    for item in chosen:
        if item.state.is_terminal:
            if item_ids is not None:
                raise DomainError(f"item {item.id} is already {item.state.value}")
            continue
        case = load_case(uow, item.id)
        record_transition(uow, item.withdraw(uow.now), reason)
        if item.state is ItemState.REINSTATED:
            reinstate(uow, case, f"the rights holder withdrew its notice ({reason}).")
        withdrawn.append(item.id)
    if not withdrawn:
        raise DomainError(f"notice {notice_id} has no open item to withdraw")
    uow.commit()
    return withdrawn
