"""Bulk notices: one notice naming up to 100,000 listings, sent as JSON rows or as an
uploaded CSV or XLSX file.

Reading (`read_rows`, `json_rows`) turns the upload into rows, each with the number a
person finds it by. Filing (`file_bulk`) checks the notice's own elements once, then every
row, and files the good rows in parts of `CHUNK_ROWS`: each part is a notice of its own,
filed in its own transaction, so progress can be reported and a crash loses at most the
part in flight. The parts of one filing share its request id in the audit log, and the
result (and the job that runs it, see `jobs.py`) lists their notices.

A part is filed exactly as `notices.file_notice` files a notice (the same rows, statements
of reasons, strikes, sanctions, webhook events and audit events, in the same order) but
written in a few statements per table instead of a few per listing; see `_Filing`.
"""

from __future__ import annotations

import codecs
import csv
import io
import uuid
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from itertools import chain, repeat
from typing import Any

import openpyxl
from sqlalchemy import bindparam, update

from assay.domain import statements
from assay.domain.errors import DomainError, FilingSuspended, ValidationFailed
from assay.domain.identity import IdentityKey
from assay.domain.model import ListingStatus, RightsHolder, SellerStatus, TrademarkRight
from assay.domain.notices import InfringementType, Lane, Notice, NoticeItem, NoticeSource, missing_elements
from assay.domain.policies import SanctionLevel, Strike, choose_lane, filer_record, linked_accounts, sanction_level
from assay.domain.reasons import Measure
from assay.services import webhooks
from assay.services.app import Assay
from assay.services.sanctions import _ESCALATION, _describe
from assay.services.snapshots import jsonable, snapshot
from assay.store.tables import notice_items, sellers, statements_of_reasons, strikes, webhook_events
from assay.store.uow import UnitOfWork

MAX_ROWS = 100_000
MAX_BYTES = 32 * 1024 * 1024  # the API passes its own setting
CHUNK_ROWS = 5_000
MAX_EVIDENCE = 2_000  # characters of evidence in one row
MAX_REFERENCE = 500  # characters of a listing reference: a marketplace code and its id
MAX_ID = 2**31 - 1  # ids are 32-bit integers in the store
COLUMNS = ("listing", "evidence")
DELIMITERS = ",;\t|"
SNIFF_CHARS = 64 * 1024
MAX_UNPACKED = 512 * 1024 * 1024  # bytes an XLSX upload may unpack to
OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")  # the start of an XLS (Excel 97-2003) file
XLSX_TYPES = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
EXPEDITED_DECIDER = "assay:expedited-lane"  # as `notices.file_notice` names it


class TooLarge(DomainError):
    """The upload is over a limit: too many bytes or too many rows."""


# -- rows -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BulkRow:
    """One listing named in the upload. `number` is where a person finds the row: in a file,
    its row as a spreadsheet shows it (the header is row 1, so the first listing is row 2);
    in JSON rows, its 1-based position in the array. `problem` is set when the row itself
    is malformed, and it is then rejected with that reason."""

    number: int
    listing: str
    evidence: str = ""
    problem: str | None = None


@dataclass(frozen=True)
class ParsedRows:
    rows: list[BulkRow]
    format: str  # csv, xlsx or json


def read_rows(
    data: bytes, *, filename: str | None, content_type: str | None, max_bytes: int | None = None,
) -> ParsedRows:
    """Rows from an uploaded CSV (UTF-8, with or without a byte order mark; the delimiter is one
    of , ; tab |) or XLSX file (its first sheet). The first row is a header naming the columns:
    `listing` (an Assay id or `marketplace:listing_id`) and, optionally, `evidence` (a URL or a
    text). Raises TooLarge over `max_bytes` or MAX_ROWS rows, ValidationFailed for a file that
    cannot be read, saying what is wrong with it."""
    limit = max_bytes or MAX_BYTES
    if len(data) > limit:
        raise TooLarge(f"the file has {len(data):,} bytes; at most {limit:,} are accepted")
    if not data.strip():
        raise ValidationFailed(["file: it is empty; the first row must be a header naming the columns "
                                "listing and evidence"])
    if data.startswith(OLE_MAGIC):
        raise ValidationFailed(["file: an XLS workbook (Excel 97-2003); save it as XLSX, or as CSV UTF-8"])
    if _is_xlsx(data, filename, content_type):
        return ParsedRows(_read_xlsx(data), "xlsx")
    return ParsedRows(_read_csv(data), "csv")


