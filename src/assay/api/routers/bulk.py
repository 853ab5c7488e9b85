"""Bulk notices: one notice naming up to 100,000 listings, as JSON rows or an uploaded CSV or
XLSX file. Small ones are answered at once; larger ones run as a job the client polls."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from pydantic import Field, StrictBool
from starlette.concurrency import run_in_threadpool

from assay.api import problems, schemas
from assay.api.deps import Caller, Id, Work, role
from assay.api.schemas import In, Out
from assay.domain import access
from assay.domain.access import Principal, Role
from assay.domain.errors import NotFound, ValidationFailed
from assay.domain.notices import InfringementType
from assay.services import bulk_notices, jobs
from assay.services.bulk_notices import BulkResult, BulkRow, TooLarge

router = APIRouter(prefix="/v1", tags=["notices"], responses=problems.responses(404, 409, 413))
Holder = Annotated[Principal, Depends(role(Role.HOLDER))]


class BulkNoticeIn(In):
    right_ids: list[schemas.Id] = Field(min_length=1, max_length=50)
    infringement_type: InfringementType = InfringementType.COUNTERFEIT
    explanation: str = Field(min_length=1, max_length=10_000)
    good_faith: StrictBool
    accurate: StrictBool
    signature: str = Field(min_length=1, max_length=300)
    rows: list[dict[str, Any]] = Field(min_length=1, description=(
        f"Up to {bulk_notices.MAX_ROWS:,} rows `{{\"listing\": ..., \"evidence\": ...}}`; a listing is an Assay "
        "id or `marketplace:listing_id`. Rows are numbered from 1 in the answer."))


class RejectedRowOut(Out):
    row: int
    listing: str
    reason: str


class BulkResultOut(Out):
    total: int
    rows_done: int
    notice_ids: list[int]
    filed: int
    removed: int
    queued: int
    rejected: list[RejectedRowOut]


class JobOut(Out):
    id: int
    kind: str
    status: str
    total: int
    done: int
    result: BulkResultOut | None = None
    error: str | None = None
    created_at: datetime
    updated_at: datetime


class BulkAnswer(Out):
    """Either the filing's result (answered at once) or the job that files it (poll `job_url`)."""

    result: BulkResultOut | None = None
    job: JobOut | None = None
    job_url: str | None = None


def _result_out(result: BulkResult) -> BulkResultOut:
    return BulkResultOut(total=result.total, rows_done=result.rows_done, notice_ids=result.notice_ids,
                         filed=result.filed, removed=result.removed, queued=result.queued,
                         rejected=[RejectedRowOut(row=r.row, listing=r.listing, reason=r.reason)
                                   for r in result.rejected])


def _job_out(job: jobs.Job) -> JobOut:
    result = _result_out(BulkResult.from_json(job.result)) if job.result else None
    return JobOut(id=job.id, kind=job.kind, status=job.status.value, total=job.total, done=job.done, result=result,
                  error=job.error, created_at=job.created_at, updated_at=job.updated_at)


def _file(request: Request, response: Response, principal: Principal, rows: list[BulkRow], *,
          right_ids: list[int], infringement_type: InfringementType, explanation: str, good_faith: bool,
          accurate: bool, signature: str) -> BulkAnswer:
    assert principal.holder_id is not None
    app, settings = request.app.state.assay, request.app.state.settings
    fields = dict(actor=principal.actor, holder_id=principal.holder_id, right_ids=right_ids,
                  infringement_type=infringement_type, explanation=explanation.strip(), good_faith=good_faith,
                  accurate=accurate, signature=signature.strip(), rows=rows,
                  request_id=getattr(request.state, "request_id", None))
    if len(rows) <= settings.bulk_rows_inline:
        result = bulk_notices.file_bulk(app, **fields)
        request.app.state.metrics.notices_received.labels("bulk").inc(len(result.notice_ids))
        request.app.state.metrics.notice_items_received.inc(result.filed)
        response.status_code = 201
        return BulkAnswer(result=_result_out(result))
    job_id = jobs.queue_bulk_notice(app, user_id=principal.user_id, **fields)
    with app.uow(principal.actor) as uow:
        job = jobs.get_job(uow, job_id)
    response.status_code = 202
    response.headers["Location"] = f"/v1/jobs/{job_id}"
    return BulkAnswer(job=_job_out(job), job_url=f"/v1/jobs/{job_id}")


