"""Strikes, sanctions and bans: what a removal that stands means for the seller."""

from __future__ import annotations

from collections import deque

from assay.domain import statements
from assay.domain.identity import IdentityKey
from assay.domain.model import Listing, ListingStatus, Seller, SellerStatus
from assay.domain.notices import InfringementType, NoticeItem
from assay.domain.policies import SanctionLevel, Strike, linked_accounts, sanction_level
from assay.domain.reasons import Measure
from assay.services import webhooks
from assay.services.snapshots import snapshot
from assay.store.uow import UnitOfWork

ESCALATION = {
    SanctionLevel.WARNING: Measure.SELLER_WARNED,
    SanctionLevel.RESTRICTION: Measure.STOREFRONT_RESTRICTED,
}


def issue_strike(uow: UnitOfWork, item: NoticeItem, kind: InfringementType) -> None:
    strike = Strike(seller_id=item.seller_id, item_id=item.id, kind=kind, issued_at=uow.now)
    uow.repo.add(strike)
    uow.flush()
    uow.record("strike.issued", "seller", item.seller_id, after=snapshot(strike), reason=f"removal of item {item.id}")
    apply_sanctions(uow, item.seller_id)


def revoke_strike(uow: UnitOfWork, item: NoticeItem) -> None:
    strike = uow.repo.strike_for_item(item.id)
    if strike is None or strike.revoked_at is not None:
        return
    strike.revoked_at = uow.now
    uow.record("strike.revoked", "seller", item.seller_id, before={"strike": strike.id, "revoked_at": None},
               after={"strike": strike.id, "revoked_at": snapshot(strike, "revoked_at")["revoked_at"]},
               reason=f"item {item.id} reinstated")
    apply_sanctions(uow, item.seller_id)


def apply_sanctions(uow: UnitOfWork, seller_id: int) -> list[Measure]:
    """Bring the seller's standing in line with its standing strikes: escalate, or lift a
    restriction once strikes fall away. A closure is a permanent ban and is never lifted here."""
    seller = uow.repo.get(Seller, seller_id)
    if seller.is_banned:
        return []
    strikes = uow.repo.strikes_of(seller_id)
    level = sanction_level(strikes, uow.now, uow.policy)
    standing = sum(1 for s in strikes if s.is_standing(uow.now, uow.policy))
    facts = f"It has {standing} standing strike{'s' if standing != 1 else ''} in the last {uow.policy.strike_lifetime.days} days."
    taken: list[Measure] = []
    if level is SanctionLevel.CLOSURE:
        close_and_ban(uow, seller, reason=f"repeat infringer, {standing} standing strikes")
        return [Measure.STOREFRONT_CLOSED]
    before = snapshot(seller, "status", "sanction_level")
    if level > seller.sanction_level:
        measure = ESCALATION[level]
        if level is SanctionLevel.RESTRICTION:
            seller.status = SellerStatus.RESTRICTED
        _state_decision(uow, seller, measure, facts)
        taken.append(measure)
    elif level < SanctionLevel.RESTRICTION and seller.status is SellerStatus.RESTRICTED:
        seller.status = SellerStatus.ACTIVE
        _state_decision(uow, seller, Measure.STOREFRONT_RESTORED, facts)
        taken.append(Measure.STOREFRONT_RESTORED)
    if level != seller.sanction_level or taken:
        seller.sanction_level = int(level)
        uow.record("seller.sanction_level", "seller", seller_id, before=before,
                   after=snapshot(seller, "status", "sanction_level"), reason=facts)
    return taken


def close_and_ban(uow: UnitOfWork, seller: Seller, *, reason: str) -> list[int]:
    """Close the storefront, take its listings down, and extend the ban to every account
    linked to it by normalised trader identity. Returns the sellers banned now."""
    if seller.is_banned:
        return []
    _ban_one(uow, seller, reason)
    return [seller.id, *close_and_ban_linked(uow, seller)]


