"""The fast paths of the scan and of ingest give exactly what the general paths give.

Each shortcut that makes the scan faster (cutting a file into blocks of lines, folding
plain runs of text at once, reading boundaries without CJK, the first-character test of
the context phrases), or a load faster (times written for SQLite in one call), is held
here to the slower, general code it stands in for, on inputs drawn to hit its edges."""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from re import _parser as re_parser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from assay.detection import context, marks, normalise
from assay.detection.marks import MarkIndex
from assay.detection.normalise import CJK_RANGES, has_cjk, is_cjk, normalise_text
from assay.services.feed_reader import block_lines, line_blocks, parse_line, read_lines
from assay.store import bulk
from assay.store.tables import listings
from assay.store.types import UTCDateTime

# Letters, digits and leet symbols, separators, whitespace of every kind, look-alikes,
# accents (precomposed and combining), invisibles, full-width, CJK and Hangul, emoji.
PIECES = list("aAbBqQuUoOrRvVeExXlLiI0134578@$ .-_*·/|,~+'\t\n\r\x0b\x1c") + [
    "  ", "é", "e\u0301", "\u200b", "\u00ad", "Ｑ", "𝐐", "О", "ο", "Ι", "中", "文", "恤", "仿", "한", "ー", "😀",
    "❤️", "™", "replica", "1:1", "used", "for", "compatible with", "QUORVEX", "Q U O R V E X", "QU0RV3X", "quorvex",
    "Qourvex", "W1LLOW", "willow", "OAK", "oak", "AT", "T恤", "高仿", "二手", "95新", "mint condition", "1:18 scale",
]
texts = st.lists(st.sampled_from(PIECES), max_size=25).map("".join)
ascii_texts = st.text(alphabet=st.characters(max_codepoint=127), max_size=40)


def _fold_per_character(text: str) -> tuple[str, list[int]]:
    """What `_fold_ascii` does, one character at a time: lower case, whitespace runs kept as
    their first character, none at either end."""
    chars: list[str] = []
    starts: list[int] = []
    for i, ch in enumerate(text):
        if ch.isspace():
            if chars and chars[-1] != " ":
                chars.append(" ")
                starts.append(i)
            continue
        chars.append(ch.lower())
        starts.append(i)
    while chars and chars[-1] == " ":
        chars.pop()
        starts.pop()
    return "".join(chars), starts


@given(ascii_texts)
def test_ascii_text_folds_as_it_would_one_character_at_a_time(text: str) -> None:
    folded = normalise._fold_ascii(text)
    expected, starts = _fold_per_character(text)
    assert ("".join(folded.chars), folded.starts) == (expected, starts)
    assert folded.ends == [s + 1 for s in starts] and folded.flags == [0] * len(starts)


def test_every_character_of_a_plain_run_folds_to_itself() -> None:
    for low, high in normalise._PLAIN_RANGES:
        for code in range(low, high + 1):
            ch = chr(code)
            if ch.isascii():
                assert not ch.isspace() and normalise._ASCII_FOLD[code] == ch.lower()
            else:
                assert normalise._char_info(ch) == (False, ch, 0) and ch.lower() == ch, hex(code)


def _general_fold(text: str) -> normalise._Builder:
    """`_fold_text` with no plain run taken at once."""
    pattern = normalise._PLAIN_RUN
    normalise._PLAIN_RUN = re.compile(r"(?!)")
    try:
        return normalise._fold_text(text)
    finally:
        normalise._PLAIN_RUN = pattern


@given(texts)
def test_plain_runs_fold_as_their_characters_one_by_one(text: str) -> None:
    fast, general = normalise._fold_text(text), _general_fold(text)
    assert (fast.chars, fast.starts, fast.ends, fast.flags) == \
        (general.chars, general.starts, general.ends, general.flags)


def test_has_cjk_agrees_with_is_cjk_on_every_code_point() -> None:
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        assert has_cjk(chr(code)) == is_cjk(chr(code)), hex(code)
    assert CJK_RANGES[0][0] == 0x2E80


INDEX = MarkIndex.build([("qvx", ["QUORVEX", "QVX"]), ("wil", ["WILLOW"]), ("oak", ["OAK"]), ("at", ["AT"]),
                         ("mb", ["MONT BLANC"]), ("cn", ["精工"]), ("apx", ["APEX"]), ("lng", ["LONGINESS"])])


