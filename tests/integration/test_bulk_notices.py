"""Bulk notices on a real database: the same outcome as filing through `file_notice`, and as
a reviewer removing the listings one by one; rows rejected by number, parts committed one by
one, jobs that report progress and resume."""

from __future__ import annotations

import codecs
import io
import time
from datetime import date, timedelta
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from tests.conftest import T0
from tests.integration.world import MARKET, World, build_world, earn_expedited_lane

from assay.domain.errors import FilingSuspended, NotFound, ValidationFailed
from assay.domain.notices import InfringementType, ItemState, Notice
from assay.services import bulk_notices, enrolment, jobs, notices
from assay.services.app import Assay
from assay.services.bulk_notices import BulkRow, file_bulk
from assay.services.marketplace import ensure_marketplace
from assay.store.audit_log import events_for, verify_log
from assay.store.bulk import insert_rows
from assay.store.tables import (
    audit_events,
    audit_head,
    listings,
    marketplaces,
    metadata,
    notice_items,
    rights_holders,
    sellers,
    statements_of_reasons,
    strikes,
    trademark_rights,
    users,
    webhook_events,
)
from assay.store.tables import (
    notices as notices_table,
)

NOTICE = dict(infringement_type=InfringementType.COUNTERFEIT, good_faith=True, accurate=True, signature="J. Doe",
              explanation="Replica of the Quorvex Stride 1 under the QUORVEX mark.")


def bulk(world: World, rows: list[BulkRow], **overrides: Any) -> bulk_notices.BulkResult:
    fields: dict[str, Any] = dict(NOTICE, actor=f"holder:{world.holder}", holder_id=world.holder,
                                  right_ids=[world.right], rows=rows)
    fields.update(overrides)
    return file_bulk(world.app, **fields)


def rows_of(*refs: str) -> list[BulkRow]:
    return [BulkRow(number, ref) for number, ref in enumerate(refs, start=2)]


# -- the same outcome as file_notice ------------------------------------------------------------------------------

def reset(engine: Engine) -> None:
    """Back to a freshly migrated database, ids starting again from 1."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())
        connection.execute(insert(audit_head).values(id=1, seq=0, hash="0" * 64))


def dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Everything filing a notice writes. Webhook message ids are random, so they are left out."""
    tables = (notices_table, notice_items, statements_of_reasons, strikes, listings, sellers, audit_events,
              audit_head, webhook_events)
    found = {}
    with engine.connect() as connection:
        for table in tables:
            key = table.c.seq if table is audit_events else table.c.id
            rows = connection.execute(select(table).order_by(key)).mappings()
            found[table.name] = [{k: v for k, v in row.items() if k != "message_id"} for row in rows]
    return found


def sweep_world(app: Assay, clock, *, expedited: bool = True) -> tuple[World, list[str]]:
    """A holder in the expedited lane and the listings of one sweep, chosen so that filing them
    takes every path: a warning, a restriction, a restriction lifted as old strikes age out, a
    storefront closed at its third strike with a linked account banned with it (their later
    listings already down when their rows come up), and rows rejected for each reason."""
    world = build_world(app)
    world.seller("aged", email="aged@mail.example")
    for ref in ("AGED-1", "AGED-2"):
        world.listing(ref, "aged")
        world.review(world.file(ref).item_ids[0])  # two strikes: restricted
    clock.advance(timedelta(days=400))  # ... which have aged out by now
    world.seller("one", email="one@mail.example")
    world.seller("two", email="two@mail.example")
    world.seller("ring-a", phone="+86 138 0013 8000")
    world.seller("ring-b", phone="0086 138 0013 8000")
    refs = {"one": ["ONE-1"], "two": ["TWO-1", "TWO-2"], "ring-a": ["RA-1", "RA-2", "RA-3", "RA-4", "RA-5"],
            "ring-b": ["RB-1"], "aged": ["AGED-3"]}
    for seller, listing_refs in refs.items():
        for ref in listing_refs:
            world.listing(ref, seller)
    world.file("TWO-2")  # in review: in an open item of this holder
    if expedited:
        earn_expedited_lane(world)
    order = ["ONE-1", "TWO-1", "RA-1", "AGED-3", "RA-2", "TWO-2", "RA-3", "RB-1", "RA-4", "NOPE", "AGED-1", "ONE-1"]
    return world, [f"{MARKET}:{ref}" for ref in order] + [str(world.listings["RA-5"])]


