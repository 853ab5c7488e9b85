"""Statements of reasons: what was decided, on what facts and ground, and what the
affected party can do about it. Fields follow the EU Digital Services Act's
statement of reasons (Article 17), so an export to its Transparency Database is a
mapping (`to_dsa`), not a rewrite."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from assay.domain.notices import NoticeSource


class Measure(StrEnum):
    LISTING_REMOVED = "listing_removed"
    LISTING_REINSTATED = "listing_reinstated"
    REMOVAL_UPHELD = "removal_upheld"
    NO_ACTION = "no_action"
    SELLER_WARNED = "seller_warned"
    STOREFRONT_RESTRICTED = "storefront_restricted"
    STOREFRONT_RESTORED = "storefront_restored"
    STOREFRONT_CLOSED = "storefront_closed"


class DecisionGround(StrEnum):
    ILLEGAL_CONTENT = "illegal_content"
    INCOMPATIBLE_CONTENT = "incompatible_content"
    NOT_ILLEGAL = "not_illegal"


class AutomatedDecision(StrEnum):
    FULLY = "fully"
    PARTIALLY = "partially"
    NOT_AUTOMATED = "not_automated"


CATEGORY_IP = "intellectual_property_infringement"
CONTENT_TYPE_PRODUCT = "product"

_DSA_VISIBILITY = {
    Measure.LISTING_REMOVED: "DECISION_VISIBILITY_CONTENT_REMOVED",
    Measure.REMOVAL_UPHELD: "DECISION_VISIBILITY_CONTENT_REMOVED",
    Measure.STOREFRONT_CLOSED: "DECISION_VISIBILITY_CONTENT_REMOVED",
}
_DSA_ACCOUNT = {
    Measure.STOREFRONT_RESTRICTED: "DECISION_ACCOUNT_SUSPENDED",
    Measure.STOREFRONT_CLOSED: "DECISION_ACCOUNT_TERMINATED",
}
_DSA_SOURCE = {
    NoticeSource.NOTICE: "SOURCE_ARTICLE_16",
    NoticeSource.TRUSTED_NOTIFIER: "SOURCE_TRUSTED_FLAGGER",
    NoticeSource.OWN_INITIATIVE: "SOURCE_VOLUNTARY",
}
_DSA_AUTOMATED_DECISION = {
    AutomatedDecision.FULLY: "AUTOMATED_DECISION_FULLY",
    AutomatedDecision.PARTIALLY: "AUTOMATED_DECISION_PARTIALLY",
    AutomatedDecision.NOT_AUTOMATED: "AUTOMATED_DECISION_NOT_AUTOMATED",
}


@dataclass(eq=False)
class StatementOfReasons:
    """One decision, written so that the seller can read why and what to do next."""

    measure: Measure
    scope: str
    facts: str
    ground: DecisionGround
    legal_ground: str
    source: NoticeSource
    automated_detection: bool
    automated_decision: AutomatedDecision
    redress: str
    decided_at: datetime
    decided_by: str
    seller_id: int
    item_id: int | None = None
    listing_id: int | None = None
    redress_deadline: datetime | None = None
    category: str = CATEGORY_IP
    content_type: str = CONTENT_TYPE_PRODUCT
    id: int | None = None

    def render(self) -> str:
        """The statement as the seller reads it."""
        lines = [
            f"Decision: {self.measure.value.replace('_', ' ')} ({self.scope})",
            f"Why: {self.facts}",
            f"Ground: {self.legal_ground}",
            f"Prompted by: {self.source.value.replace('_', ' ')}; "
            f"automated detection: {'yes' if self.automated_detection else 'no'}; "
            f"automated decision: {self.automated_decision.value.replace('_', ' ')}",
            f"Your options: {self.redress}",
        ]
        if self.redress_deadline is not None:
            lines.append(f"Deadline: {self.redress_deadline.isoformat(timespec='minutes')}")
        return "\n".join(lines)

    @property
    def restricts(self) -> bool:
        """Whether the decision restricts the seller: only those are DSA statements of reasons."""
        return self.ground is not DecisionGround.NOT_ILLEGAL

    def to_dsa(self) -> dict[str, object] | None:
        """The statement in the EU Transparency Database's vocabulary; None for a decision that
        restricts nothing (no action, a reinstatement), which the database does not take."""
        if not self.restricts:
            return None
        return {
            "decision_visibility": [_DSA_VISIBILITY[self.measure]] if self.measure in _DSA_VISIBILITY else [],
            "decision_account": _DSA_ACCOUNT.get(self.measure),
            "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT"
            if self.ground is DecisionGround.ILLEGAL_CONTENT
            else "DECISION_GROUND_INCOMPATIBLE_CONTENT",
            "illegal_content_legal_ground": self.legal_ground,
            "illegal_content_explanation": self.facts,
            "category": "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
            "content_type": ["CONTENT_TYPE_PRODUCT"],
            "source_type": _DSA_SOURCE[self.source],
            "automated_detection": "Yes" if self.automated_detection else "No",
            "automated_decision": _DSA_AUTOMATED_DECISION[self.automated_decision],
            "decision_facts": self.facts,
            "application_date": self.decided_at.date().isoformat(),
            "territorial_scope": ["EU"],
        }
