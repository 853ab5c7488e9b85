"""Rows whose reference no store could hold are rejected as rows, never as a server error."""

from assay.services import bulk_notices


def test_an_id_past_the_stores_ids_names_no_listing() -> None:
    assert bulk_notices._listing_key("99999999999999999999") == 0
    assert bulk_notices._listing_key("2147483647") == 2147483647


def test_a_nul_character_or_an_endless_reference_rejects_its_row_alone() -> None:
    parsed = bulk_notices.read_rows(b"listing,evidence\nbazaar:L-1,\nbazaar:x\x00y,\n" + b"bazaar:" + b"9" * 600 + b",\n",
                                    filename="rows.csv", content_type="text/csv")
    problems = [row.problem for row in parsed.rows]
    assert problems[0] is None
    assert "NUL" in problems[1]
    assert problems[2].startswith("listing: 607 characters")