def test_a_bulk_notice_files_what_file_notice_files(app, engine, clock):
    """In one part, exactly the same rows and audit events, ids and hashes included. Cut into parts
    of three rows, the same items, strikes and closures: a listing its storefront's closure took
    down in an earlier part is still filed when its row comes up, as in one notice."""
    start = clock.now()
    world, refs = sweep_world(app, clock)
    with app.uow(f"holder:{world.holder}") as uow:
        reference = notices.file_notice(uow, holder_id=world.holder, right_ids=[world.right], listings=refs,
                                        evidence=[], **NOTICE)
    assert len(reference.removed) == 9 and len(reference.rejected) == 4
    expected, expected_outcome = dump(engine), outcome(engine)

    reset(engine)
    clock.set(start)
    world, refs = sweep_world(app, clock)
    result = bulk(world, rows_of(*refs), chunk_rows=len(refs))
    assert (result.notice_ids, result.filed, result.removed, result.queued) == ([reference.notice_id], 9, 9, 0)
    rejected = [
        (7, "already named in your open notice item 3"),
        (11, "not found"),
        (12, "already removed"),
        (13, "named twice in this upload (first at row 2)"),
    ]
    assert [(r.row, r.reason) for r in result.rejected] == rejected
    got = dump(engine)
    for table, rows in expected.items():
        assert got[table] == rows, table

    reset(engine)
    clock.set(start)
    world, refs = sweep_world(app, clock)
    with engine.connect() as connection:
        first_event = connection.execute(select(audit_head.c.seq)).scalar_one() + 1
    seen = []
    result = bulk(world, rows_of(*refs), chunk_rows=3, request_id="req-sweep",
                  progress=lambda done, total: seen.append((done, total)))
    assert seen == [(3, 13), (6, 13), (9, 13), (12, 13), (13, 13)]
    assert len(result.notice_ids) == 4  # the fourth part has no good row
    assert result.taken_down_early == [world.listings["RA-5"]]
    assert (result.filed, result.removed, [(r.row, r.reason) for r in result.rejected]) == (9, 9, rejected)
    assert outcome(engine) == expected_outcome
    with engine.connect() as connection:
        request_ids = set(connection.execute(
            select(audit_events.c.request_id).where(audit_events.c.seq >= first_event)).scalars())
    assert request_ids == {"req-sweep"}
    with app.uow() as uow:
        assert verify_log(uow.session)[1] is None


def test_removing_at_once_ends_as_a_reviewer_removing_one_by_one(app, engine, clock):
    """Filing in the expedited lane works out each seller's sanctions in memory, a part at a
    time; a reviewer's decision applies them through `sanctions`, one removal at a time. Both
    read the same policies, and must agree: the same sweep, removed at once or filed in the
    standard lane and then removed item by item, ends with the same listings down, strikes,
    warnings, restrictions, closures and linked bans, and statements of reasons."""
    start = clock.now()
    world, refs = sweep_world(app, clock)
    bulk(world, rows_of(*refs), chunk_rows=4)
    at_once = outcome(engine, leave_out="past-")

    reset(engine)
    clock.set(start)
    world, refs = sweep_world(app, clock, expedited=False)
    filed = world.file(listings=refs)
    assert filed.lane.value == "standard" and len(filed.queued) == 9
    for item_id in filed.item_ids:
        world.review(item_id)
    assert outcome(engine) == at_once
    assert any(status == "closed" for status, *_ in at_once["sellers"].values())  # the sweep reaches a closure


