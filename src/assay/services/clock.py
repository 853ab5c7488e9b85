"""Clocks: the real one, and one that a demo or a test moves by hand."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from assay.domain.time import as_utc


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class ManualClock:
    def __init__(self, start: datetime) -> None:
        self._now = as_utc(start)

    def now(self) -> datetime:
        return self._now

    def advance(self, by: timedelta) -> datetime:
        self._now += by
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = as_utc(moment)
