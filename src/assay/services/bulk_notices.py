"""Bulk notices: one notice naming up to 100,000 listings, sent as JSON rows or as an
uploaded CSV or XLSX file.

Reading (`read_rows`, `json_rows`) turns the upload into rows, each with the number a
person finds it by. Filing (`file_bulk`) checks the notice's own elements once, then every
row, and files the good rows in parts of `CHUNK_ROWS`: each part is a notice of its own,
filed in its own transaction, so progress can be reported and a crash loses at most the
part in flight. The parts of one filing share its request id in the audit log, and the
result (and the job that runs it, see `jobs.py`) lists their notices.

A part is filed as `notices.file_notice` files a notice, through `filing.Filing`.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import openpyxl

from assay.domain.errors import DomainError, ValidationFailed
from assay.domain.model import ListingStatus
from assay.domain.notices import InfringementType
from assay.services.app import Assay
from assay.services.filing import Filing, ListingFacts, NoticeCheck, NoticeFields, notice_problems
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


def check_notice(uow: UnitOfWork, notice: NoticeFields, *, has_listings: bool = True) -> NoticeCheck:
    """The elements a notice must have, raising instead of filing an incomplete notice."""
    check = notice_problems(uow, notice, names_listings=has_listings)
    if check.problems:
        raise ValidationFailed(check.problems)
    return check


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
    check = check_notice(uow, notice)
    listing_ids = [verdict for _, verdict in part if isinstance(verdict, int)]
    found = uow.repo.listing_rows(listing_ids)
    open_items = uow.repo.open_items_by_listing(notice.holder_id, listing_ids)
    early = set(before.taken_down_early)
    rejected = list(before.rejected)
    accepted: list[tuple[BulkRow, ListingFacts]] = []
    for row, verdict in part:
        if isinstance(verdict, str):
            rejected.append(RejectedRow(row.number, row.listing, verdict))
        elif found[verdict].status is ListingStatus.REMOVED and verdict not in early:
            rejected.append(RejectedRow(row.number, row.listing, "already removed"))
        elif (item_id := open_items.get(verdict)) is not None:
            rejected.append(RejectedRow(row.number, row.listing, f"already named in your open notice item {item_id}"))
        else:
            accepted.append((row, ListingFacts(**found[verdict]._mapping)))
    result = replace(before, rows_done=before.rows_done + len(part), rejected=rejected)
    if not accepted:
        return result
    evidence = [f"{row.listing}: {row.evidence}" for row, _ in accepted if row.evidence]
    filing = Filing(uow, notice, check, [listing for _, listing in accepted], evidence=evidence)
    filing.file()
    here = set(listing_ids)
    later = {id_ for id_ in filing.closed_listings if id_ in named and id_ not in here}
    return replace(result, notice_ids=[*result.notice_ids, filing.notice_id], filed=result.filed + len(accepted),
                   removed=result.removed + len(filing.removed), queued=result.queued + len(filing.queued),
                   taken_down_early=sorted(early | later))