def outcome(engine: Engine, *, leave_out: str = "~") -> dict[str, Any]:
    """What a filing did, in terms that do not depend on how it was cut into notices: each
    listing's status and the states of its items, each seller's standing and strikes. Sellers
    whose reference starts with `leave_out` are left out, with their listings."""
    with engine.connect() as connection:
        seller_rows = connection.execute(select(sellers.c.id, sellers.c.seller_ref, sellers.c.status,
                                                sellers.c.sanction_level, sellers.c.ban_reason)
                                         .where(sellers.c.seller_ref.not_like(f"{leave_out}%"))).all()
        kept = [row.id for row in seller_rows]
        listing_rows = connection.execute(select(listings.c.id, listings.c.listing_ref, listings.c.status)
                                          .where(listings.c.seller_id.in_(kept))).all()
        items = connection.execute(select(notice_items.c.listing_id, notice_items.c.state)
                                   .order_by(notice_items.c.id)).all()
        strike_rows = connection.execute(select(strikes.c.seller_id)).scalars().all()
        measures = connection.execute(select(statements_of_reasons.c.measure)
                                      .where(statements_of_reasons.c.seller_id.in_(kept))).scalars().all()
    return {
        "listings": {ref: (status, [state for listing_id, state in items if listing_id == id_])
                     for id_, ref, status in listing_rows},
        "sellers": {ref: (status, level, reason, strike_rows.count(id_)) for id_, ref, status, level, reason in seller_rows},
        "statements": sorted(measures),
    }


# -- the audit log, written as each transaction commits ----------------------------------------------------------------

def test_rows_written_in_bulk_that_break_a_constraint_raise_an_integrity_error(engine):
    """PostgreSQL's COPY goes through the driver itself; its errors must read as SQLAlchemy's do,
    so that a lost race (two filings of one listing at once) answers 409, not 500."""
    with engine.begin() as connection:
        insert_rows(connection, marketplaces, [{"code": "twice", "name": "Twice"}])
    with pytest.raises(IntegrityError), engine.begin() as connection:
        insert_rows(connection, marketplaces, [{"code": "twice", "name": "Twice again"}])


def test_events_of_what_was_rolled_back_are_not_written(app):
    """Events wait for their transaction's commit, and go with it when it is rolled back: a whole
    transaction (even one that ran no SQL before), or a savepoint within one."""
    with app.uow("x") as uow:
        uow.record("case.abandoned", "case", 1)  # the unit of work ends without a commit
    with app.uow("x") as uow:
        uow.record("case.rolled_back", "case", 1)
        uow.session.rollback()
        uow.record("case.opened", "case", 1)
        savepoint = uow.session.begin_nested()
        uow.record("case.tried", "case", 1)
        savepoint.rollback()
        uow.record("case.closed", "case", 1)
        uow.commit()
    with app.uow() as uow:
        assert [event.action for event in events_for(uow.session, "case", 1)] == ["case.opened", "case.closed"]
        assert verify_log(uow.session) == (2, None)


# -- rows rejected by number, the others filed ----------------------------------------------------------------------

def upload(kind: str, rows: list[tuple[str, str]]) -> bytes:
    """The same rows as a person would upload them: CSV from Excel (a byte order mark and
    semicolons), tab-separated text, or an XLSX workbook."""
    header = ("Listing", "Evidence")
    if kind == "xlsx":
        workbook = openpyxl.Workbook()
        for row in [header, *rows]:
            workbook.active.append(row)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
    delimiter = ";" if kind == "csv" else "\t"
    text = "\r\n".join(delimiter.join(cells) for cells in [header, *rows]) + "\r\n"
    return (codecs.BOM_UTF8 if kind == "csv" else b"") + text.encode("utf-8")