def json_rows(items: Sequence[Mapping[str, Any]]) -> ParsedRows:
    """Rows sent as JSON, already parsed: `[{"listing": ..., "evidence": ...}, ...]`. A row's
    number is its 1-based position in the array."""
    if len(items) > MAX_ROWS:
        raise TooLarge(f"{len(items):,} rows; at most {MAX_ROWS:,} listings in one bulk notice, split them")
    problems = []
    rows = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            problems.append(f"row {number}: expected an object with the fields listing and evidence")
            continue
        unknown = sorted(set(item) - set(COLUMNS))
        if unknown:
            problems.append(f"row {number}: unknown field{'s' if len(unknown) > 1 else ''} "
                            f"{', '.join(map(repr, unknown))}; the fields are listing and evidence")
            continue
        listing, evidence = item.get("listing"), item.get("evidence")
        if isinstance(listing, bool) or not isinstance(listing, (str, int, type(None))):
            rows.append(BulkRow(number, str(listing), problem="listing: give an Assay id or marketplace:listing_id"))
        elif evidence is not None and not isinstance(evidence, str):
            rows.append(BulkRow(number, str(listing), problem="evidence: give a URL or a text"))
        else:
            rows.append(_row(number, "" if listing is None else str(listing), evidence or ""))
    if problems:
        raise ValidationFailed(problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else []))
    return ParsedRows(rows, "json")


def _row(number: int, listing: str, evidence: str, extra: Sequence[str] = ()) -> BulkRow:
    listing, evidence = listing.strip(), evidence.strip()
    problem = None
    if any(cell.strip() for cell in extra):
        problem = "the row has more cells than the header names columns"
    elif not listing:
        problem = "listing: empty; give an Assay id or marketplace:listing_id"
    elif "\x00" in listing or "\x00" in evidence:
        problem = "the row holds a NUL character, which no listing reference or evidence has"
    elif len(listing) > MAX_REFERENCE:
        problem = f"listing: {len(listing):,} characters, at most {MAX_REFERENCE}"
    elif len(evidence) > MAX_EVIDENCE:
        problem = f"evidence: {len(evidence):,} characters, at most {MAX_EVIDENCE:,}"
    return BulkRow(number, listing, evidence, problem)


def _is_xlsx(data: bytes, filename: str | None, content_type: str | None) -> bool:
    """By what the file says it is, or by its first bytes (an XLSX file is a zip archive)."""
    declared = (filename or "").lower().endswith((".xlsx", ".xlsm")) or (content_type or "").split(";")[0] in XLSX_TYPES
    return declared or data.startswith(b"PK\x03\x04")