@router.post("/notices/bulk", response_model=BulkAnswer, status_code=201,
             responses={202: {"model": BulkAnswer, "description": "Queued as a job: poll `job_url`"}})
def bulk_notice(body: BulkNoticeIn, request: Request, response: Response, principal: Holder) -> BulkAnswer:
    """One notice naming many listings, as JSON rows. Every row is checked: each one that cannot be
    filed is reported with its number and the reason, and the others are filed. Up to
    `ASSAY_BULK_ROWS_INLINE` rows are answered at once (201); more run as a job (202, poll it)."""
    if len(body.rows) > bulk_notices.MAX_ROWS:
        raise TooLarge(f"{len(body.rows):,} rows; at most {bulk_notices.MAX_ROWS:,} listings in one bulk notice, "
                       "split them")
    parsed = bulk_notices.json_rows(body.rows)
    return _file(request, response, principal, parsed.rows, right_ids=body.right_ids,
                 infringement_type=body.infringement_type, explanation=body.explanation,
                 good_faith=body.good_faith, accurate=body.accurate, signature=body.signature)


def _ids(text: str) -> list[int]:
    try:
        ids = [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
    except ValueError:
        raise ValidationFailed([f"right_ids: {text!r} is not a list of numbers (e.g. 3,7)"]) from None
    if not ids:
        raise ValidationFailed(["right_ids: name at least one verified right"])
    if not all(1 <= i <= schemas.MAX_ID for i in ids):
        raise ValidationFailed([f"right_ids: ids run from 1 to {schemas.MAX_ID}"])
    return ids


@router.post("/notices/bulk/upload", response_model=BulkAnswer, status_code=201,
             responses={202: {"model": BulkAnswer, "description": "Queued as a job: poll `job_url`"}})
async def bulk_notice_upload(
    request: Request, response: Response, principal: Holder,
    file: Annotated[UploadFile, File(description="CSV (UTF-8; , ; tab or | delimited) or XLSX; the first row "
                                                 "names the columns `listing` and, optionally, `evidence`")],
    right_ids: Annotated[str, Form(description="comma-separated ids of your verified rights", max_length=500)],
    explanation: Annotated[str, Form(min_length=1, max_length=10_000, pattern=schemas.NO_NUL)],
    signature: Annotated[str, Form(min_length=1, max_length=300, pattern=schemas.NO_NUL)],
    good_faith: Annotated[bool, Form()],
    accurate: Annotated[bool, Form()],
    infringement_type: Annotated[InfringementType, Form()] = InfringementType.COUNTERFEIT,
) -> BulkAnswer:
    """One notice naming the listings of an uploaded CSV or XLSX file; rows are numbered as a
    spreadsheet shows them (the header is row 1). Files over `ASSAY_MAX_UPLOAD_BYTES` or
    100,000 rows are refused with 413."""
    limit = request.app.state.settings.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"the file is larger than {limit:,} bytes, the most accepted; split it")
    parsed = await run_in_threadpool(bulk_notices.read_rows, data, filename=file.filename,
                                     content_type=file.content_type, max_bytes=limit)
    return await run_in_threadpool(
        _file, request, response, principal, parsed.rows, right_ids=_ids(right_ids),
        infringement_type=infringement_type, explanation=explanation, good_faith=good_faith, accurate=accurate,
        signature=signature)


@router.get("/jobs/{job_id}", response_model=JobOut, tags=["jobs"])
def get_job(job_id: Id, principal: Caller, uow: Work) -> JobOut:
    """A job's progress (`done` of `total` rows) and, once done, its result."""
    job = jobs.get_job(uow, job_id)
    if not (principal.is_staff or job.user_id == principal.user_id
            or (job.holder_id is not None and access.acts_for_holder(principal, job.holder_id))):
        raise NotFound("job", job_id)
    return _job_out(job)