@pytest.mark.parametrize("kind", ["csv", "tsv", "xlsx"])
def test_every_bad_row_is_reported_by_number_and_every_good_one_filed(app, kind):
    world = build_world(app)  # a new filer: its notices go to review
    world.seller("lux", email="lux@mail.example")
    for ref in ("L-1", "L-2", "L-3", "L-4", "L-5"):
        world.listing(ref, "lux")
    open_item = world.file("L-4").item_ids[0]
    world.review(world.file("L-5").item_ids[0])  # removed
    rows = [
        ("bazaar:L-1", "https://evidence.example/1"),   # 2 filed
        ("just-text", ""),                               # 3 malformed
        ("bazaar:NOPE", ""),                             # 4 not found
        (str(world.listings["L-2"]), "test purchase"),   # 5 filed, by Assay id
        ("bazaar:L-1", ""),                              # 6 named twice
        ("", "receipt 9"),                               # 7 no listing
        ("bazaar:L-4", ""),                              # 8 in an open item
        ("bazaar:L-5", ""),                              # 9 already removed
        ("ebay:L-3", ""),                                # 10 no such marketplace
        ("bazaar:L-3", ""),                              # 11 filed
    ]
    parsed = bulk_notices.read_rows(upload(kind, rows), filename=f"sweep.{kind}", content_type=None)
    result = bulk(world, parsed.rows)
    assert [(r.row, r.listing, r.reason) for r in result.rejected] == [
        (3, "just-text", "malformed: name the listing by its Assay id or as marketplace:listing_id"),
        (4, "bazaar:NOPE", "not found"),
        (6, "bazaar:L-1", "named twice in this upload (first at row 2)"),
        (7, "", "listing: empty; give an Assay id or marketplace:listing_id"),
        (8, "bazaar:L-4", f"already named in your open notice item {open_item}"),
        (9, "bazaar:L-5", "already removed"),
        (10, "ebay:L-3", "not found"),
    ]
    assert (result.filed, result.removed, result.queued, result.rows_done) == (3, 0, 3, 10)
    with app.uow() as uow:
        [notice] = [uow.repo.get(Notice, id_) for id_ in result.notice_ids]
        assert sorted(item.listing_id for item in notice.items) == sorted(
            world.listings[ref] for ref in ("L-1", "L-2", "L-3"))
        assert {item.state for item in notice.items} == {ItemState.IN_REVIEW}
        assert notice.evidence == ["bazaar:L-1: https://evidence.example/1",
                                   f"{world.listings['L-2']}: test purchase"]


def test_a_notice_lacking_its_elements_is_refused_whole(app, engine):
    world = build_world(app)
    world.seller("lux")
    world.listing("L-1", "lux")
    with app.uow("holder") as uow:
        pending = enrolment.add_right(uow, holder_id=world.holder, mark="QVX", office="EUIPO",
                                      registration_number="777", classes=["25"], categories=["footwear"],
                                      expires_on=date(2030, 1, 1))
    with pytest.raises(ValidationFailed) as refused:
        bulk(world, rows_of("bazaar:L-1"), right_ids=[world.right, pending, 999], signature=" ", good_faith=False)
    assert refused.value.problems == [
        "good_faith: state in good faith that the use is not authorised",
        "signature: sign the notice with your full name",
        f"rights: right {pending} (QVX) is pending, not verified",
        "rights: right 999 not found",
    ]
    with pytest.raises(ValidationFailed, match="listings: name at least one listing"):
        bulk(world, [])
    with engine.begin() as connection:
        assert connection.execute(select(func.count()).select_from(notices_table)).scalar_one() == 0
        connection.execute(update(rights_holders).values(suspended_until=T0 + timedelta(days=30)))
    with pytest.raises(FilingSuspended, match="suspended from filing until"):
        bulk(world, rows_of("bazaar:L-1"))


# -- a hundred thousand rows ------------------------------------------------------------------------------------------

def load_listings(app: Assay, count: int) -> list[str]:
    """`count` listings of 100 sellers, inserted in bulk: setting them up one use case at a time
    would take longer than filing them."""
    with app.uow("marketplace") as uow:
        ensure_marketplace(uow, MARKET)
        uow.commit()
    with app.engine.begin() as connection:
        market = connection.execute(select(marketplaces.c.id)).scalar_one()
        insert_rows(connection, sellers, [dict(
            marketplace_id=market, seller_ref=f"s-{n}", store_name=f"Store {n}", registered_at=T0, status="active",
            sanction_level=0, legal_name=None, email=None, phone=None, address=None, tax_id=None, payment_account=None,
        ) for n in range(100)])
        seller_ids = connection.execute(select(sellers.c.id).order_by(sellers.c.id)).scalars().all()
        insert_rows(connection, listings, [dict(
            marketplace_id=market, listing_ref=f"B-{n}", seller_id=seller_ids[n % 100], title=f"QUORVEX replica {n}",
            description="", category="footwear", price="9.90", currency="USD", images=[], image_hashes=[],
            created_at=T0, status="active", needs_scan=False) for n in range(count)])
    return [f"{MARKET}:B-{n}" for n in range(count)]


