"""Text normalisation for matching marks however a seller writes them.

`normalise(text)` folds a listing's text to one comparable form and remembers, for every
character of the result, where it came from and which disguise was undone to get it:

1. Unicode NFKC (full-width `Ｚｕｎｄｇｏｘ`, stylised `𝐐𝐔𝐎𝐑𝐕𝐄𝐗`), dropping invisible
   format characters (zero-width space, soft hyphen), collapsing whitespace, case folding,
   stripping accents from Latin letters.
2. Look-alike letters from other scripts (Cyrillic `О`, Greek `Τ`, Cherokee, ...) mapped to
   the Latin letter they imitate, from Unicode's confusables table (as shipped by the
   `confusable_homoglyphs` package). CJK characters are kept as they are.
3. Letters written one by one with a separator (`Q U O R V E X`, `Q.U.O.R.V.E.X`,
   `Q-U-O-R-V-E-X`) joined back into a word, when 3 or more single letters stand in a row
   with the same separator and the same case (in `buy a Q U O R V E X` the `a` is a word).
4. Leetspeak (`QU0RV3X`, `H@RBOR`) read as letters, only in words that mix letters with
   single digits or symbols, at least one of them between letters; numbers, prices, sizes
   and model numbers (`19.99`, `42mm`, `1:18`, `iPhone 15`, `ps5`, `X100`) stay as they are.
   `leet_reading` offers a looser reading for a caller to check against whole marks.

The result is for matching only: it is never shown. What a person reads is the original
text, which `Normalised.source_text` gives back for any span of the normalised one.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache

from confusable_homoglyphs.confusables import confusables_data

__all__ = ["Change", "Normalised", "has_cjk", "is_cjk", "leet_reading", "normalise", "normalise_text", "tokens", "visible"]


class Change(enum.IntFlag):
    """A disguise that normalisation undid, recorded per character of the result."""

    LOOKALIKE = 1  # a letter of another script that looks Latin
    LEET = 2  # a digit or symbol standing for a letter
    SPACED = 4  # a letter written apart from its neighbours
    WIDE = 8  # a full-width or stylised (compatibility) character
    HIDDEN = 16  # an invisible character next to it was dropped
    ACCENT = 32  # an accent was stripped


LABELS: dict[Change, str] = {
    Change.LOOKALIKE: "look-alike letters",
    Change.LEET: "leetspeak",
    Change.SPACED: "spaced letters",
    Change.WIDE: "full-width or stylised letters",
    Change.HIDDEN: "hidden characters",
    Change.ACCENT: "accented letters",
}


def labels(flags: int) -> tuple[str, ...]:
    """Readable names of the changes in `flags`, in a fixed order."""
    return tuple(label for change, label in LABELS.items() if flags & change)


@dataclass(frozen=True)
class Normalised:
    """A text folded for matching, with the way back to the original."""

    original: str
    text: str
    starts: tuple[int, ...]  # per character of `text`: where its source begins in `original`
    ends: tuple[int, ...]  # ... and where it ends
    flags: tuple[int, ...]  # per character of `text`: the `Change` bits that produced it

    @property
    def changes(self) -> tuple[str, ...]:
        """Every disguise undone anywhere in the text, as readable labels."""
        return self.changes_in(0, len(self.text))

    def changes_in(self, start: int, end: int) -> tuple[str, ...]:
        """The disguises undone in `text[start:end]`, as readable labels."""
        bits = 0
        for flag in self.flags[start:end]:
            bits |= flag
        return labels(bits)

    def source(self, start: int, end: int) -> tuple[int, int]:
        """The span of `original` that `text[start:end]` came from."""
        if start >= end:
            at = self.starts[start] if start < len(self.starts) else len(self.original)
            return at, at
        return self.starts[start], self.ends[end - 1]

    def source_text(self, start: int, end: int) -> str:
        a, b = self.source(start, end)
        return self.original[a:b]

    def index_of(self, original_index: int) -> int:
        """The first index of `text` whose source begins at or after `original_index`."""
        return bisect_left(self.starts, original_index)


# -- characters -------------------------------------------------------------------------------


CJK_RANGES = ((0x2E80, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0xFF61, 0xFFDC), (0x20000, 0x3FFFF))


def is_cjk(ch: str) -> bool:
    """Han, kana, Hangul, CJK symbols and punctuation: kept as written, never 'look-alikes'."""
    cp = ord(ch)  # CJK_RANGES, written out: this is called for every character of a text
    return (0x2E80 <= cp <= 0x9FFF or 0xAC00 <= cp <= 0xD7AF or 0xF900 <= cp <= 0xFAFF
            or 0xFF61 <= cp <= 0xFFDC or 0x20000 <= cp <= 0x3FFFF)


_CJK = re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in CJK_RANGES) + "]")


def has_cjk(text: str) -> bool:
    """Whether any character of `text` is CJK (`is_cjk`)."""
    return _CJK.search(text) is not None


def _latin_lookalikes() -> dict[str, str]:
    """One character -> the ASCII letter or digit it imitates, from Unicode's confusables.

    Only letters and digits are mapped (a symbol such as `×` stays a symbol). The table
    maps look-alikes of capital I to small `l` (its skeleton convention); a capital look-alike
    stands for a capital letter here, so it maps to `I`.
    """
    table: dict[str, str] = {}
    for char, entries in confusables_data.items():
        if len(char) != 1 or char.isascii() or is_cjk(char):
            continue
        if unicodedata.category(char)[0] != "L" and unicodedata.category(char) not in ("Nd", "Nl"):
            continue
        targets = [e["c"] for e in entries if len(e["c"]) == 1 and e["c"].isascii() and e["c"].isalnum()]
        if not targets:
            continue
        target = targets[0]
        if char.isupper() and target.islower():
            target = "I" if target == "l" else target.upper()
        table[char] = target
    return table


_LOOKALIKE = _latin_lookalikes()
_SYMBOLS_KEPT = frozenset("™℠®©")  # NFKC would turn ™ into the letters TM, gluing them to a mark


def _strip_accent(ch: str) -> str:
    """`é` -> `e` for Latin letters; anything else unchanged."""
    if ch.isascii() or not unicodedata.name(ch, "").startswith("LATIN"):
        return ch
    base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
    return base if base.isascii() and base.isalpha() else ch


def _fold_uncached(ch: str) -> tuple[str, int]:
    category = unicodedata.category(ch)
    if category == "Cf":  # zero-width space and joiners, soft hyphen, BOM, direction marks
        return "", Change.HIDDEN
    if ch.isspace():
        return " ", 0
    flags = 0
    folded = ch
    if ch not in _SYMBOLS_KEPT:
        folded = unicodedata.normalize("NFKC", ch)
        if category[0] == "S" and len(folded) != 1:
            folded = ch  # a symbol that NFKC spells out in letters (㎜ -> mm) stays a symbol
        if folded != ch:
            flags |= Change.WIDE
    out = []
    for c in folded:
        if c in _LOOKALIKE:
            c, flags = _LOOKALIKE[c], flags | Change.LOOKALIKE
        for d in c.casefold():
            if d in _LOOKALIKE:  # casefolding can land on another script's small letter
                d, flags = _LOOKALIKE[d].lower(), flags | Change.LOOKALIKE
            plain = _strip_accent(d)
            if plain != d:
                flags |= Change.ACCENT
            out.append(plain)
    return "".join(out), flags


_FOLD_CACHE: dict[str, tuple[str, int]] = {}


def _fold(ch: str) -> tuple[str, int]:
    """One character folded for matching, and the changes that took."""
    hit = _FOLD_CACHE.get(ch)
    if hit is None:
        hit = _fold_uncached(ch)
        if len(_FOLD_CACHE) < 100_000:  # bounded: text can hold any of a million code points
            _FOLD_CACHE[ch] = hit
    return hit


class _Builder:
    """Accumulates folded characters with their source spans and flags."""

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.flags: list[int] = []


# ASCII folds to itself lowercased, or to a space: a table instead of a call per character.
_ASCII_FOLD = tuple(" " if chr(c).isspace() else chr(c).lower() for c in range(128))
# Runs of ASCII other than whitespace (exactly the characters `str.isspace` calls space).
_ASCII_RUN = re.compile(r"[^\t\n\x0b\x0c\r\x1c-\x1f ]+")

_CHAR_CACHE: dict[str, tuple[bool, str, int]] = {}
# What `_fold_ascii` would change: whitespace other than single spaces between words.
_ASCII_UNEVEN_SPACE = re.compile(r"[\t\n\x0b\x0c\r\x1c-\x1f]|  |^ | $")


def _char_info(ch: str) -> tuple[bool, str, int]:
    """Whether a non-ASCII character is combining, and `_fold(ch)`; cached, as `_fold`."""
    hit = _CHAR_CACHE.get(ch)
    if hit is None:
        hit = (bool(unicodedata.combining(ch)), *_fold(ch))
        if len(_CHAR_CACHE) < 100_000:
            _CHAR_CACHE[ch] = hit
    return hit


def _fold_ascii(text: str) -> _Builder:
    """`_fold_text` for pure ASCII, the common case: lowercase, whitespace runs collapsed to
    the first of their characters, nothing else to undo (so no flags)."""
    out = _Builder()
    lowered = text.lower()
    if not _ASCII_UNEVEN_SPACE.search(text):  # words parted by single spaces: each character stays where it is
        out.chars, out.starts, out.ends = list(lowered), list(range(len(text))), list(range(1, len(text) + 1))
        out.flags = [0] * len(text)
        return out
    chars, starts = out.chars, out.starts
    prev_end = 0
    for m in _ASCII_RUN.finditer(lowered):
        s, e = m.span()
        if chars:
            chars.append(" ")
            starts.append(prev_end)  # the space kept is the first of the run between words
        chars.extend(lowered[s:e])
        starts.extend(range(s, e))
        prev_end = e
    out.ends = [s + 1 for s in starts]
    out.flags = [0] * len(starts)
    return out


# Runs of characters that fold to themselves (ASCII to lower case) and change nothing: ASCII other
# than whitespace and controls, CJK ideographs (extension A and the unified block) and Hangul
# syllables. A test holds every one of them to `_fold`.
_PLAIN_RANGES = ((0x21, 0x7E), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3))
_PLAIN_RUN = re.compile("[" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in _PLAIN_RANGES) + "]+")


def _fold_text(text: str) -> _Builder:
    if text.isascii():
        return _fold_ascii(text)
    out = _Builder()
    chars, starts, ends, flags_ = out.chars, out.starts, out.ends, out.flags  # bound locally: this loop is hot
    pending = 0  # flags of dropped characters, for the next character that stays
    runs = {m.start(): m.end() for m in _PLAIN_RUN.finditer(text) if m.end() - m.start() > 1}
    skip_to = 0
    for i, ch in enumerate(text):
        if i < skip_to:
            continue
        run_end = runs.get(i)
        if run_end is not None:  # a run of plain characters, taken at once: what the loop below does to each
            chars.extend(text[i:run_end].lower())
            starts.extend(range(i, run_end))
            ends.extend(range(i + 1, run_end + 1))
            flags_.append(pending)
            flags_.extend([0] * (run_end - i - 1))
            pending = 0
            skip_to = run_end
            continue
        if ch < "\x80":  # ASCII: the common case, and cheap
            c = _ASCII_FOLD[ord(ch)]
            if c == " " and (not chars or chars[-1] == " "):
                continue  # collapse runs of whitespace; no leading space
            chars.append(c)
            starts.append(i)
            ends.append(i + 1)
            flags_.append(pending)
            pending = 0
            continue
        combining, folded, flags = _char_info(ch)
        if combining and chars and chars[-1].isascii() and chars[-1] != " ":
            flags_[-1] |= Change.ACCENT  # an accent on a Latin letter (or on a digit or symbol posing as one)
            ends[-1] = i + 1
            continue
        if not folded:
            pending |= flags
            continue
        if len(folded) == 1 and folded != " ":  # one character, as a Han character or a look-alike is
            chars.append(folded)
            starts.append(i)
            ends.append(i + 1)
            flags_.append(flags | pending)
            pending = 0
            continue
        for c in folded:
            if c == " " and (not chars or chars[-1] == " "):
                continue  # collapse runs of whitespace; no leading space
            chars.append(c)
            starts.append(i)
            ends.append(i + 1)
            flags_.append(flags | pending)
            pending = 0
    if pending and chars:
        flags_[-1] |= pending
    while chars and chars[-1] == " ":
        for column in (chars, starts, ends, flags_):
            column.pop()
    return out


# -- spaced letters ---------------------------------------------------------------------------

_UNIT = r"[a-z0-9@$]"
# 3+ single letters (or leet characters) in a row, each pair parted by the same separator:
# one space, or one punctuation mark with at most a space either side.
_SPACED = re.compile(
    rf"(?<![a-z0-9]){_UNIT}(?P<sep> ?[.\-_*·•‧・/|,~+'] ?| )({_UNIT})(?:(?P=sep){_UNIT})+(?![a-z0-9])"
)
_SEP_CHARS = frozenset(" .-_*·•‧・/|,~+'")


def _case(ch: str) -> str:
    return "upper" if ch.isupper() else "lower" if ch.islower() else ""


def _same_case_runs(units: list[int], b: _Builder, original: str) -> list[list[int]]:
    """Split a run of spaced letters where the letters change case: in `buy a Q U O R V E X`
    the `a` is a word of its own, not the first letter of the spaced one."""
    runs: list[list[int]] = [[]]
    case = ""
    for k in units:
        here = _case(original[b.starts[k]])
        if here and case and here != case:
            runs.append([])
        runs[-1].append(k)
        case = here or case
    return runs


def _looks_like_word(letters: str) -> bool:
    alpha = sum(c.isalpha() for c in letters)
    return len(letters) >= 3 and alpha >= 2 and alpha >= len(letters) - alpha  # not "1 2 3", "2 x 3 x 4"


def _join_spaced(b: _Builder, original: str) -> _Builder:
    text = "".join(b.chars)
    drop: set[int] = set()
    for m in _SPACED.finditer(text):
        units = [k for k in range(m.start(), m.end()) if text[k] not in _SEP_CHARS]
        for run in _same_case_runs(units, b, original):
            if not _looks_like_word("".join(text[k] for k in run)):
                continue
            drop.update(k for k in range(run[0], run[-1]) if text[k] in _SEP_CHARS)
            for k in run:
                b.flags[k] |= Change.SPACED
    if not drop:
        return b
    keep = [k for k in range(len(b.chars)) if k not in drop]
    out = _Builder()
    out.chars = [b.chars[k] for k in keep]
    out.starts = [b.starts[k] for k in keep]
    out.ends = [b.ends[k] for k in keep]
    out.flags = [b.flags[k] for k in keep]
    return out


# -- leetspeak --------------------------------------------------------------------------------

_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "@": "a", "$": "s"}


def _leet_positions(word: str) -> list[int] | None:
    """Where `word`'s leet characters are, if it reads as a leetspeak word; else None.

    A leetspeak word has 2+ letters, no more leet characters than letters, only single leet
    characters between letters (a run of two digits, or a digit with no letter value, is a
    number: `iphone15pro`, `b2b`), and at least one of them inside the word: at its edge a
    digit is much more often a model number or a count (`ps5`, `3mm`, `4k`) than a letter.
    """
    letters = sum(c.isalpha() for c in word)
    if letters < 2:
        return None
    positions = []
    for k, c in enumerate(word):
        if c.isalpha():
            continue
        if c not in _LEET:
            return None
        if (k > 0 and not word[k - 1].isalpha()) or (k + 1 < len(word) and not word[k + 1].isalpha()):
            return None  # two non-letters side by side: a number
        positions.append(k)
    if not positions or len(positions) > letters or not any(0 < k < len(word) - 1 for k in positions):
        return None
    return positions


# The words `_leet_positions` may read: 2 letters or more, and a digit or symbol.
_MIXED_WORD = re.compile(r"(?<![a-z0-9@$])(?=[a-z0-9@$]*[0-9@$])(?=(?:[0-9@$]*[a-z]){2})[a-z0-9@$]+(?![a-z0-9@$])")


def _read_leet(b: _Builder) -> None:
    text = "".join(b.chars)
    for m in _MIXED_WORD.finditer(text):
        word = m.group(0)
        positions = _leet_positions(word)
        if positions is None:
            continue
        for k in positions:
            at = m.start() + k
            b.chars[at] = _LEET[b.chars[at]]
            b.flags[at] |= Change.LEET


_COUNT_WITH_UNIT = re.compile(
    r"\d+(?:mm|cm|m|km|ml|l|g|kg|mg|oz|lb|lbs|in|ft|pcs|pc|pack|x|k|p|gb|tb|mb|mah|w|kw|v|hz|khz|mhz|ghz"
    r"|th|st|nd|rd|s|d|h|hr|hrs|min|yr|yrs|y)"
)


def leet_reading(word: str) -> str | None:
    """A normalised word read as leetspeak however its leet characters stand (`4pex`,
    `s74ern3n`, `70n0r4`), or None if it cannot be read so.

    `normalise` reads only words with single leet characters between letters, as digits
    elsewhere are usually models and sizes (`ps5`, `iphone15pro`). This reading is looser and
    meant to be taken only when it is, as a whole, a registered mark. Readings shorter than 4
    letters and counts with a unit (`3mm`, `5pcs`) are not offered: too many of them read as
    some short acronym.
    """
    if len(word) < 4 or word.isalpha() or not any(c.isalpha() for c in word):
        return None
    if any(not c.isalpha() and c not in _LEET for c in word) or _COUNT_WITH_UNIT.fullmatch(word):
        return None
    return "".join(_LEET.get(c, c) for c in word)


# -- the entry points -------------------------------------------------------------------------


@lru_cache(maxsize=256)  # a listing's text is read by several detectors in a row; small, as texts may be long
def normalise_text(text: str) -> Normalised:
    """`text` folded for matching, with source spans and the disguises undone."""
    folded = _fold_text(text)
    joined = _join_spaced(folded, text)
    _read_leet(joined)
    return Normalised(original=text, text="".join(joined.chars), starts=tuple(joined.starts),
                      ends=tuple(joined.ends), flags=tuple(joined.flags))


def normalise(text: str) -> str:
    """`text` folded for matching: NFKC, case folded, look-alikes and leetspeak read as
    Latin letters, spaced letters joined, whitespace collapsed."""
    return normalise_text(text).text


_TOKEN = re.compile(r"[a-z0-9]+|[^\W\da-z_]+")


def tokens(text: str) -> list[str]:
    """The words of `normalise(text)`: runs of Latin letters and digits, and runs of other
    letters (a Chinese phrase, which has no spaces, is one token)."""
    return _TOKEN.findall(normalise(text))


def visible(text: str) -> str:
    """`text` with invisible characters written out (`Quor<U+200B>vex`), for explanations."""
    return "".join(f"<U+{ord(c):04X}>" if unicodedata.category(c) == "Cf" else c for c in text)
