"""Reading the rows of a bulk notice: CSV in its common dialects, XLSX, JSON; row numbers as
a person finds them; limits; and files that cannot be read, said plainly."""

from __future__ import annotations

import codecs
import io

import openpyxl
import pytest

from assay.domain.errors import ValidationFailed
from assay.services import bulk_notices
from assay.services.bulk_notices import BulkRow, TooLarge, json_rows, read_rows


def csv_rows(text: str | bytes, filename: str | None = "listings.csv") -> list[BulkRow]:
    data = text.encode("utf-8") if isinstance(text, str) else text
    parsed = read_rows(data, filename=filename, content_type="text/csv")
    assert parsed.format == "csv"
    return parsed.rows


def xlsx(*rows: tuple[object, ...]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def refused(call, *words: str) -> str:
    with pytest.raises(ValidationFailed) as caught:
        call()
    message = str(caught.value)
    for word in words:
        assert word in message, (word, message)
    return message


# -- CSV -----------------------------------------------------------------------------------------------------------

def test_csv_with_a_byte_order_mark_and_semicolons():
    data = codecs.BOM_UTF8 + "Listing;Evidence\r\nbazaar:L-1;https://example.com/buy/1\r\n42;\"bought it; fake\"\r\n".encode()
    assert csv_rows(data) == [BulkRow(2, "bazaar:L-1", "https://example.com/buy/1"),
                              BulkRow(3, "42", "bought it; fake")]


def test_tab_and_pipe_delimited():
    tabbed = "listing\tevidence\nbazaar:L-1\ttest purchase, receipt 7\nbazaar:L-2\t\n"
    assert csv_rows(tabbed) == [BulkRow(2, "bazaar:L-1", "test purchase, receipt 7"), BulkRow(3, "bazaar:L-2")]
    assert csv_rows("evidence|listing\nphoto 3|bazaar:L-9\n") == [BulkRow(2, "bazaar:L-9", "photo 3")]


def test_a_single_column_needs_no_delimiter():
    assert csv_rows("listing\n17\nbazaar:L-2\n") == [BulkRow(2, "17"), BulkRow(3, "bazaar:L-2")]


def test_rows_are_numbered_as_a_spreadsheet_shows_them():
    """Blank lines are rows a spreadsheet shows (and counts); a quoted line break stays in its cell."""
    text = 'listing,evidence\n\nbazaar:L-1,"line one\nline two"\n\n  ,  \nbazaar:L-2,x\n'
    assert csv_rows(text) == [BulkRow(3, "bazaar:L-1", "line one\nline two"), BulkRow(6, "bazaar:L-2", "x")]


def test_malformed_rows_are_kept_with_their_problem():
    rows = csv_rows("listing,evidence\n,receipt\nbazaar:L-1,x,surplus\nbazaar:L-2,x,,\n")
    assert [(row.number, row.problem) for row in rows] == [
        (2, "listing: empty; give an Assay id or marketplace:listing_id"),
        (3, "the row has more cells than the header names columns"),
        (4, None),  # empty cells past the header are what spreadsheets export
    ]


def test_evidence_has_a_length_limit(monkeypatch):
    monkeypatch.setattr(bulk_notices, "MAX_EVIDENCE", 10)
    [row] = csv_rows("listing,evidence\nbazaar:L-1,01234567890\n")
    assert row.problem == "evidence: 11 characters, at most 10"


def test_text_that_is_not_utf8_is_refused_saying_where():
    data = "listing,evidence\nbazaar:L-1,reçu\n".encode("latin-1")
    refused(lambda: csv_rows(data), "not UTF-8", "byte 0xe7 on line 2", "CSV UTF-8")
    refused(lambda: csv_rows("listing\n1\n".encode("utf-16")), "UTF-16")


def test_the_header_names_the_columns():
    refused(lambda: csv_rows("listing,Price,seller\n1,2,3\n"), "unknown columns 'Price', 'seller'",
            "listing (required) and evidence (optional)")
    refused(lambda: csv_rows("evidence\nreceipt\n"), "no 'listing' column")
    refused(lambda: csv_rows("listing,evidence,listing\n1,,2\n"), "'listing' appears twice")
    refused(lambda: csv_rows("listing,,evidence\n1,,x\n"), "column 2 has no name")
    refused(lambda: csv_rows("bazaar:L-1\nbazaar:L-2\n"), "unknown column 'bazaar:L-1'")


def test_an_empty_file_or_a_header_alone():
    refused(lambda: csv_rows(""), "empty")
    refused(lambda: csv_rows("\n \n"), "empty")
    assert csv_rows("listing,evidence\n") == []


def test_a_file_over_the_byte_limit_is_too_large():
    with pytest.raises(TooLarge, match="the file has 1,100 bytes; at most 1,024 are accepted"):
        read_rows(b"listing\n" + b"1\n" * 546, filename="big.csv", content_type=None, max_bytes=1024)


@pytest.mark.parametrize("make", [
    lambda n: ("listing\n" + "bazaar:L-1\n" * n).encode(),
    lambda n: xlsx(("listing",), *[("bazaar:L-1",)] * n),
])
def test_more_rows_than_the_limit_are_too_large(monkeypatch, make):
    monkeypatch.setattr(bulk_notices, "MAX_ROWS", 3)
    assert len(read_rows(make(3), filename=None, content_type=None).rows) == 3
    with pytest.raises(TooLarge, match="more than 3 rows; at most 3 listings in one bulk notice"):
        read_rows(make(4), filename=None, content_type=None)


# -- XLSX ----------------------------------------------------------------------------------------------------------

def test_xlsx_reads_the_first_sheet_with_the_same_header():
    data = xlsx(("Listing", "Evidence"), ("bazaar:L-1", "https://example.com/1"), (None, None), (1234, None),
                ("bazaar:L-3", 7.5))
    parsed = read_rows(data, filename="sweep.xlsx", content_type=None)
    assert parsed.format == "xlsx"
    assert parsed.rows == [BulkRow(2, "bazaar:L-1", "https://example.com/1"), BulkRow(4, "1234"),
                           BulkRow(5, "bazaar:L-3", "7.5")]


def test_xlsx_is_known_by_its_content_whatever_its_name():
    data = xlsx(("listing",), ("bazaar:L-1",))
    assert read_rows(data, filename="upload.bin", content_type="application/octet-stream").format == "xlsx"
    assert read_rows(data, filename=None, content_type=next(iter(bulk_notices.XLSX_TYPES))).rows == [
        BulkRow(2, "bazaar:L-1")]


def test_an_old_xls_or_a_workbook_that_unpacks_too_far_is_refused(monkeypatch):
    refused(lambda: read_rows(bulk_notices.OLE_MAGIC + b"\0" * 512, filename="sweep.xls", content_type=None),
            "XLS workbook (Excel 97-2003)", "save it as XLSX")
    data = xlsx(("listing",), ("bazaar:L-1",))
    monkeypatch.setattr(bulk_notices, "MAX_UNPACKED", 2000)
    with pytest.raises(TooLarge, match="the workbook unpacks to [0-9,]+ bytes; at most 2,000 are accepted"):
        read_rows(data, filename="sweep.xlsx", content_type=None)


def test_a_damaged_xlsx_is_refused():
    data = xlsx(("listing",), ("bazaar:L-1",))
    refused(lambda: read_rows(data[: len(data) // 2], filename="sweep.xlsx", content_type=None),
            "not a readable XLSX workbook")
    refused(lambda: read_rows(b"listing\n1\n", filename="sweep.xlsx", content_type=None),
            "not a readable XLSX workbook")
    refused(lambda: read_rows(xlsx(("seller",), ("s-1",)), filename="sweep.xlsx", content_type=None),
            "unknown column 'seller'")


# -- JSON ----------------------------------------------------------------------------------------------------------

def test_json_rows_are_numbered_from_one():
    parsed = json_rows([{"listing": "bazaar:L-1", "evidence": "receipt"}, {"listing": 42}, {"listing": " "},
                        {"listing": True}, {"listing": "bazaar:L-2", "evidence": 3}])
    assert parsed.format == "json"
    assert [(row.number, row.listing, row.evidence, row.problem) for row in parsed.rows] == [
        (1, "bazaar:L-1", "receipt", None),
        (2, "42", "", None),
        (3, "", "", "listing: empty; give an Assay id or marketplace:listing_id"),
        (4, "True", "", "listing: give an Assay id or marketplace:listing_id"),
        (5, "bazaar:L-2", "", "evidence: give a URL or a text"),
    ]


def test_json_rows_with_unknown_fields_are_refused_by_row(monkeypatch):
    refused(lambda: json_rows([{"listing": "1"}, {"listing": "2", "price": 3, "seller": "x"}, "bazaar:L-3"]),
            "row 2: unknown fields 'price', 'seller'", "row 3: expected an object")
    monkeypatch.setattr(bulk_notices, "MAX_ROWS", 2)
    with pytest.raises(TooLarge, match="3 rows; at most 2 listings"):
        json_rows([{"listing": "1"}] * 3)
