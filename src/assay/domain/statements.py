"""The statements of reasons each decision sends, written for the seller to read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from assay.domain.model import Listing, Seller, TrademarkRight
from assay.domain.notices import Lane, Notice, NoticeItem, NoticeSource
from assay.domain.reasons import AutomatedDecision, DecisionGround, Measure, StatementOfReasons


def legal_ground(rights: Sequence[TrademarkRight], *, found: bool = True) -> str:
    named = "; ".join(right.describe() for right in rights) or "no right named"
    return f"Infringement of {named}" if found else f"The notice invoked {named}; no infringement stands"


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?", "。")) else f"{text}."


def _listing_scope(listing: Listing) -> str:
    return f"listing {listing.listing_ref}, {listing.title!r}, in every territory the marketplace serves"


def _source(notice: Notice) -> NoticeSource:
    if notice.source is NoticeSource.OWN_INITIATIVE:
        return NoticeSource.OWN_INITIATIVE
    return NoticeSource.TRUSTED_NOTIFIER if notice.lane is Lane.EXPEDITED else NoticeSource.NOTICE


def removal(
    notice: Notice, item: NoticeItem, listing: Listing, rights: Sequence[TrademarkRight], holder_name: str,
    decided_by: str, now: datetime, reviewer_note: str | None = None,
) -> StatementOfReasons:
    expedited = notice.lane is Lane.EXPEDITED
    how = (
        "It was removed at once in the expedited lane, which is open to rights holders with verified rights "
        "and a record of accurate notices; no person reviewed it before removal."
        if expedited else "A reviewer examined the notice and the listing and found the infringement made out."
    )
    facts = (
        f"{holder_name} notified that this listing offers {notice.infringement_type.value.replace('_', ' ')} goods: "
        f"{_sentence(notice.explanation)} {how}"
    )
    if reviewer_note:
        facts += f" Reviewer's note: {_sentence(reviewer_note)}"
    return StatementOfReasons(
        measure=Measure.LISTING_REMOVED, scope=_listing_scope(listing), facts=facts,
        ground=DecisionGround.ILLEGAL_CONTENT, legal_ground=legal_ground(rights), source=_source(notice),
        automated_detection=notice.source is NoticeSource.OWN_INITIATIVE,
        automated_decision=AutomatedDecision.FULLY if expedited else AutomatedDecision.NOT_AUTOMATED,
        redress=(
            "If you believe the listing does not infringe (for example the goods are genuine, or you are "
            "authorised to sell them), file a counter-notice with your reasons before the deadline. The "
            "rights holder may then maintain its notice, in which case a reviewer decides."
        ),
        redress_deadline=item.counter_notice_until, decided_at=now, decided_by=decided_by,
        seller_id=item.seller_id, item_id=item.id, listing_id=listing.id,
    )


def no_action(
    notice: Notice, item: NoticeItem, listing: Listing, rights: Sequence[TrademarkRight], decided_by: str,
    now: datetime, reason: str, manifestly_unfounded: bool,
) -> StatementOfReasons:
    verdict = "manifestly unfounded" if manifestly_unfounded else "not made out"
    return StatementOfReasons(
        measure=Measure.NO_ACTION, scope=_listing_scope(listing),
        facts=f"A reviewer found the notice {verdict}: {_sentence(reason)} The listing stays online.",
        ground=DecisionGround.NOT_ILLEGAL, legal_ground=legal_ground(rights, found=False), source=_source(notice),
        automated_detection=notice.source is NoticeSource.OWN_INITIATIVE,
        automated_decision=AutomatedDecision.NOT_AUTOMATED,
        redress="No action is needed from the seller. The rights holder may file a better-founded notice.",
        decided_at=now, decided_by=decided_by, seller_id=item.seller_id, item_id=item.id, listing_id=listing.id,
    )


def reinstatement(
    notice: Notice, item: NoticeItem, listing: Listing, rights: Sequence[TrademarkRight], decided_by: str,
    now: datetime, why: str, automated: bool,
) -> StatementOfReasons:
    return StatementOfReasons(
        measure=Measure.LISTING_REINSTATED, scope=_listing_scope(listing),
        facts=f"The listing is back online and the strike against it is withdrawn: {_sentence(why)}",
        ground=DecisionGround.NOT_ILLEGAL, legal_ground=legal_ground(rights, found=False), source=_source(notice),
        automated_detection=notice.source is NoticeSource.OWN_INITIATIVE,
        automated_decision=AutomatedDecision.FULLY if automated else AutomatedDecision.NOT_AUTOMATED,
        redress="No action is needed.", decided_at=now, decided_by=decided_by,
        seller_id=item.seller_id, item_id=item.id, listing_id=listing.id,
    )


def removal_upheld(
    notice: Notice, item: NoticeItem, listing: Listing, rights: Sequence[TrademarkRight], decided_by: str,
    now: datetime, reason: str,
) -> StatementOfReasons:
    return StatementOfReasons(
        measure=Measure.REMOVAL_UPHELD, scope=_listing_scope(listing),
        facts=(f"After your counter-notice the rights holder maintained its notice, and a reviewer weighed both: "
               f"{reason.strip()}"),
        ground=DecisionGround.ILLEGAL_CONTENT, legal_ground=legal_ground(rights), source=_source(notice),
        automated_detection=notice.source is NoticeSource.OWN_INITIATIVE,
        automated_decision=AutomatedDecision.NOT_AUTOMATED,
        redress=("The decision is final on this platform. You may refer it to a certified out-of-court dispute "
                 "settlement body or to the courts."),
        decided_at=now, decided_by=decided_by, seller_id=item.seller_id, item_id=item.id, listing_id=listing.id,
    )


_SANCTION_TEXT = {
    Measure.SELLER_WARNED: "Your storefront has a standing strike. Further removals that stand lead to "
                           "restriction and then closure.",
    Measure.STOREFRONT_RESTRICTED: "Your storefront is restricted: it may not publish new listings while "
                                   "its strikes stand.",
    Measure.STOREFRONT_RESTORED: "Your storefront's restriction is lifted: strikes were withdrawn or aged out.",
    Measure.STOREFRONT_CLOSED: "Your storefront is closed and you are banned from selling on the platform.",
}


def sanction(
    seller: Seller, measure: Measure, facts: str, decided_by: str, now: datetime, automated: bool = True,
) -> StatementOfReasons:
    redress = (
        "Each strike can be challenged by a counter-notice on the listing it concerns; a reversed removal "
        "withdraws its strike." if measure is not Measure.STOREFRONT_RESTORED else "No action is needed."
    )
    return StatementOfReasons(
        measure=measure, scope=f"storefront {seller.store_name!r} ({seller.seller_ref})",
        facts=f"{_SANCTION_TEXT[measure]} {facts}",
        ground=DecisionGround.ILLEGAL_CONTENT if measure is not Measure.STOREFRONT_RESTORED else DecisionGround.NOT_ILLEGAL,
        legal_ground="Repeat infringer policy: strikes for removals of infringing listings that stand",
        source=NoticeSource.OWN_INITIATIVE, automated_detection=False,
        automated_decision=AutomatedDecision.FULLY if automated else AutomatedDecision.NOT_AUTOMATED,
        redress=redress, decided_at=now, decided_by=decided_by, seller_id=seller.id,
    )