@pytest.mark.slow
def test_a_hundred_thousand_rows_with_bad_ones_among_them(app, backend, engine):
    """The most one notice may name, read from a CSV file and filed in parts. A hundred thousand
    on SQLite; ten thousand on PostgreSQL, where the same work takes longer and the paths are
    the same. A new filer's notices go to review: the expedited lane's work at scale is measured
    by bench/bulk_notice_bench.py, and its every path tested above on a small sweep."""
    size = 100_000 if backend.name == "sqlite" else 10_000
    world = build_world(app)
    refs = load_listings(app, size)
    bad = {n: f"{MARKET}:GONE-{n}" if n % 2 else refs[n - 1] for n in range(999, size, 1000)}
    lines = ["listing"] + [bad.get(n, ref) for n, ref in enumerate(refs)]
    parsed = bulk_notices.read_rows("\n".join(lines).encode(), filename="sweep.csv", content_type="text/csv")
    assert len(parsed.rows) == size
    with engine.connect() as connection:
        events_before = connection.execute(select(audit_head.c.seq)).scalar_one()

    result = bulk(world, parsed.rows)

    assert result.rows_done == size and result.filed == size - len(bad) == result.queued
    assert len(result.notice_ids) == size // bulk_notices.CHUNK_ROWS
    assert [(r.row, r.reason.split(" (")[0]) for r in result.rejected] == [
        (n + 2, "not found" if n % 2 else "named twice in this upload") for n in sorted(bad)]
    with engine.connect() as connection:
        items = connection.execute(select(func.count(), func.count(func.distinct(notice_items.c.listing_id)))
                                   .where(notice_items.c.state == ItemState.IN_REVIEW.value)).one()
        head, last = connection.execute(select(audit_head.c.seq, audit_head.c.hash)).one(), connection.execute(
            select(audit_events.c.seq, audit_events.c.hash).order_by(audit_events.c.seq.desc()).limit(1)).one()
    assert tuple(items) == (result.filed, result.filed)
    assert head.seq - events_before == len(result.notice_ids) + 2 * result.filed  # filed, then queued
    assert tuple(head) == tuple(last)


# -- jobs ---------------------------------------------------------------------------------------------------------------

class PowerCut(BaseException):
    """The process dies: nothing of it runs any more (no except clause of its own catches this)."""


def account(engine: Engine, holder_id: int) -> int:
    with engine.begin() as connection:
        return connection.execute(insert(users).values(
            email="bp@quorvex.example", display_name="B. P.", password_hash="-", role="holder", holder_id=holder_id,
            created_at=T0).returning(users.c.id)).scalar_one()


class Sweeps:
    """A filer with an account, queueing bulk notices of fresh listings (of which one is not found)."""

    def __init__(self, app: Assay, engine: Engine) -> None:
        self.app = app
        self.world = build_world(app)
        self.world.seller("lux")
        self.user = account(engine, self.world.holder)

    def queue(self, count: int = 12, chunk_rows: int = 4) -> int:
        refs = []
        for n in range(len(self.world.listings), len(self.world.listings) + count):
            self.world.listing(f"L-{n}", "lux")
            refs.append(f"{MARKET}:L-{n}")
        refs[5] = f"{MARKET}:NOPE"
        return jobs.queue_bulk_notice(self.app, actor=f"holder:{self.world.holder}", user_id=self.user,
                                      holder_id=self.world.holder, right_ids=[self.world.right], rows=rows_of(*refs),
                                      chunk_rows=chunk_rows, **NOTICE)


def job(app: Assay, job_id: int) -> jobs.Job:
    with app.uow() as uow:
        return jobs.get_job(uow, job_id)


