"""What detection suggests to a brand, and the brand's answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from assay.api import problems
from assay.api.deps import Caller, Id, IdFilter, PageParams, Work, role
from assay.api.problems import Forbidden
from assay.api.schemas import ConfirmIn, ConfirmOut, DismissIn, Page, SuggestionOut
from assay.domain import access
from assay.domain.access import Principal, Role
from assay.services import suggestions, views

router = APIRouter(prefix="/v1", tags=["detection"], responses=problems.responses(404, 409))
Holder = Annotated[Principal, Depends(role(Role.HOLDER))]


@router.get("/suggestions", response_model=Page[SuggestionOut])
def list_suggestions(principal: Caller, uow: Work, paging: PageParams,
                     status: Annotated[str | None, Query(pattern="^(open|confirmed|dismissed)$")] = None,
                     brand_id: IdFilter = None,
                     verdict: Annotated[str | None, Query(pattern="^(infringing|suspect)$")] = None) -> dict:
    rows, total = views.suggestions_page(uow, principal, status=status, brand_id=brand_id, verdict=verdict,
                                         limit=paging.limit, offset=paging.offset)
    return paging.answer(rows, total)


@router.get("/suggestions/{suggestion_id}", response_model=SuggestionOut)
def get_suggestion(suggestion_id: Id, principal: Caller, uow: Work) -> dict:
    return views.suggestion(uow, principal, suggestion_id)


@router.post("/suggestions/{suggestion_id}/confirm", response_model=ConfirmOut)
def confirm(suggestion_id: Id, body: ConfirmIn, principal: Holder, uow: Work) -> ConfirmOut:
    """The brand confirms: a notice is filed in its name on the reasons detection gave."""
    row = views.suggestion(uow, principal, suggestion_id)
    if not access.acts_for_holder(principal, row["holder_id"]):
        raise Forbidden("only the brand's own members answer its suggestions")
    return ConfirmOut(notice_id=suggestions.confirm(uow, suggestion_id, holder_id=row["holder_id"],
                                                    right_ids=body.right_ids, signature=body.signature))


@router.post("/suggestions/{suggestion_id}/dismiss", response_model=SuggestionOut)
def dismiss(suggestion_id: Id, body: DismissIn, principal: Holder, uow: Work) -> dict:
    """The brand dismisses: remembered, not suggested again, and counted in detection's accuracy."""
    row = views.suggestion(uow, principal, suggestion_id)
    if not access.acts_for_holder(principal, row["holder_id"]):
        raise Forbidden("only the brand's own members answer its suggestions")
    suggestions.dismiss(uow, suggestion_id, holder_id=row["holder_id"], reason=body.reason)
    return views.suggestion(uow, principal, suggestion_id)
