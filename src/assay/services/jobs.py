"""Jobs: requests too long to answer at once (a bulk notice naming thousands of listings)
run in the background, and their client polls them.

A job is a row of `jobs`: queued, running, done or failed; how far it got (`done` of
`total`); its result, or a short message saying why it failed. A `JobRunner` thread runs
the queued ones, one at a time. A running job saves its progress as it goes, in the same
transaction as the work itself, and that save is its heartbeat: a job whose heartbeat has
been silent for `stale_after` was left by a process that stopped, and the next runner to
look resumes it from its last save. Stopping a runner mid-job puts the job back in the queue.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, or_, select, update

from assay.domain.errors import DomainError, NotFound
from assay.domain.notices import InfringementType
from assay.services import bulk_notices
from assay.services.app import Assay
from assay.services.bulk_notices import BulkResult, BulkRow
from assay.services.filing import NoticeFields
from assay.store.tables import jobs
from assay.store.uow import UnitOfWork

log = logging.getLogger(__name__)

BULK_NOTICE = "bulk_notice"
MAX_ERROR = 500  # characters of a failure's message kept on the job


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    user_id: int
    holder_id: int | None
    status: JobStatus
    total: int
    done: int
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    updated_at: datetime


def create_job(uow: UnitOfWork, kind: str, user_id: int, holder_id: int | None, params: Mapping[str, Any],
               total: int) -> int:
    """Queue a job and commit; the runners of this process are woken once it is committed."""
    job_id = uow.session.execute(insert(jobs).values(
        kind=kind, user_id=user_id, holder_id=holder_id, status=JobStatus.QUEUED.value, total=total, done=0,
        params=dict(params), created_at=uow.now, updated_at=uow.now,
    ).returning(jobs.c.id)).scalar_one()
    uow.after_commit(_wake_runners)
    uow.commit()
    return job_id


def get_job(uow: UnitOfWork, job_id: int) -> Job:
    """The job as its client sees it (its parameters, which may be large, are left out)."""
    columns = [column for column in jobs.columns if column.name != "params"]
    row = uow.session.execute(select(*columns).where(jobs.c.id == job_id)).mappings().first()
    if row is None:
        raise NotFound("job", job_id)
    return Job(**{**row, "status": JobStatus(row["status"])})


def _params(uow: UnitOfWork, job_id: int) -> dict[str, Any]:
    return uow.session.execute(select(jobs.c.params).where(jobs.c.id == job_id)).scalar_one()


def save_progress(uow: UnitOfWork, job_id: int, done: int, result: Mapping[str, Any]) -> None:
    """Record how far the job got, in the caller's transaction; it is also the job's heartbeat."""
    uow.session.execute(update(jobs).where(jobs.c.id == job_id).values(
        done=done, result=dict(result), updated_at=uow.now))


def _finish(app: Assay, job_id: int, status: JobStatus, **values: Any) -> None:
    with app.uow("jobs") as uow:
        uow.session.execute(update(jobs).where(jobs.c.id == job_id).values(
            status=status.value, updated_at=uow.now, **values))
        uow.commit()


# -- bulk notices as jobs -----------------------------------------------------------------------------------------

def queue_bulk_notice(
    app: Assay, *, actor: str, user_id: int, holder_id: int, right_ids: Sequence[int],
    infringement_type: InfringementType, explanation: str, good_faith: bool, accurate: bool, signature: str,
    rows: Sequence[BulkRow], request_id: str | None = None, chunk_rows: int = bulk_notices.CHUNK_ROWS,
) -> int:
    """Check the notice's own elements now, so that a notice lacking one is refused at once
    (ValidationFailed, FilingSuspended) rather than as a failed job; then queue its filing."""
    notice = NoticeFields(holder_id, tuple(right_ids), infringement_type, explanation, good_faith, accurate, signature)
    with app.uow(actor, request_id) as uow:
        bulk_notices.check_notice(uow, notice, has_listings=bool(rows))
        params = {
            "actor": actor, "request_id": request_id, "chunk_rows": chunk_rows,
            "notice": {**asdict(notice), "right_ids": list(right_ids), "infringement_type": infringement_type.value},
            "rows": [[row.number, row.listing, row.evidence, row.problem] for row in rows],
        }
        return create_job(uow, BULK_NOTICE, user_id, holder_id, params, total=len(rows))


def run_bulk_job(app: Assay, job_id: int, *, should_stop: Callable[[], bool] = lambda: False) -> None:
    """File a queued bulk notice, saving progress after each part (done = rows settled), and
    resuming after the last part saved if the job ran before. Between parts, `should_stop()`
    returning True stops it (raising `Stopped`), to be resumed later."""
    with app.uow() as uow:
        job, params = get_job(uow, job_id), _params(uow, job_id)
    notice = params["notice"]
    rows = [BulkRow(*row) for row in params["rows"]]

    def checkpoint(uow: UnitOfWork, result: BulkResult) -> None:
        save_progress(uow, job_id, result.rows_done, result.to_json())

    def progress(done: int, total: int) -> None:
        if done < total and should_stop():
            raise Stopped(job_id)

    result = bulk_notices.file_bulk(
        app, actor=params["actor"], request_id=params["request_id"] or f"job:{job_id}", rows=rows,
        holder_id=notice["holder_id"], right_ids=notice["right_ids"],
        infringement_type=InfringementType(notice["infringement_type"]), explanation=notice["explanation"],
        good_faith=notice["good_faith"], accurate=notice["accurate"], signature=notice["signature"],
        chunk_rows=params["chunk_rows"], resume=BulkResult.from_json(job.result) if job.result else None,
        checkpoint=checkpoint, progress=progress,
    )
    _finish(app, job_id, JobStatus.DONE, done=result.rows_done, result=result.to_json())


class Stopped(Exception):
    """The runner is stopping: the job goes back to the queue, to resume where it stopped."""


Handler = Callable[..., None]
HANDLERS: dict[str, Handler] = {BULK_NOTICE: run_bulk_job}


# -- the runner -----------------------------------------------------------------------------------------------------

_runners: weakref.WeakSet[JobRunner] = weakref.WeakSet()


def _wake_runners() -> None:
    for runner in list(_runners):
        runner.wake()


class JobRunner:
    """Runs jobs in a background thread: woken when a job is queued in this process, and looking
    every `poll_seconds` for jobs queued elsewhere and for jobs left running by a process that
    stopped (their heartbeat older than `stale_after`)."""

    def __init__(self, app: Assay, *, poll_seconds: float = 5.0, stale_after: timedelta = timedelta(minutes=2),
                 handlers: Mapping[str, Handler] | None = None) -> None:
        self.app = app
        self.poll_seconds = poll_seconds
        self.stale_after = stale_after
        self.handlers = dict(HANDLERS if handlers is None else handlers)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread; it first takes up the jobs left queued, or running by a stopped process."""
        if self._thread is not None:
            return
        self._stopping.clear()
        _runners.add(self)
        self._thread = threading.Thread(target=self._loop, name="assay-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Stop after the part in flight; a job left unfinished goes back to the queue."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        _runners.discard(self)

    def wake(self) -> None:
        self._wake.set()

    def run_pending(self) -> int:
        """Run every job there is to run now, one after the other; how many ran."""
        ran = 0
        while not self._stopping.is_set() and (job := self._claim()) is not None:
            self._run(job)
            ran += 1
        return ran

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_pending()
            except Exception:  # the database is away, say: keep the thread alive and look again later
                log.exception("the job runner could not look for jobs")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def _claim(self) -> Job | None:
        """The next job to run, marked running by this runner. A job another runner claims first
        is left to it: the update finds it changed and claims nothing."""
        with self.app.uow("jobs") as uow:
            stale = uow.now - self.stale_after
            candidates = uow.session.execute(
                select(jobs.c.id, jobs.c.status, jobs.c.updated_at)
                .where(jobs.c.kind.in_(list(self.handlers)), or_(
                    jobs.c.status == JobStatus.QUEUED.value,
                    (jobs.c.status == JobStatus.RUNNING.value) & (jobs.c.updated_at <= stale)))
                .order_by(jobs.c.id)).all()
            for job_id, status, updated_at in candidates:
                claimed = uow.session.execute(update(jobs).where(
                    jobs.c.id == job_id, jobs.c.status == status, jobs.c.updated_at == updated_at,
                ).values(status=JobStatus.RUNNING.value, updated_at=uow.now)).rowcount
                uow.commit()
                if claimed:
                    return get_job(uow, job_id)
        return None

    def _run(self, job: Job) -> None:
        try:
            self.handlers[job.kind](self.app, job.id, should_stop=self._stopping.is_set)
        except Stopped:
            _finish(self.app, job.id, JobStatus.QUEUED)
        except DomainError as problem:  # the request could not go on, for a reason its client can act on
            _finish(self.app, job.id, JobStatus.FAILED, error=_short(str(problem)))
        except Exception as problem:
            log.exception("job %s (%s) failed", job.id, job.kind)
            _finish(self.app, job.id, JobStatus.FAILED, error=(
                f"the job stopped on an unexpected error ({type(problem).__name__}); it is in the server's log"))


def _short(message: str) -> str:
    return message if len(message) <= MAX_ERROR else message[:MAX_ERROR - 1] + "…"