def _read_csv(data: bytes) -> list[BulkRow]:
    text = _decode(data)
    delimiter = _sniff_delimiter(text[:SNIFF_CHARS])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[BulkRow] = []
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            if not any(cell.strip() for cell in cells):
                continue  # a blank line: a spreadsheet shows an empty row, and counts it
            if header is None:
                header = _header(cells)
                continue
            rows.append(_cells_row(number, header, cells))
            _check_row_count(len(rows))
    except csv.Error as problem:
        raise ValidationFailed([f"row {number + 1}: not readable as CSV ({problem})"]) from None
    return _require_header(header, rows)


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ValidationFailed(["file: it is UTF-16 text; save it as CSV UTF-8"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        line = data[:problem.start].count(b"\n") + 1
        raise ValidationFailed([
            f"file: not UTF-8 text (byte 0x{data[problem.start]:02x} on line {line}); save it as CSV UTF-8"
        ]) from None


def _sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the header into the known column names; failing that (a header
    of one column, or of unknown names), the one `csv.Sniffer` finds in the sample, or a comma.
    The header decides first because the Sniffer, counting delimiters line by line, is easily
    misled by a few rows (a quoted cell holding a delimiter, say)."""
    header = next((line for line in sample.splitlines() if line.strip()), "")
    for delimiter in DELIMITERS:
        names = [cell.strip().strip('"').lower() for cell in header.split(delimiter)]
        if len(names) > 1 and set(names) <= set(COLUMNS):
            return delimiter
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","  # a single column has no delimiter to find


def _read_xlsx(data: bytes) -> list[BulkRow]:
    try:
        _check_unpacked_size(data)
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as problem:
        raise ValidationFailed([f"file: not a readable XLSX workbook ({problem})"]) from None
    header: list[str] | None = None
    rows: list[BulkRow] = []
    try:
        for number, values in enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1):
            cells = [_cell_text(value) for value in values]
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = _header(cells)
                continue
            rows.append(_cells_row(number, header, cells))
            _check_row_count(len(rows))
    except DomainError:
        raise
    except Exception as problem:  # openpyxl raises many kinds on a damaged sheet
        raise ValidationFailed([f"file: the XLSX workbook is damaged ({type(problem).__name__}: {problem})"]) from None
    finally:
        workbook.close()
    return _require_header(header, rows)


def _check_unpacked_size(data: bytes) -> None:
    """An XLSX file is a zip archive, read whole as it unpacks: refuse one that would unpack to far
    more than any sheet of 100,000 rows needs (a "zip bomb"), before unpacking it."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = sum(member.file_size for member in archive.infolist())
    if unpacked > MAX_UNPACKED:
        raise TooLarge(f"the workbook unpacks to {unpacked:,} bytes; at most {MAX_UNPACKED:,} are accepted")


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an id typed into a spreadsheet is a number
    return str(value)


def _header(cells: list[str]) -> list[str]:
    written = [cell.strip() for cell in cells]
    while written and not written[-1]:
        written.pop()
    names = [name.lower() for name in written]
    problems = []
    unknown = [name for name in written if name and name.lower() not in COLUMNS]
    if unknown:
        problems.append(f"header: unknown column{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                        "the columns are listing (required) and evidence (optional)")
    if "" in names:
        problems.append(f"header: column {names.index('') + 1} has no name")
    problems += [f"header: the column {name!r} appears twice" for name in COLUMNS if names.count(name) > 1]
    if "listing" not in names and not unknown:
        problems.append("header: no 'listing' column; the first row must name the columns listing and evidence")
    if problems:
        raise ValidationFailed(problems)
    return names


def _cells_row(number: int, header: list[str], cells: list[str]) -> BulkRow:
    named = dict(zip(header, cells, strict=False))
    return _row(number, named.get("listing", ""), named.get("evidence", ""), cells[len(header):])


def _check_row_count(count: int) -> None:
    if count > MAX_ROWS:
        raise TooLarge(f"more than {MAX_ROWS:,} rows; at most {MAX_ROWS:,} listings in one bulk notice, split the file")


def _require_header(header: list[str] | None, rows: list[BulkRow]) -> list[BulkRow]:
    if header is None:
        raise ValidationFailed(["file: no rows; the first row must be a header naming the columns listing and evidence"])
    return rows


# -- the result -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RejectedRow:
    row: int
    listing: str
    reason: str


@dataclass
class BulkResult:
    """Where a bulk filing stands: `rows_done` rows are settled (filed or rejected), in order.
    `taken_down_early` are listings named further down that the filing itself took down
    before their rows came up (their storefront was closed): they are filed all the same."""

    total: int
    rows_done: int = 0
    notice_ids: list[int] = field(default_factory=list)
    filed: int = 0
    removed: int = 0
    queued: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    taken_down_early: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "rejected": [[r.row, r.listing, r.reason] for r in self.rejected]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BulkResult:
        return cls(**{**data, "rejected": [RejectedRow(*entry) for entry in data["rejected"]]})


@dataclass(frozen=True)
class NoticeFields:
    """What every notice of a bulk filing says: its elements but the listings."""

    holder_id: int
    right_ids: tuple[int, ...]
    infringement_type: InfringementType
    explanation: str
    good_faith: bool
    accurate: bool
    signature: str


Progress = Callable[[int, int], None]
Checkpoint = Callable[[UnitOfWork, BulkResult], None]


# -- filing -----------------------------------------------------------------------------------------------------

def file_bulk(
    app: Assay, *, actor: str, holder_id: int, right_ids: Sequence[int], infringement_type: InfringementType,
    explanation: str, good_faith: bool, accurate: bool, signature: str, rows: Sequence[BulkRow],
    request_id: str | None = None, progress: Progress | None = None, chunk_rows: int = CHUNK_ROWS,
    resume: BulkResult | None = None, checkpoint: Checkpoint | None = None,
) -> BulkResult:
    """File one notice naming many listings, in parts of `chunk_rows` rows.

    A notice lacking one of its elements (a right that is not verified, no signature...) is
    refused as a whole with ValidationFailed listing every problem, before anything is filed:
    filing thousands of incomplete notices would help no one. Rows that cannot be filed (a
    malformed reference, a listing not found, named twice in this upload, already removed,
    already in an open item of this rights holder) are rejected one by one, by row number;
    the others are filed. As in one notice, every row is checked before its listing could be
    taken down by the filing itself (its storefront closed for the strikes of earlier rows).

    Each part commits on its own: `checkpoint(uow, result)` runs inside each part's transaction
    (a job saves its progress there), `progress(rows_done, total)` after it commits.
    `resume` continues a filing from the result saved after its last committed part."""
    notice = NoticeFields(holder_id, tuple(right_ids), infringement_type, explanation, good_faith, accurate, signature)
    result = resume or BulkResult(total=len(rows))
    with app.uow(actor, request_id) as uow:
        check_notice(uow, notice, has_listings=bool(rows))
        verdicts = _check_rows(uow, rows)
    named = {verdict for verdict in verdicts if isinstance(verdict, int)}
    while result.rows_done < len(rows):
        part = range(result.rows_done, min(result.rows_done + chunk_rows, len(rows)))
        with app.uow(actor, request_id) as uow:
            result = _file_part(uow, notice, [(rows[i], verdicts[i]) for i in part], result, named)
            if checkpoint is not None:
                checkpoint(uow, result)
            uow.commit()
        if progress is not None:
            progress(result.rows_done, result.total)
    return result


def check_notice(uow: UnitOfWork, notice: NoticeFields, *, has_listings: bool = True) -> list[TrademarkRight]:
    """The elements `notices.file_notice` checks, raising instead of filing an incomplete notice.
    Returns the rights invoked."""
    holder = uow.repo.get(RightsHolder, notice.holder_id)
    if holder.is_suspended(uow.now):
        raise FilingSuspended(
            f"{holder.name} is suspended from filing until {holder.suspended_until.isoformat(timespec='minutes')} "
            "for repeatedly filing manifestly unfounded notices"
        )
    problems = missing_elements(right_ids=list(notice.right_ids), explanation=notice.explanation,
                                good_faith=notice.good_faith, accurate=notice.accurate, signature=notice.signature,
                                listing_refs=["rows"] if has_listings else [])
    found = uow.repo.rights(notice.right_ids)
    rights = []
    for right_id in notice.right_ids:
        right = found.get(right_id)
        if right is None:
            problems.append(f"rights: right {right_id} not found")
        elif right.holder_id != notice.holder_id:
            problems.append(f"rights: right {right_id} belongs to another rights holder")
        else:
            rights.append(right)
            if not right.is_usable(uow.now):
                problems.append(f"rights: {right.unusable_reason(uow.now)}")
    if problems:
        raise ValidationFailed(problems)
    return rights


Verdict = int | str  # the listing's id, or why the row is rejected


def _check_rows(uow: UnitOfWork, rows: Sequence[BulkRow]) -> list[Verdict]:
    """What can be said of each row before filing: its listing, or why it cannot be named.
    A listing named again is rejected at every row after the first that names it."""
    keys = [_listing_key(row.listing) if row.problem is None else None for row in rows]
    by_id = uow.repo.existing_listing_ids(key for key in keys if isinstance(key, int))
    by_ref = uow.repo.listing_ids_by_ref(key for key in keys if isinstance(key, tuple))
    first_row: dict[int, int] = {}
    verdicts: list[Verdict] = []
    for row, key in zip(rows, keys, strict=True):
        listing_id = key if isinstance(key, int) and key in by_id else by_ref.get(key)  # type: ignore[arg-type]
        if row.problem is not None:
            verdicts.append(row.problem)
        elif key is None:
            verdicts.append("malformed: name the listing by its Assay id or as marketplace:listing_id")
        elif listing_id is None:
            verdicts.append("not found")
        elif listing_id in first_row:
            verdicts.append(f"named twice in this upload (first at row {first_row[listing_id]})")
        else:
            first_row[listing_id] = row.number
            verdicts.append(listing_id)
    return verdicts


def _listing_key(reference: str) -> int | tuple[str, str] | None:
    if reference.isascii() and reference.isdigit():
        number = int(reference)
        return number if number <= MAX_ID else 0  # past the ids the store gives: id 0, which no listing has
    marketplace, _, ref = reference.partition(":")
    return (marketplace, ref) if marketplace and ref else None


def _file_part(
    uow: UnitOfWork, notice: NoticeFields, part: list[tuple[BulkRow, Verdict]], before: BulkResult, named: set[int],
) -> BulkResult:
    """File the good rows of one part as one notice; the result as it stands after this part.
    `named` are the listings the whole upload names."""
    rights = check_notice(uow, notice)
    listing_ids = [verdict for _, verdict in part if isinstance(verdict, int)]
    found = uow.repo.listing_rows(listing_ids)
    open_items = uow.repo.open_items_by_listing(notice.holder_id, listing_ids)
    early = set(before.taken_down_early)
    rejected = list(before.rejected)
    accepted: list[tuple[BulkRow, _Listing]] = []
    for row, verdict in part:
        if isinstance(verdict, str):
            rejected.append(RejectedRow(row.number, row.listing, verdict))
        elif found[verdict].status is ListingStatus.REMOVED and verdict not in early:
            rejected.append(RejectedRow(row.number, row.listing, "already removed"))
        elif (item_id := open_items.get(verdict)) is not None:
            rejected.append(RejectedRow(row.number, row.listing, f"already named in your open notice item {item_id}"))
        else:
            accepted.append((row, _Listing(**found[verdict]._mapping)))
    result = replace(before, rows_done=before.rows_done + len(part), rejected=rejected)
    if not accepted:
        return result
    filing = _Filing(uow, notice, rights, accepted)
    filing.file()
    here = set(listing_ids)
    later = {id_ for id_ in filing.closed_listings if id_ in named and id_ not in here}
    return replace(result, notice_ids=[*result.notice_ids, filing.notice.id], filed=result.filed + len(accepted),
                   removed=result.removed + filing.removed, queued=result.queued + filing.queued,
                   taken_down_early=sorted(early | later))


# -- one part, filed in batches ---------------------------------------------------------------------------------

@dataclass(slots=True)
class _Listing:
    id: int
    marketplace_id: int
    listing_ref: str
    seller_id: int
    title: str
    status: ListingStatus


@dataclass(slots=True)
class _Seller:
    id: int
    marketplace_id: int
    seller_ref: str
    store_name: str
    status: SellerStatus
    banned_at: datetime | None
    ban_reason: str | None
    sanction_level: int


@dataclass(slots=True)
class _Event:
    action: str
    entity_type: str
    entity_id: object
    before: dict[str, Any] | None = None
    after: dict[str, Any] | Callable[[], dict[str, Any]] | None = None
    reason: str | None = None


class _Filing:
    """One part of a bulk notice, filed as `notices.file_notice` files a notice: the same rows and
    audit events, in the same order, with the same ids (the equivalence is tested). What differs
    is the writing. `file_notice` goes through the ORM listing by listing, a few round trips each;
    here rows are collected in memory, then inserted a table at a time, listings and sellers
    updated in a few statements, the audit events chained as the transaction commits.

    The expedited lane applies `sanctions.apply_sanctions` to the seller as each strike lands:
    a warning, a restriction, a restriction lifted, or the storefront closed with every account
    linked to it (`close_and_ban`). That is worked out here from the same pure policies, on what
    was read of the sellers, their strikes, listings and identity keys in a few queries.

    Domain objects of mapped classes cost tens of microseconds each to build (every attribute set
    is instrumented), so those that are alike across a part (the items' states, the strikes, the
    removal statements) are built once, as templates, and copied row by row."""

    def __init__(self, uow: UnitOfWork, notice: NoticeFields, rights: list[TrademarkRight],
                 accepted: list[tuple[BulkRow, _Listing]]) -> None:
        self.uow = uow
        self.fields = notice
        self.rights = rights
        self.accepted = accepted
        self.holder = uow.repo.get(RightsHolder, notice.holder_id)
        self.removed = self.queued = 0
        # collected in the order file_notice writes them
        self.events: list[_Event] = []
        self.items: list[dict[str, Any]] = []
        self.statements: list[dict[str, Any]] = []
        self.strikes: list[dict[str, Any]] = []
        self.outbox: list[dict[str, Any]] = []
        self.taken_down: list[int] = []
        self.closed_listings: list[int] = []  # taken down with their storefront
        self.changed_sellers: set[int] = set()

    def file(self) -> None:
        uow = self.uow
        lane, reasons = self._lane()
        self.reason = "; ".join(reasons)
        self.notice = Notice(
            holder_id=self.fields.holder_id, right_ids=list(self.fields.right_ids),
            infringement_type=self.fields.infringement_type, explanation=self.fields.explanation.strip(),
            evidence=[f"{row.listing}: {row.evidence}" for row, _ in self.accepted if row.evidence],
            good_faith=self.fields.good_faith, accurate=self.fields.accurate, signature=self.fields.signature.strip(),
            filed_at=uow.now, filed_by=uow.actor, source=NoticeSource.NOTICE, lane=lane,
        )
        uow.repo.add(self.notice)
        uow.flush()
        uow.record("notice.filed", "notice", self.notice.id, after=snapshot(self.notice), reason=self.reason)
        self.item_ids = iter(uow.repo.reserve_ids(notice_items, len(self.accepted)))
        self._item_template(lane)
        if lane is Lane.EXPEDITED:
            self._file_expedited()
        else:
            for _, listing in self.accepted:
                self._item(listing)
                self.queued += 1
        self._write()

    def _lane(self) -> tuple[Lane, tuple[str, ...]]:
        """`choose_lane` on the filer's record, counted by the database rather than loaded item by
        item: `filer_record` reads each decided item's state and whether it was contested, so one
        item of each kind, repeated as many times as there are, tells it the same."""
        uow = self.uow
        since = uow.now - uow.policy.record_window
        counted = uow.repo.decided_since_by_state(self.fields.holder_id, since)
        items = chain.from_iterable(
            repeat(NoticeItem(listing_id=0, seller_id=0, holder_id=self.fields.holder_id, filed_at=since, state=state,
                              decided_at=since, contested_at=since if contested else None), count)
            for state, contested, count in counted)
        choice = choose_lane(self.holder, self.rights, filer_record(items, uow.now, uow.policy), uow.now, uow.policy)
        return choice.lane, choice.reasons

    # -- items ------------------------------------------------------------------------------------------------
    def _item_template(self, lane: Lane) -> None:
        """Every item of the part is filed, then takes the lane's step, at the same moment."""
        uow = self.uow
        item = NoticeItem(listing_id=0, seller_id=0, holder_id=self.fields.holder_id, filed_at=uow.now,
                          notice_id=self.notice.id)
        self.filed_snapshot = snapshot(item, "listing_id", "seller_id", "state")
        if lane is Lane.EXPEDITED:
            transition = item.remove_at_once(uow.now, uow.policy.windows)
        else:
            transition = item.queue_for_review(uow.now, uow.policy.windows)
        self.step = (f"item.{transition.step.value}", {"state": transition.before.value},
                     {"state": transition.after.value})
        self.item_row = {column.name: getattr(item, column.name) for column in notice_items.columns}
        self.counter_notice_until = item.counter_notice_until

    def _item(self, listing: _Listing) -> int:
        """The item's row, in its state after the lane's step, and its events: filed, then the step."""
        item_id = next(self.item_ids)
        self.items.append({**self.item_row, "id": item_id, "listing_id": listing.id, "seller_id": listing.seller_id})
        action, before, after = self.step
        self.events.append(_Event("item.filed", "notice_item", item_id, after={
            **self.filed_snapshot, "listing_id": listing.id, "seller_id": listing.seller_id}))
        self.events.append(_Event(action, "notice_item", item_id, before=before, after=after, reason=self.reason))
        return item_id

    # -- the expedited lane: every listing down at once, a strike on its seller ----------------------------------
    def _file_expedited(self) -> None:
        self._read_sellers()
        self._removal_templates()
        for _, listing in self.accepted:
            item_id = self._item(listing)
            self._take_down(listing, reason=f"notice {self.notice.id}, item {item_id}", item_id=item_id)
            self.statements.append({**self.removal_row, "scope": statements._listing_scope(listing),  # type: ignore[arg-type]
                                    "seller_id": listing.seller_id, "item_id": item_id, "listing_id": listing.id})
            self._strike(item_id, listing.seller_id)
            self.removed += 1

    def _read_sellers(self) -> None:
        """What sanctioning the part's sellers may need: their standing, strikes, listings, and the
        accounts their identity keys link them to (read beyond those as a closure reaches them)."""
        repo = self.uow.repo
        seller_ids = {listing.seller_id for _, listing in self.accepted}
        self.sellers = {id_: _Seller(**row._mapping) for id_, row in repo.seller_rows(seller_ids).items()}
        self.strikes_held = repo.strikes_of_sellers(id_ for id_, s in self.sellers.items() if s.banned_at is None)
        self.markets = repo.marketplace_codes()
        self.listings = {listing.id: listing for _, listing in self.accepted}
        self.listings_of = self._load_listings_of(seller_ids)
        self.keys = self._identity_keys(seller_ids)
        self.holders = repo.holders_of_keys(chain.from_iterable(self.keys.values()))
        self.keys.update(self._identity_keys(set(chain.from_iterable(self.holders.values())) - set(self.keys)))

    def _identity_keys(self, seller_ids: set[int]) -> dict[int, frozenset[IdentityKey]]:
        return {seller_id: frozenset() for seller_id in seller_ids} | self.uow.repo.identity_keys_of(seller_ids)

    def _removal_templates(self) -> None:
        """The strike and the removal statement, which differ from listing to listing only in their
        seller, item and listing (and the statement in its scope); the policies read a strike's
        kind and dates alone."""
        uow = self.uow
        self.strike_ids = iter(uow.repo.reserve_ids(strikes, len(self.accepted)))
        self.new_strike = Strike(seller_id=0, item_id=0, kind=self.fields.infringement_type, issued_at=uow.now, id=0)
        self.strike_snapshot = snapshot(self.new_strike)
        _, first = self.accepted[0]
        removal = statements.removal(self.notice, _ItemFacts(0, first.seller_id, self.counter_notice_until),  # type: ignore[arg-type]
                                     first, self.rights, self.holder.name, EXPEDITED_DECIDER, uow.now)  # type: ignore[arg-type]
        self.removal_row = _statement_row(removal)
        self.sanction_rows: dict[tuple[Measure, str], dict[str, Any]] = {}

    def _load_listings_of(self, seller_ids: Iterable[int]) -> dict[int, list[_Listing]]:
        """Every listing of these sellers, in the order of their ids: what a closure takes down."""
        found: dict[int, list[_Listing]] = {}
        for row in self.uow.repo.listing_rows_of_sellers(seller_ids):
            if (listing := self.listings.get(row.id)) is None:
                listing = self.listings[row.id] = _Listing(**row._mapping)
            found.setdefault(listing.seller_id, []).append(listing)
        return found

    def _take_down(self, listing: _Listing, *, reason: str, item_id: int | None) -> bool:
        """`sanctions.take_down`, with the webhook event it sends. A listing that was up had no
        removal standing, so it is the item taking it down now (if any) that the event names.
        False for a listing that was down already."""
        if listing.status is ListingStatus.REMOVED:
            return False
        before, listing.status = listing.status, ListingStatus.REMOVED
        self.taken_down.append(listing.id)
        self.events.append(_Event("listing.removed", "listing", listing.id, before={"status": before.value},
                                  after={"status": ListingStatus.REMOVED.value}, reason=reason))
        seller = self._seller(listing.seller_id)
        data: dict[str, Any] = {
            "marketplace": self.markets[listing.marketplace_id], "listing_ref": listing.listing_ref,
            "seller_ref": seller.seller_ref, "listing_id": listing.id, "seller_id": seller.id, "reason": reason}
        if item_id is not None:
            data.update(notice_id=self.notice.id, notice_item_id=item_id)
        self.outbox.append(self._webhook(listing.marketplace_id, webhooks.LISTING_REMOVED, data))
        return True

    def _webhook(self, marketplace_id: int, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
        """The outbox row `webhooks.enqueue` writes."""
        now = self.uow.now
        return {"message_id": f"msg_{uuid.uuid4().hex}", "marketplace_id": marketplace_id, "event_type": event_type,
                "payload": {"type": event_type, "timestamp": now.isoformat(), "data": data}, "created_at": now,
                "status": webhooks.EventStatus.PENDING.value, "attempts": 0, "next_attempt_at": now}

    # -- strikes and sanctions --------------------------------------------------------------------------------
    def _strike(self, item_id: int, seller_id: int) -> None:
        """`sanctions.issue_strike`, then `apply_sanctions`."""
        strike_id = next(self.strike_ids)
        self.strikes_held.setdefault(seller_id, []).append(self.new_strike)
        self.strikes.append({"id": strike_id, "seller_id": seller_id, "item_id": item_id,
                             "kind": self.new_strike.kind, "issued_at": self.new_strike.issued_at, "revoked_at": None})
        self.events.append(_Event("strike.issued", "seller", seller_id, reason=f"removal of item {item_id}", after={
            **self.strike_snapshot, "seller_id": seller_id, "item_id": item_id, "id": strike_id}))
        self._apply_sanctions(self.sellers[seller_id])

    def _apply_sanctions(self, seller: _Seller) -> None:
        uow = self.uow
        if seller.banned_at is not None:
            return
        held = self.strikes_held[seller.id]
        level = sanction_level(held, uow.now, uow.policy)
        standing = sum(1 for s in held if s.is_standing(uow.now, uow.policy))
        facts = (f"It has {standing} standing strike{'s' if standing != 1 else ''} in the last "
                 f"{uow.policy.strike_lifetime.days} days.")
        if level is SanctionLevel.CLOSURE:
            self._close_and_ban(seller, reason=f"repeat infringer, {standing} standing strikes")
            return
        before = _standing(seller)
        taken = False
        if level > seller.sanction_level:
            if level is SanctionLevel.RESTRICTION:
                seller.status = SellerStatus.RESTRICTED
            self._state_decision(seller, _ESCALATION[level], facts)
            taken = True
        elif level < SanctionLevel.RESTRICTION and seller.status is SellerStatus.RESTRICTED:
            seller.status = SellerStatus.ACTIVE
            self._state_decision(seller, Measure.STOREFRONT_RESTORED, facts)
            taken = True
        if level != seller.sanction_level or taken:
            seller.sanction_level = int(level)
            self.changed_sellers.add(seller.id)
            self.events.append(_Event("seller.sanction_level", "seller", seller.id, before=before,
                                      after=_standing(seller), reason=facts))

    def _state_decision(self, seller: _Seller, measure: Measure, facts: str, *, record: bool = True) -> None:
        template = self.sanction_rows.get((measure, facts))
        if template is None:
            template = self.sanction_rows[measure, facts] = _statement_row(
                statements.sanction(seller, measure, facts, self.uow.actor, self.uow.now))  # type: ignore[arg-type]
        row = {**template, "scope": _storefront_scope(seller), "seller_id": seller.id}
        self.statements.append(row)
        if record:  # the statement's id is known once the rows are written; the event reads it then
            self.events.append(_Event(f"seller.{measure.value}", "seller", seller.id,
                                      after=lambda: {"statement": row["id"]}, reason=facts))

    def _close_and_ban(self, seller: _Seller, *, reason: str) -> None:
        """`sanctions.close_and_ban`: the storefront, then the accounts linked to it, and theirs in turn."""
        if seller.banned_at is not None:
            return
        self._ban_one(seller, reason)
        queue: deque[_Seller] = deque([seller])
        while queue:
            current = queue.popleft()
            keys = self._keys(current.id)
            for other_id, shared in linked_accounts(keys, self._sharing(keys, exclude=current.id)).items():
                other = self._seller(other_id)
                if other.banned_at is None:
                    self._ban_one(other, f"linked to banned seller {current.seller_ref} by {_describe(shared)}")
                    queue.append(other)

    def _ban_one(self, seller: _Seller, reason: str) -> None:
        before = _ban(seller)
        seller.status, seller.banned_at, seller.ban_reason = SellerStatus.CLOSED, self.uow.now, reason
        seller.sanction_level = int(SanctionLevel.CLOSURE)
        self.changed_sellers.add(seller.id)
        self.events.append(_Event("seller.closed_and_banned", "seller", seller.id, before=before, after=_ban(seller),
                                  reason=reason))
        self._state_decision(seller, Measure.STOREFRONT_CLOSED, f"Reason: {reason}.", record=False)
        self.outbox.append(self._webhook(seller.marketplace_id, webhooks.SELLER_CLOSED, {
            "marketplace": self.markets[seller.marketplace_id], "seller_ref": seller.seller_ref,
            "seller_id": seller.id, "reason": reason}))
        if seller.id not in self.listings_of:
            self.listings_of.update(self._load_listings_of([seller.id]))
        for listing in self.listings_of.get(seller.id, []):
            if self._take_down(listing, reason=f"storefront {seller.seller_ref} closed", item_id=None):
                self.closed_listings.append(listing.id)

    def _seller(self, seller_id: int) -> _Seller:
        if seller_id not in self.sellers:
            self.sellers.update((id_, _Seller(**row._mapping)) for id_, row in self.uow.repo.seller_rows([seller_id]).items())
        return self.sellers[seller_id]

    def _keys(self, seller_id: int) -> frozenset[IdentityKey]:
        if seller_id not in self.keys:
            self.keys[seller_id] = self.uow.repo.identity_keys(seller_id)
        return self.keys[seller_id]

    def _sharing(self, keys: frozenset[IdentityKey], *, exclude: int) -> dict[int, frozenset[IdentityKey]]:
        """`Repository.sellers_sharing`, from what was read of the part's sellers where it covers the keys."""
        if not all(key in self.holders for key in keys):
            found = self.uow.repo.sellers_sharing(keys, exclude=exclude)
            self.keys.update(found)
            return found
        ids = set(chain.from_iterable(self.holders[key] for key in keys)) - {exclude}
        return {seller_id: self._keys(seller_id) for seller_id in sorted(ids)}

    # -- writing --------------------------------------------------------------------------------------------------
    def _write(self) -> None:
        """Insert the rows collected, apply the updates, and record the events in their order."""
        uow, repo = self.uow, self.uow.repo
        for row, id_ in zip(self.statements, repo.reserve_ids(statements_of_reasons, len(self.statements)),
                            strict=True):
            row["id"] = id_
        for table, rows in ((notice_items, self.items), (statements_of_reasons, self.statements),
                            (strikes, self.strikes), (webhook_events, self.outbox)):
            repo.insert_rows(table, rows)
        repo.set_listings_status(self.taken_down, ListingStatus.REMOVED)
        self._write_sellers()
        if self.outbox:
            uow.outbox_written()
        for event in self.events:
            after = event.after() if callable(event.after) else event.after
            uow.record(event.action, event.entity_type, event.entity_id, before=event.before, after=after,
                       reason=event.reason)

    def _write_sellers(self) -> None:
        """Warned and restricted sellers in a statement per standing; closed ones each with their reason."""
        changed = [self.sellers[seller_id] for seller_id in sorted(self.changed_sellers)]
        by_standing: dict[tuple[SellerStatus, int], list[int]] = {}
        for seller in changed:
            if seller.banned_at is None:
                by_standing.setdefault((seller.status, seller.sanction_level), []).append(seller.id)
        for (status, level), ids in by_standing.items():
            self.uow.repo.set_sellers_standing(ids, status, level)
        banned = [{"seller": s.id, "new_status": s.status, "new_banned_at": s.banned_at, "new_reason": s.ban_reason,
                   "new_level": s.sanction_level} for s in changed if s.banned_at is not None]
        if banned:
            self.uow.session.execute(
                update(sellers).where(sellers.c.id == bindparam("seller")).values(
                    status=bindparam("new_status"), banned_at=bindparam("new_banned_at"),
                    ban_reason=bindparam("new_reason"), sanction_level=bindparam("new_level")),
                banned)


@dataclass(slots=True)
class _ItemFacts:
    """What a removal statement reads of its item."""

    id: int
    seller_id: int
    counter_notice_until: datetime | None


def _standing(seller: _Seller) -> dict[str, Any]:
    return {"status": seller.status.value, "sanction_level": seller.sanction_level}


def _ban(seller: _Seller) -> dict[str, Any]:
    """The seller's fields `sanctions` shows before and after a ban, as `snapshot` renders them."""
    return {name: jsonable(getattr(seller, name)) for name in ("status", "banned_at", "ban_reason", "sanction_level")}


def _storefront_scope(seller: _Seller) -> str:
    """As `statements.sanction` states a storefront's scope (`statements._listing_scope` is the
    listing's): the statements are copied from a template, seller by seller and listing by listing."""
    return f"storefront {seller.store_name!r} ({seller.seller_ref})"


def _statement_row(statement: object) -> dict[str, Any]:
    return {column.name: getattr(statement, column.name) for column in statements_of_reasons.columns}
