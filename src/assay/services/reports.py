"""Figures for dashboards, the demo's summary and the transparency report."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from assay.domain.model import Listing, ListingStatus, Seller, SellerStatus
from assay.domain.notices import ItemState, NoticeItem
from assay.store.uow import UnitOfWork


@dataclass(frozen=True)
class Summary:
    notice_items: int
    listings_removed: int
    storefronts_closed: int
    decided: int
    taken_down: int
    reversals: int
    median_time_to_takedown: timedelta | None

    @property
    def takedown_rate(self) -> float:
        """Of the items decided, the share whose listing came down."""
        return self.taken_down / self.decided if self.decided else 0.0


def summary(uow: UnitOfWork) -> Summary:
    session = uow.session
    items = session.execute(select(NoticeItem.state, NoticeItem.filed_at, NoticeItem.removed_at)).all()
    removal_times = [removed - filed for _, filed, removed in items if removed is not None]
    declined = sum(1 for state, _, _ in items if state is ItemState.DECLINED)
    reversals = sum(1 for state, _, removed in items if state is ItemState.REINSTATED and removed is not None)
    return Summary(
        notice_items=len(items),
        listings_removed=session.scalar(select(func.count()).where(Listing.status == ListingStatus.REMOVED)) or 0,
        storefronts_closed=session.scalar(select(func.count()).where(Seller.status == SellerStatus.CLOSED)) or 0,
        decided=len(removal_times) + declined,
        taken_down=len(removal_times),
        reversals=reversals,
        median_time_to_takedown=statistics.median(removal_times) if removal_times else None,
    )