def test_a_job_reports_its_progress_and_resumes_after_a_crash(app, engine, clock, monkeypatch):
    sweeps = Sweeps(app, engine)
    job_id = sweeps.queue()
    assert (job(app, job_id).status, job(app, job_id).done, job(app, job_id).total) == (jobs.JobStatus.QUEUED, 0, 12)

    file_part = bulk_notices._file_part
    parts = []

    def failing_third(*args: Any, **kwargs: Any) -> Any:
        parts.append(1)
        if len(parts) == 3:
            raise PowerCut
        return file_part(*args, **kwargs)

    monkeypatch.setattr(bulk_notices, "_file_part", failing_third)
    with pytest.raises(PowerCut):
        jobs.JobRunner(app).run_pending()
    monkeypatch.setattr(bulk_notices, "_file_part", file_part)
    crashed = job(app, job_id)
    assert (crashed.status, crashed.done) == (jobs.JobStatus.RUNNING, 8)
    assert len(crashed.result["notice_ids"]) == 2 and crashed.result["rejected"] == [[7, f"{MARKET}:NOPE", "not found"]]

    assert jobs.JobRunner(app).run_pending() == 0  # its heartbeat is fresh: it may be alive elsewhere
    clock.advance(timedelta(minutes=3))
    assert jobs.JobRunner(app).run_pending() == 1
    finished = job(app, job_id)
    assert (finished.status, finished.done, finished.error) == (jobs.JobStatus.DONE, 12, None)
    result = bulk_notices.BulkResult.from_json(finished.result)
    assert (result.filed, result.queued, len(result.notice_ids)) == (11, 11, 3)
    assert result.rejected == [bulk_notices.RejectedRow(7, f"{MARKET}:NOPE", "not found")]
    with engine.connect() as connection:
        filed = connection.execute(select(notice_items.c.listing_id)).scalars().all()
    assert sorted(filed) == sorted(id_ for ref, id_ in sweeps.world.listings.items() if ref != "L-5")


def test_the_runner_wakes_for_a_new_job_and_a_stop_puts_it_back_in_the_queue(app, engine, monkeypatch):
    sweeps = Sweeps(app, engine)
    runner = jobs.JobRunner(app, poll_seconds=60)
    runner.start()
    try:
        job_id = sweeps.queue(count=6)
        for _ in range(200):  # long before the next poll, a minute away
            if job(app, job_id).status is jobs.JobStatus.DONE:
                break
            time.sleep(0.05)
        assert job(app, job_id).status is jobs.JobStatus.DONE
    finally:
        runner.stop()

    file_part = bulk_notices._file_part
    stopping = jobs.JobRunner(app)

    def stop_after_one(*args: Any, **kwargs: Any) -> Any:
        stopping._stopping.set()  # as stop() does, from another thread
        return file_part(*args, **kwargs)

    monkeypatch.setattr(bulk_notices, "_file_part", stop_after_one)
    second = sweeps.queue(chunk_rows=4)
    stopping.run_pending()
    assert (job(app, second).status, job(app, second).done) == (jobs.JobStatus.QUEUED, 4)


def test_a_job_that_cannot_go_on_fails_with_a_short_message(app, engine):
    sweeps = Sweeps(app, engine)
    job_id = sweeps.queue()
    with engine.begin() as connection:
        connection.execute(update(trademark_rights).values(status="rejected"))
    jobs.JobRunner(app).run_pending()
    failed = job(app, job_id)
    assert failed.status is jobs.JobStatus.FAILED
    assert failed.error == f"rights: right {sweeps.world.right} (QUORVEX) is rejected, not verified"

    with engine.begin() as connection:
        connection.execute(update(trademark_rights).values(status="verified"))
    second = sweeps.queue()

    def broken(app: Assay, job_id: int, **_: Any) -> None:
        raise RuntimeError("disk full at /var/lib/secret/path")

    jobs.JobRunner(app, handlers={jobs.BULK_NOTICE: broken}).run_pending()
    failed = job(app, second)
    assert failed.status is jobs.JobStatus.FAILED
    assert failed.error == "the job stopped on an unexpected error (RuntimeError); it is in the server's log"
    with app.uow() as uow, pytest.raises(NotFound, match="job 999 not found"):
        jobs.get_job(uow, 999)