def close_and_ban_linked(uow: UnitOfWork, banned: Seller) -> list[int]:
    """Ban the accounts linked to a banned seller, and theirs in turn: rings share keys."""
    newly: list[int] = []
    queue: deque[Seller] = deque([banned])
    while queue:
        current = queue.popleft()
        keys = uow.repo.identity_keys(current.id)
        for other_id, shared in linked_accounts(keys, uow.repo.sellers_sharing(keys, exclude=current.id)).items():
            other = uow.repo.get(Seller, other_id)
            if not other.is_banned:
                _ban_one(uow, other, f"linked to banned seller {current.seller_ref} by {describe_shared(shared)}")
                newly.append(other_id)
                queue.append(other)
    return newly


def ban_if_linked_to_banned(uow: UnitOfWork, seller: Seller) -> bool:
    """A new or changed account that shares identity with a banned one is banned too."""
    keys = uow.repo.identity_keys(seller.id)
    for other_id, shared in uow.repo.sellers_sharing(keys, exclude=seller.id).items():
        other = uow.repo.get(Seller, other_id)
        if other.is_banned:
            close_and_ban(uow, seller, reason=f"linked to banned seller {other.seller_ref} by {describe_shared(keys & shared)}")
            return True
    return False


def _ban_one(uow: UnitOfWork, seller: Seller, reason: str) -> None:
    before = snapshot(seller, "status", "banned_at", "ban_reason", "sanction_level")
    seller.status = SellerStatus.CLOSED
    seller.banned_at, seller.ban_reason = uow.now, reason
    seller.sanction_level = int(SanctionLevel.CLOSURE)
    uow.record("seller.closed_and_banned", "seller", seller.id, before=before,
               after=snapshot(seller, "status", "banned_at", "ban_reason", "sanction_level"), reason=reason)
    _state_decision(uow, seller, Measure.STOREFRONT_CLOSED, f"Reason: {reason}.", record=False)
    webhooks.seller_closed(uow, seller, reason=reason)
    for listing in uow.repo.listings_of_seller(seller.id):
        take_down(uow, listing, reason=f"storefront {seller.seller_ref} closed")


def take_down(uow: UnitOfWork, listing: Listing, *, reason: str) -> None:
    if listing.status is ListingStatus.REMOVED:
        return
    before = listing.status
    listing.status = ListingStatus.REMOVED
    uow.record("listing.removed", "listing", listing.id, before={"status": before.value},
               after={"status": ListingStatus.REMOVED.value}, reason=reason)
    webhooks.listing_removed(uow, listing, reason=reason)


def restore(uow: UnitOfWork, listing: Listing, *, reason: str) -> bool:
    """Put a listing back, unless another removal still stands or its storefront is closed."""
    if listing.status is not ListingStatus.REMOVED:
        return False
    if any(item.state.keeps_listing_down for item in uow.repo.items_of_listing(listing.id)):
        return False
    if uow.repo.get(Seller, listing.seller_id).is_banned:
        return False
    listing.status = ListingStatus.REINSTATED
    uow.record("listing.reinstated", "listing", listing.id, before={"status": ListingStatus.REMOVED.value},
               after={"status": ListingStatus.REINSTATED.value}, reason=reason)
    webhooks.listing_reinstated(uow, listing, reason=reason)
    return True


def _state_decision(uow: UnitOfWork, seller: Seller, measure: Measure, facts: str, record: bool = True) -> None:
    statement = statements.sanction(seller, measure, facts, uow.actor, uow.now)
    uow.repo.add(statement)
    if record:
        uow.flush()
        uow.record(f"seller.{measure.value}", "seller", seller.id, after={"statement": statement.id}, reason=facts)


def describe_shared(keys: frozenset[IdentityKey]) -> str:
    return ", ".join(sorted(f"{key.kind.value.replace('_', ' ')}" for key in keys)) or "identity"


def apply_sanctions_now(uow: UnitOfWork, seller_id: int) -> list[Measure]:
    """The use case: recompute a seller's sanctions (for example after strikes aged out)."""
    taken = apply_sanctions(uow, seller_id)
    uow.commit()
    return taken
