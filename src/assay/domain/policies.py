"""The policies: pure functions of the history. All thresholds live in `Policy`,
with defaults that follow the marketplaces' published practice."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum

from assay.domain.identity import IdentityKey
from assay.domain.model import RightsHolder, TrademarkRight
from assay.domain.notices import InfringementType, ItemState, Lane, NoticeItem, Windows


@dataclass(frozen=True)
class Policy:
    windows: Windows = field(default_factory=Windows)
    # Lane: the expedited lane's bar (Alibaba's and Amazon's fast lanes use these figures).
    record_window: timedelta = timedelta(days=180)
    min_decided_for_expedited: int = 10
    min_stood_ratio: float = 0.90
    max_reversed_ratio: float = 0.05
    # Accountability for filers of manifestly unfounded notices.
    unfounded_window: timedelta = timedelta(days=180)
    warn_after_unfounded: int = 3
    suspend_after_warning: int = 2
    suspension_period: timedelta = timedelta(days=30)
    # Strikes on sellers.
    strike_lifetime: timedelta = timedelta(days=365)
    warn_at_strikes: int = 1
    restrict_at_strikes: int = 2
    close_at_counterfeit_strikes: int = 3
    close_at_strikes: int = 5


# -- the filer's record and the lane ------------------------------------------------

@dataclass(frozen=True)
class FilerRecord:
    """How a filer's decided items fared over the record window."""

    decided: int
    stood: int
    reversed_after_counter_notice: int

    @property
    def stood_ratio(self) -> float:
        return self.stood / self.decided if self.decided else 0.0

    @property
    def reversed_ratio(self) -> float:
        return self.reversed_after_counter_notice / self.decided if self.decided else 0.0


DECIDED_STATES = frozenset(
    {ItemState.REMOVED, ItemState.CONTESTED, ItemState.IN_APPEAL, ItemState.UPHELD,
     ItemState.DECLINED, ItemState.REINSTATED}
)


def filer_record(items: Iterable[NoticeItem], now: datetime, policy: Policy) -> FilerRecord:
    since = now - policy.record_window
    decided = stood = reversed_ = 0
    for item in items:
        if item.state not in DECIDED_STATES or item.decided_at is None or item.decided_at < since:
            continue
        decided += 1
        stood += item.state.keeps_listing_down
        reversed_ += item.reversed_after_counter_notice
    return FilerRecord(decided, stood, reversed_)


@dataclass(frozen=True)
class LaneChoice:
    lane: Lane
    reasons: tuple[str, ...]


def _standing(holder: RightsHolder, rights: Iterable[TrademarkRight], now: datetime) -> list[str]:
    """What bars any expedited filing: rights that are not verified and current, no undertaking."""
    rights = list(rights)
    held_back = [reason for right in rights if (reason := right.unusable_reason(now))]
    if not rights:
        held_back.append("no verified right invoked")
    if holder.good_faith_signed_at is None:
        held_back.append("no good-faith undertaking signed")
    return held_back


def choose_lane(
    holder: RightsHolder, rights: Iterable[TrademarkRight], record: FilerRecord, now: datetime, policy: Policy
) -> LaneChoice:
    """Expedited only for verified rights, a signed good-faith undertaking and a good record;
    the reasons say what held a notice back, so a filer knows how to earn the lane."""
    held_back = _standing(holder, rights, now)
    if record.decided < policy.min_decided_for_expedited:
        held_back.append(
            f"{record.decided} decided items in the record window, {policy.min_decided_for_expedited} needed"
        )
    else:
        # Counts beside the ratio, so that 89.96% never reads as the 90% it falls short of.
        if record.stood_ratio < policy.min_stood_ratio:
            held_back.append(f"{record.stood} of {record.decided} decided items stood ({record.stood_ratio:.1%}), "
                             f"at least {policy.min_stood_ratio:.0%} needed")
        if record.reversed_ratio > policy.max_reversed_ratio:
            held_back.append(f"{record.reversed_after_counter_notice} of {record.decided} reversed after "
                             f"counter-notice ({record.reversed_ratio:.1%}), at most {policy.max_reversed_ratio:.0%}")
    if held_back:
        return LaneChoice(Lane.STANDARD, tuple(held_back))
    return LaneChoice(
        Lane.EXPEDITED,
        (f"verified rights, good-faith undertaking, {record.stood_ratio:.0%} of {record.decided} decisions stood",),
    )


def proactive_lane(holder: RightsHolder, rights: Iterable[TrademarkRight], now: datetime) -> LaneChoice:
    """A brand that opted in lets the platform's own detection file for it: expedited, provided
    its rights are verified and it signed the good-faith undertaking it answers for."""
    held_back = _standing(holder, rights, now)
    if held_back:
        return LaneChoice(Lane.STANDARD, tuple(held_back))
    return LaneChoice(Lane.EXPEDITED, ("own-initiative detection, opted in by the brand, on verified rights",))


# -- accountability of filers -------------------------------------------------------

class FilerMeasure(StrEnum):
    NONE = "none"
    WARN = "warn"
    SUSPEND = "suspend"


def filer_measure(holder: RightsHolder, items: Iterable[NoticeItem], now: datetime, policy: Policy) -> FilerMeasure:
    """A filer of manifestly unfounded notices is warned, then suspended. Counting restarts
    at each warning, so a suspended filer who returns starts from the warning."""
    if holder.is_suspended(now):
        return FilerMeasure.NONE
    window_start = now - policy.unfounded_window
    warned = holder.warned_at is not None and holder.warned_at >= window_start
    since = holder.warned_at if warned else window_start
    unfounded = sum(
        1 for item in items
        if item.manifestly_unfounded and item.decided_at is not None and item.decided_at > since
    )
    if warned and unfounded >= policy.suspend_after_warning:
        return FilerMeasure.SUSPEND
    if not warned and unfounded >= policy.warn_after_unfounded:
        return FilerMeasure.WARN
    return FilerMeasure.NONE


# -- strikes and sanctions on sellers -------------------------------------------------

@dataclass(eq=False)
class Strike:
    """A removal that stands, held against the seller until it is reversed or ages out."""

    seller_id: int
    item_id: int
    kind: InfringementType
    issued_at: datetime
    revoked_at: datetime | None = None
    id: int | None = None

    def is_standing(self, now: datetime, policy: Policy) -> bool:
        return self.revoked_at is None and now - self.issued_at < policy.strike_lifetime


class SanctionLevel(IntEnum):
    NONE = 0
    WARNING = 1
    RESTRICTION = 2
    CLOSURE = 3


def sanction_level(strikes: Iterable[Strike], now: datetime, policy: Policy) -> SanctionLevel:
    standing = [s for s in strikes if s.is_standing(now, policy)]
    counterfeit = sum(1 for s in standing if s.kind is InfringementType.COUNTERFEIT)
    if counterfeit >= policy.close_at_counterfeit_strikes or len(standing) >= policy.close_at_strikes:
        return SanctionLevel.CLOSURE
    if len(standing) >= policy.restrict_at_strikes:
        return SanctionLevel.RESTRICTION
    if len(standing) >= policy.warn_at_strikes:
        return SanctionLevel.WARNING
    return SanctionLevel.NONE


def linked_accounts(
    banned_keys: frozenset[IdentityKey], others: Mapping[int, frozenset[IdentityKey]]
) -> dict[int, frozenset[IdentityKey]]:
    """The sellers that share any normalised identity key with a banned one, and what they share."""
    return {seller_id: banned_keys & keys for seller_id, keys in others.items() if banned_keys & keys}
