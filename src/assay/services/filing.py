"""Filing a notice: the rows it writes (the notice, its items, statements of reasons,
strikes, sanctions, webhook events and audit events), written a table at a time.

`notices.file_notice` files one notice through here, and a bulk notice each of its parts.
A notice naming thousands of listings costs a few dozen statements instead of a few round
trips per listing; one naming a single listing costs some two dozen round trips.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, repeat
from typing import Any

from sqlalchemy import bindparam, update

from assay.domain import statements
from assay.domain.errors import FilingSuspended
from assay.domain.identity import IdentityKey
from assay.domain.model import Listing, ListingStatus, RightsHolder, SellerStatus, TrademarkRight
from assay.domain.notices import InfringementType, Lane, Notice, NoticeItem, NoticeSource, Transition, missing_elements
from assay.domain.policies import (
    SanctionLevel,
    Strike,
    choose_lane,
    filer_record,
    linked_accounts,
    proactive_lane,
    sanction_level,
)
from assay.domain.reasons import Measure
from assay.services import webhooks
from assay.services.sanctions import ESCALATION, describe_shared
from assay.services.snapshots import jsonable, snapshot
from assay.store.tables import notice_items, sellers, statements_of_reasons, strikes, webhook_events
from assay.store.uow import UnitOfWork

EXPEDITED_DECIDER = "assay:expedited-lane"  # who a removal in the expedited lane is decided by


@dataclass(frozen=True)
class NoticeFields:
    """What a notice says, but the listings it names and its evidence."""

    holder_id: int
    right_ids: tuple[int, ...]
    infringement_type: InfringementType
    explanation: str
    good_faith: bool
    accurate: bool
    signature: str


@dataclass(frozen=True)
class NoticeCheck:
    """What checking a notice's elements found: its filer, the rights it invokes, and what it
    lacks (each problem saying the field and what it needs)."""

    holder: RightsHolder
    rights: list[TrademarkRight]
    problems: list[str]


def notice_problems(uow: UnitOfWork, notice: NoticeFields, *, names_listings: bool) -> NoticeCheck:
    """Check the elements a notice needs. A filer suspended for abuse may not file at all."""
    holder = uow.repo.get(RightsHolder, notice.holder_id)
    if holder.is_suspended(uow.now):
        raise FilingSuspended(
            f"{holder.name} is suspended from filing until {holder.suspended_until.isoformat(timespec='minutes')} "
            "for repeatedly filing manifestly unfounded notices"
        )
    problems = missing_elements(right_ids=list(notice.right_ids), explanation=notice.explanation,
                                good_faith=notice.good_faith, accurate=notice.accurate, signature=notice.signature,
                                listing_refs=["named"] if names_listings else [])
    found = uow.repo.rights(notice.right_ids)
    rights = []
    for right_id in notice.right_ids:
        right = found.get(right_id)
        if right is None:
            problems.append(f"rights: right {right_id} not found")
        elif right.holder_id != notice.holder_id:
            problems.append(f"rights: right {right_id} belongs to another rights holder")
        else:
            rights.append(right)
            if not right.is_usable(uow.now):
                problems.append(f"rights: {right.unusable_reason(uow.now)}")
    return NoticeCheck(holder, rights, problems)


@dataclass(slots=True)
class ListingFacts:
    """What filing reads and changes of a listing named (or taken down with its storefront)."""

    id: int
    marketplace_id: int
    listing_ref: str
    seller_id: int
    title: str
    status: ListingStatus

    @classmethod
    def of(cls, listing: Listing) -> ListingFacts:
        return cls(listing.id, listing.marketplace_id, listing.listing_ref, listing.seller_id, listing.title,
                   listing.status)


@dataclass(slots=True)
class _Seller:
    id: int
    marketplace_id: int
    seller_ref: str
    store_name: str
    status: SellerStatus
    banned_at: datetime | None
    ban_reason: str | None
    sanction_level: int


@dataclass(slots=True)
class _Event:
    action: str
    entity_type: str
    entity_id: object
    before: dict[str, Any] | None = None
    after: dict[str, Any] | Callable[[], dict[str, Any]] | None = None
    reason: str | None = None


class Filing:
    """One notice naming `listings`, filed: the notice, an item per listing in the state its lane
    gives (incomplete, queued for review, or removed at once), and for each removal the listing
    taken down, its statement of reasons, a strike on its seller and the sanction that follows.
    Rows are collected in memory, then inserted a table at a time, listings and sellers updated in
    a few statements, the audit events chained as the transaction commits.

    The expedited lane applies the seller's sanctions as each strike lands: a warning, a
    restriction, a restriction lifted, or the storefront closed with every account linked to it.
    That is worked out here from the pure policies, on what was read of the sellers, their strikes,
    listings and identity keys in a few queries; `sanctions` does the same for one decision at a
    time through the ORM (the two are held to the same outcome by a test).

    Domain objects of mapped classes cost tens of microseconds each to build (every attribute set
    is instrumented), so those that are alike across a notice (the items' states, the strikes, the
    removal statements) are built once, as templates, and copied row by row."""

    def __init__(self, uow: UnitOfWork, notice: NoticeFields, check: NoticeCheck, listings: Sequence[ListingFacts],
                 *, evidence: Sequence[str] = (), source: NoticeSource = NoticeSource.NOTICE) -> None:
        self.uow = uow
        self.fields = notice
        self.holder, self.rights = check.holder, check.rights
        self.problems = list(check.problems)  # a notice lacking an element is kept, its items incomplete
        self.accepted = list(listings)
        self.evidence = list(evidence)
        self.source = source
        self.item_ids: list[int] = []
        self.removed: list[int] = []  # items
        self.queued: list[int] = []
        # collected in the order they happen
        self.events: list[_Event] = []
        self.items: list[dict[str, Any]] = []
        self.statements: list[dict[str, Any]] = []
        self.strikes: list[dict[str, Any]] = []
        self.outbox: list[dict[str, Any]] = []
        self.taken_down: list[int] = []
        self.closed_listings: list[int] = []  # taken down with their storefront
        self.changed_sellers: set[int] = set()

    def file(self) -> None:
        uow = self.uow
        lane, self.lane_reasons = self._lane()
        self.reason = "; ".join(self.lane_reasons)
        self.notice = Notice(
            holder_id=self.fields.holder_id, right_ids=list(self.fields.right_ids),
            infringement_type=self.fields.infringement_type, explanation=self.fields.explanation.strip(),
            evidence=self.evidence, good_faith=self.fields.good_faith, accurate=self.fields.accurate,
            signature=self.fields.signature.strip(), filed_at=uow.now, filed_by=uow.actor, source=self.source,
            lane=lane, incomplete_reasons=self.problems,
        )
        uow.repo.add(self.notice)
        uow.flush()
        self.notice_id = self.notice.id
        uow.record("notice.filed", "notice", self.notice_id, after=snapshot(self.notice), reason=self.reason)
        self.new_item_ids = iter(uow.repo.reserve_ids(notice_items, len(self.accepted)))
        self._item_template(lane)
        if lane is Lane.EXPEDITED and not self.problems:
            self._file_expedited()
        else:
            for listing in self.accepted:
                item_id = self._item(listing)
                if not self.problems:
                    self.queued.append(item_id)
        self._write()
        self.lane = lane
        # listings and sellers were changed by statements: objects the session holds must read them again
        uow.session.expire_all()

    def _lane(self) -> tuple[Lane, tuple[str, ...]]:
        """`choose_lane` on the filer's record, counted by the database rather than loaded item by
        item: `filer_record` reads each decided item's state and whether it was contested, so one
        item of each kind, repeated as many times as there are, tells it the same."""
        uow = self.uow
        if self.problems:
            return Lane.STANDARD, ("the notice is incomplete",)
        if self.source is NoticeSource.OWN_INITIATIVE:
            choice = proactive_lane(self.holder, self.rights, uow.now)
            return choice.lane, choice.reasons
        since = uow.now - uow.policy.record_window
        counted = uow.repo.decided_since_by_state(self.fields.holder_id, since)
        items = chain.from_iterable(
            repeat(NoticeItem(listing_id=0, seller_id=0, holder_id=self.fields.holder_id, filed_at=since, state=state,
                              decided_at=since, contested_at=since if contested else None), count)
            for state, contested, count in counted)
        choice = choose_lane(self.holder, self.rights, filer_record(items, uow.now, uow.policy), uow.now, uow.policy)
        return choice.lane, choice.reasons

    # -- items ------------------------------------------------------------------------------------------------
    def _item_template(self, lane: Lane) -> None:
        """Every item of the notice is filed, then takes its step, at the same moment."""
        uow = self.uow
        item = NoticeItem(listing_id=0, seller_id=0, holder_id=self.fields.holder_id, filed_at=uow.now,
                          notice_id=self.notice.id)
        self.filed_snapshot = snapshot(item, "listing_id", "seller_id", "state")
        transition: Transition
        if self.problems:
            transition, self.step_reason = item.mark_incomplete(uow.now), "; ".join(self.problems)
        elif lane is Lane.EXPEDITED:
            transition, self.step_reason = item.remove_at_once(uow.now, uow.policy.windows), self.reason
        else:
            transition, self.step_reason = item.queue_for_review(uow.now, uow.policy.windows), self.reason
        self.step = (f"item.{transition.step.value}", {"state": transition.before.value},
                     {"state": transition.after.value})
        self.item_row = {column.name: getattr(item, column.name) for column in notice_items.columns}
        self.counter_notice_until = item.counter_notice_until

    def _item(self, listing: ListingFacts) -> int:
        """The item's row, in its state after its step, and its events: filed, then the step."""
        item_id = next(self.new_item_ids)
        self.item_ids.append(item_id)
        self.items.append({**self.item_row, "id": item_id, "listing_id": listing.id, "seller_id": listing.seller_id})
        action, before, after = self.step
        self.events.append(_Event("item.filed", "notice_item", item_id, after={
            **self.filed_snapshot, "listing_id": listing.id, "seller_id": listing.seller_id}))
        self.events.append(_Event(action, "notice_item", item_id, before=before, after=after, reason=self.step_reason))
        return item_id

    # -- the expedited lane: every listing down at once, a strike on its seller ----------------------------------
    def _file_expedited(self) -> None:
        self._read_sellers()
        self._removal_templates()
        for listing in self.accepted:
            item_id = self._item(listing)
            self._take_down(listing, reason=f"notice {self.notice.id}, item {item_id}", item_id=item_id)
            self.statements.append({**self.removal_row, "scope": statements._listing_scope(listing),  # type: ignore[arg-type]
                                    "seller_id": listing.seller_id, "item_id": item_id, "listing_id": listing.id})
            self._strike(item_id, listing.seller_id)
            self.removed.append(item_id)

    def _read_sellers(self) -> None:
        """What sanctioning the notice's sellers may need: their standing, strikes, listings, and the
        accounts their identity keys link them to (read beyond those as a closure reaches them)."""
        repo = self.uow.repo
        seller_ids = {listing.seller_id for listing in self.accepted}
        self.sellers = {id_: _Seller(**row._mapping) for id_, row in repo.seller_rows(seller_ids).items()}
        self.strikes_held = repo.strikes_of_sellers(id_ for id_, s in self.sellers.items() if s.banned_at is None)
        self.markets = repo.marketplace_codes()
        self.listings = {listing.id: listing for listing in self.accepted}
        self.listings_of = self._load_listings_of(seller_ids)
        self.keys = self._identity_keys(seller_ids)
        self.holders = repo.holders_of_keys(chain.from_iterable(self.keys.values()))
        self.keys.update(self._identity_keys(set(chain.from_iterable(self.holders.values())) - set(self.keys)))

    def _identity_keys(self, seller_ids: set[int]) -> dict[int, frozenset[IdentityKey]]:
        return {seller_id: frozenset() for seller_id in seller_ids} | self.uow.repo.identity_keys_of(seller_ids)

    def _removal_templates(self) -> None:
        """The strike and the removal statement, which differ from listing to listing only in their
        seller, item and listing (and the statement in its scope); the policies read a strike's
        kind and dates alone."""
        uow = self.uow
        self.strike_ids = iter(uow.repo.reserve_ids(strikes, len(self.accepted)))
        self.new_strike = Strike(seller_id=0, item_id=0, kind=self.fields.infringement_type, issued_at=uow.now, id=0)
        self.strike_snapshot = snapshot(self.new_strike)
        first = self.accepted[0]
        removal = statements.removal(self.notice, _ItemFacts(0, first.seller_id, self.counter_notice_until),  # type: ignore[arg-type]
                                     first, self.rights, self.holder.name, EXPEDITED_DECIDER, uow.now)  # type: ignore[arg-type]
        self.removal_row = _statement_row(removal)
        self.sanction_rows: dict[tuple[Measure, str], dict[str, Any]] = {}

    def _load_listings_of(self, seller_ids: Iterable[int]) -> dict[int, list[ListingFacts]]:
        """Every listing of these sellers, in the order of their ids: what a closure takes down."""
        found: dict[int, list[ListingFacts]] = {}
        for row in self.uow.repo.listing_rows_of_sellers(seller_ids):
            if (listing := self.listings.get(row.id)) is None:
                listing = self.listings[row.id] = ListingFacts(**row._mapping)
            found.setdefault(listing.seller_id, []).append(listing)
        return found

    def _take_down(self, listing: ListingFacts, *, reason: str, item_id: int | None) -> bool:
        """`sanctions.take_down`, with the webhook event it sends. A listing that was up had no
        removal standing, so it is the item taking it down now (if any) that the event names.
        False for a listing that was down already."""
        if listing.status is ListingStatus.REMOVED:
            return False
        before, listing.status = listing.status, ListingStatus.REMOVED
        self.taken_down.append(listing.id)
        self.events.append(_Event("listing.removed", "listing", listing.id, before={"status": before.value},
                                  after={"status": ListingStatus.REMOVED.value}, reason=reason))
        seller = self._seller(listing.seller_id)
        data: dict[str, Any] = {
            "marketplace": self.markets[listing.marketplace_id], "listing_ref": listing.listing_ref,
            "seller_ref": seller.seller_ref, "listing_id": listing.id, "seller_id": seller.id, "reason": reason}
        if item_id is not None:
            data.update(notice_id=self.notice.id, notice_item_id=item_id)
        self.outbox.append(self._webhook(listing.marketplace_id, webhooks.LISTING_REMOVED, data))
        return True

    def _webhook(self, marketplace_id: int, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
        """The outbox row `webhooks.enqueue` writes."""
        now = self.uow.now
        return {"message_id": f"msg_{uuid.uuid4().hex}", "marketplace_id": marketplace_id, "event_type": event_type,
                "payload": {"type": event_type, "timestamp": now.isoformat(), "data": data}, "created_at": now,
                "status": webhooks.EventStatus.PENDING.value, "attempts": 0, "next_attempt_at": now}

    # -- strikes and sanctions --------------------------------------------------------------------------------
    def _strike(self, item_id: int, seller_id: int) -> None:
        """`sanctions.issue_strike`, then `apply_sanctions`."""
        strike_id = next(self.strike_ids)
        self.strikes_held.setdefault(seller_id, []).append(self.new_strike)
        self.strikes.append({"id": strike_id, "seller_id": seller_id, "item_id": item_id,
                             "kind": self.new_strike.kind, "issued_at": self.new_strike.issued_at, "revoked_at": None})
        self.events.append(_Event("strike.issued", "seller", seller_id, reason=f"removal of item {item_id}", after={
            **self.strike_snapshot, "seller_id": seller_id, "item_id": item_id, "id": strike_id}))
        self._apply_sanctions(self.sellers[seller_id])

    def _apply_sanctions(self, seller: _Seller) -> None:
        uow = self.uow
        if seller.banned_at is not None:
            return
        held = self.strikes_held[seller.id]
        level = sanction_level(held, uow.now, uow.policy)
        standing = sum(1 for s in held if s.is_standing(uow.now, uow.policy))
        facts = (f"It has {standing} standing strike{'s' if standing != 1 else ''} in the last "
                 f"{uow.policy.strike_lifetime.days} days.")
        if level is SanctionLevel.CLOSURE:
            self._close_and_ban(seller, reason=f"repeat infringer, {standing} standing strikes")
            return
        before = _standing(seller)
        taken = False
        if level > seller.sanction_level:
            if level is SanctionLevel.RESTRICTION:
                seller.status = SellerStatus.RESTRICTED
            self._state_decision(seller, ESCALATION[level], facts)
            taken = True
        elif level < SanctionLevel.RESTRICTION and seller.status is SellerStatus.RESTRICTED:
            seller.status = SellerStatus.ACTIVE
            self._state_decision(seller, Measure.STOREFRONT_RESTORED, facts)
            taken = True
        if level != seller.sanction_level or taken:
            seller.sanction_level = int(level)
            self.changed_sellers.add(seller.id)
            self.events.append(_Event("seller.sanction_level", "seller", seller.id, before=before,
                                      after=_standing(seller), reason=facts))

    def _state_decision(self, seller: _Seller, measure: Measure, facts: str, *, record: bool = True) -> None:
        template = self.sanction_rows.get((measure, facts))
        if template is None:
            template = self.sanction_rows[measure, facts] = _statement_row(
                statements.sanction(seller, measure, facts, self.uow.actor, self.uow.now))  # type: ignore[arg-type]
        row = {**template, "scope": _storefront_scope(seller), "seller_id": seller.id}
        self.statements.append(row)
        if record:  # the statement's id is known once the rows are written; the event reads it then
            self.events.append(_Event(f"seller.{measure.value}", "seller", seller.id,
                                      after=lambda: {"statement": row["id"]}, reason=facts))

    def _close_and_ban(self, seller: _Seller, *, reason: str) -> None:
        """`sanctions.close_and_ban`: the storefront, then the accounts linked to it, and theirs in turn."""
        if seller.banned_at is not None:
            return
        self._ban_one(seller, reason)
        queue: deque[_Seller] = deque([seller])
        while queue:
            current = queue.popleft()
            keys = self._keys(current.id)
            for other_id, shared in linked_accounts(keys, self._sharing(keys, exclude=current.id)).items():
                other = self._seller(other_id)
                if other.banned_at is None:
                    self._ban_one(other, f"linked to banned seller {current.seller_ref} by {describe_shared(shared)}")
                    queue.append(other)

    def _ban_one(self, seller: _Seller, reason: str) -> None:
        before = _ban(seller)
        seller.status, seller.banned_at, seller.ban_reason = SellerStatus.CLOSED, self.uow.now, reason
        seller.sanction_level = int(SanctionLevel.CLOSURE)
        self.changed_sellers.add(seller.id)
        self.events.append(_Event("seller.closed_and_banned", "seller", seller.id, before=before, after=_ban(seller),
                                  reason=reason))
        self._state_decision(seller, Measure.STOREFRONT_CLOSED, f"Reason: {reason}.", record=False)
        self.outbox.append(self._webhook(seller.marketplace_id, webhooks.SELLER_CLOSED, {
            "marketplace": self.markets[seller.marketplace_id], "seller_ref": seller.seller_ref,
            "seller_id": seller.id, "reason": reason}))
        if seller.id not in self.listings_of:
            self.listings_of.update(self._load_listings_of([seller.id]))
        for listing in self.listings_of.get(seller.id, []):
            if self._take_down(listing, reason=f"storefront {seller.seller_ref} closed", item_id=None):
                self.closed_listings.append(listing.id)

    def _seller(self, seller_id: int) -> _Seller:
        if seller_id not in self.sellers:
            self.sellers.update((id_, _Seller(**row._mapping)) for id_, row in self.uow.repo.seller_rows([seller_id]).items())
        return self.sellers[seller_id]

    def _keys(self, seller_id: int) -> frozenset[IdentityKey]:
        if seller_id not in self.keys:
            self.keys[seller_id] = self.uow.repo.identity_keys(seller_id)
        return self.keys[seller_id]

    def _sharing(self, keys: frozenset[IdentityKey], *, exclude: int) -> dict[int, frozenset[IdentityKey]]:
        """`Repository.sellers_sharing`, from what was read of the notice's sellers where it covers the keys."""
        if not all(key in self.holders for key in keys):
            found = self.uow.repo.sellers_sharing(keys, exclude=exclude)
            self.keys.update(found)
            return found
        ids = set(chain.from_iterable(self.holders[key] for key in keys)) - {exclude}
        return {seller_id: self._keys(seller_id) for seller_id in sorted(ids)}

    # -- writing --------------------------------------------------------------------------------------------------
    def _write(self) -> None:
        """Insert the rows collected, apply the updates, and record the events in their order."""
        uow, repo = self.uow, self.uow.repo
        for row, id_ in zip(self.statements, repo.reserve_ids(statements_of_reasons, len(self.statements)),
                            strict=True):
            row["id"] = id_
        for table, rows in ((notice_items, self.items), (statements_of_reasons, self.statements),
                            (strikes, self.strikes), (webhook_events, self.outbox)):
            repo.insert_rows(table, rows)
        repo.set_listings_status(self.taken_down, ListingStatus.REMOVED)
        self._write_sellers()
        if self.outbox:
            uow.outbox_written()
        for event in self.events:
            after = event.after() if callable(event.after) else event.after
            uow.record(event.action, event.entity_type, event.entity_id, before=event.before, after=after,
                       reason=event.reason)

    def _write_sellers(self) -> None:
        """Warned and restricted sellers in a statement per standing; closed ones each with their reason."""
        changed = [self.sellers[seller_id] for seller_id in sorted(self.changed_sellers)]
        by_standing: dict[tuple[SellerStatus, int], list[int]] = {}
        for seller in changed:
            if seller.banned_at is None:
                by_standing.setdefault((seller.status, seller.sanction_level), []).append(seller.id)
        for (status, level), ids in by_standing.items():
            self.uow.repo.set_sellers_standing(ids, status, level)
        banned = [{"seller": s.id, "new_status": s.status, "new_banned_at": s.banned_at, "new_reason": s.ban_reason,
                   "new_level": s.sanction_level} for s in changed if s.banned_at is not None]
        if banned:
            self.uow.session.execute(
                update(sellers).where(sellers.c.id == bindparam("seller")).values(
                    status=bindparam("new_status"), banned_at=bindparam("new_banned_at"),
                    ban_reason=bindparam("new_reason"), sanction_level=bindparam("new_level")),
                banned)


@dataclass(slots=True)
class _ItemFacts:
    """What a removal statement reads of its item."""

    id: int
    seller_id: int
    counter_notice_until: datetime | None


def _standing(seller: _Seller) -> dict[str, Any]:
    return {"status": seller.status.value, "sanction_level": seller.sanction_level}


def _ban(seller: _Seller) -> dict[str, Any]:
    """The seller's fields `sanctions` shows before and after a ban, as `snapshot` renders them."""
    return {name: jsonable(getattr(seller, name)) for name in ("status", "banned_at", "ban_reason", "sanction_level")}


def _storefront_scope(seller: _Seller) -> str:
    """As `statements.sanction` states a storefront's scope (`statements._listing_scope` is the
    listing's): the statements are copied from a template, seller by seller and listing by listing."""
    return f"storefront {seller.store_name!r} ({seller.seller_ref})"


def _statement_row(statement: object) -> dict[str, Any]:
    return {column.name: getattr(statement, column.name) for column in statements_of_reasons.columns}
