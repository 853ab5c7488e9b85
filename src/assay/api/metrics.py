"""Prometheus metrics: notices received, takedowns by lane and outcome, time to action,
and the review queue's depth (read from the store at each scrape)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from assay.domain.notices import ItemState, NoticeItem
from assay.services.app import Assay

# From a fraction of a second (the expedited lane) to weeks (a reviewer's queue).
ACTION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 30, 60, 300, 3600, 6 * 3600, 86400, 3 * 86400, 7 * 86400)


class QueueDepth(Collector):
    def __init__(self, app: Assay) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily("assay_review_queue_depth", "Notice items waiting for a person", labels=["queue"])
        with self.app.uow("metrics") as uow:
            counts = dict(uow.session.execute(
                select(NoticeItem.state, func.count()).where(
                    NoticeItem.state.in_([ItemState.IN_REVIEW, ItemState.IN_APPEAL])).group_by(NoticeItem.state)
            ).all())
        gauge.add_metric(["review"], counts.get(ItemState.IN_REVIEW, 0))
        gauge.add_metric(["appeal"], counts.get(ItemState.IN_APPEAL, 0))
        yield gauge


class Metrics:
    """One registry per application, so several apps in one process (tests) do not collide."""

    def __init__(self, app: Assay) -> None:
        self.registry = CollectorRegistry()
        self.notices_received = Counter("assay_notices_received", "Notices received, by source",
                                        ["source"], registry=self.registry)
        self.notice_items_received = Counter("assay_notice_items_received", "Listings named in notices received",
                                             registry=self.registry)
        self.takedowns = Counter("assay_takedowns", "Decisions on notice items, by lane and outcome",
                                 ["lane", "outcome"], registry=self.registry)
        self.time_to_action = Histogram("assay_time_to_action_seconds",
                                        "From a notice's filing to the decision on its item, by lane",
                                        ["lane"], buckets=ACTION_BUCKETS, registry=self.registry)
        self.registry.register(QueueDepth(app))