@settings(max_examples=300)
@given(texts)
def test_marks_are_found_in_text_without_cjk_as_the_general_boundaries_find_them(text: str) -> None:
    fast = INDEX._find(text, "title")
    real = marks.has_cjk
    marks.has_cjk = lambda _: True  # every text takes the general path
    try:
        general = INDEX._find(text, "title")
    finally:
        marks.has_cjk = real
    assert fast == general


def test_what_find_keeps_per_text_is_what_it_finds_anew() -> None:
    index = MarkIndex.build([("qvx", ["QUORVEX"])])
    first = index.find("QU0RV3X bag")
    assert [h.how for h in first] == ["disguised"]
    first.clear()  # a caller's copy: the kept answer is not touched
    assert index.find("QU0RV3X bag") == index._find("QU0RV3X bag", "title") != []
    assert index.find("QU0RV3X bag", field="description")[0].detail.startswith("description contains")


PHRASES = [context._REPLICA, context._USED, context._REPRODUCTION,
           *(pattern for _, pattern, _ in context._INNOCENT_SENSES)]


@settings(max_examples=300)
@given(texts)
def test_the_first_character_test_of_the_phrases_rules_out_no_match(text: str) -> None:
    norm = normalise_text(text).text
    for pattern in PHRASES:
        assert pattern.pattern.startswith("(?=[")
        without = re.compile(pattern.pattern[pattern.pattern.index("])(?:") + 5:-1])
        assert [m.span() for m in pattern.finditer(norm)] == [m.span() for m in without.finditer(norm)]


def test_a_pattern_that_may_begin_anywhere_gets_no_first_character_test() -> None:
    assert context._first_characters(re_parser.parse(r"\d+ kg")) is None
    assert context._first_characters(re_parser.parse(r"x?")) is None
    assert context._first_characters(re_parser.parse(r"(?<!x)a?b|[c-e]")) == {"a", "b", "c", "d", "e"}


# -- blocks of lines -------------------------------------------------------------------------------

lines = st.lists(st.one_of(
    st.just(b""), st.just(b"   \t"), st.just(b"\r"), st.just(b"\xff\xfe"), st.just(b'{"a": 1'), st.just(b'{"a": "x'),
    st.builds(lambda v: json.dumps(v, ensure_ascii=False).encode(), st.dictionaries(st.text(max_size=3), st.text()))),
    max_size=30)


@settings(max_examples=200)
@given(lines, st.booleans(), st.integers(min_value=1, max_value=64))
def test_blocks_of_lines_give_the_lines_numbers_and_reasons_reading_line_by_line_gives(
        tmp_path_factory: pytest.TempPathFactory, content: list[bytes], newline_at_end: bool, size: int) -> None:
    path = Path(tmp_path_factory.mktemp("blocks")) / "listings.jsonl"
    path.write_bytes(b"\n".join(content) + (b"\n" if newline_at_end and content else b""))
    by_line = [(line.number, line.record, line.error) for line in read_lines(path)]
    blocks = list(line_blocks(path, size))
    assert b"".join(data for _, _, data in blocks) == path.read_bytes()
    assert all(path.read_bytes()[offset:offset + len(data)] == data for _, offset, data in blocks)
    by_block = [(number, *parse_line(raw, terminated=terminated))
                for first, _, data in blocks for number, raw, terminated in block_lines(first, data)]
    assert by_block == by_line


# -- the bulk loader's times on SQLite -------------------------------------------------------------

zones = st.one_of(st.just(timezone.utc), st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))
                  .map(lambda offset: timezone(timedelta(minutes=offset // timedelta(minutes=1)))))


@given(st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 30), timezones=zones))
def test_the_bulk_loader_stores_a_time_on_sqlite_as_sqlalchemy_would(moment: datetime) -> None:
    dialect = sqlite.dialect()
    general = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert bulk._processor(listings.c.created_at, dialect)(moment) == general(moment)


def test_the_bulk_loader_refuses_a_naive_time_on_sqlite_as_sqlalchemy_would() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        bulk._processor(listings.c.created_at, sqlite.dialect())(datetime(2025, 1, 1))
