"""Time is an input: the domain asks a clock, so that every deadline is testable."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken to be UTC; aware ones are converted."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    if moment.tzinfo is timezone.utc:  # already so: a feed's times mostly are
        return moment
    return moment.astimezone(timezone.utc)
