"""Finding every brand's registered marks in a listing's text at once.

`MarkIndex.build(brands)` compiles all marks of all brands into one Aho-Corasick automaton
over their normalised form (see `normalise`), plus a deletion index for misspellings.
`MarkIndex.find(text)` then reads a title in time that depends on the title, not on the
number of brands, and says for each hit how the mark was written:

- "exact": the text, case aside, has the mark as registered (`QVX`, `Quorvex`);
- "disguised": only the normalised text has it: look-alike letters, leetspeak, spaced
  letters, full-width letters, hidden characters, accents (`QU0RV3X`, `Q U O R V E X`);
- "fuzzy": a word within a small edit distance of a long mark (`Qourvex`, `Cnayon`).

Word boundaries. A Latin mark must stand as a word: `Oak` is not found in `oakland` nor
`Harbor` in `harborview`, and the acronym `QVX` not in `QVXR`. Punctuation, spaces and CJK
characters are boundaries, so Chinese around a Latin mark is (`精仿QUORVEX旅行包`). Digits
bind short marks only: `QUORVEX2025` has QUORVEX, but `QVX200` is a model number, not QVX
(marks of 3 characters or fewer need a boundary that is not a digit either). In Chinese
text, where Latin words are run together, a change of case (`XevixPolo衫`) and a Chinese
word spelt with a letter (`T恤`, `超A`) are boundaries too. CJK marks have no boundaries
to check (Chinese has no spaces).

Ordinary words. A mark of 3 letters or fewer that is a common English word (AT, OAK) counts
only capitalised (`At`, `OAK`): "bought at the store" does not name the brand AT, nor "solid
oak board" the brand OAK. Everyday-word marks
(Harbor, Mint) are found like any other: whether "mint condition" names the brand is for
the caller to weigh, with the category and the wording around it (see `context`).

Look-alikes of `l`. Normalisation reads `1` and `I` as `i`; for marks of 4+ letters with an
`l`, the reading with `i` for each `l` is indexed too (`W1LLOW`, `WIIIOW` for WILLOW) and
counts where the text has `1`, `I` or a look-alike there, never a small `i`, and never
where that reading is a word of its own (`FITS` is not FLTS).

Leetspeak that normalisation leaves alone (`4PEX`, `S74ern3n`: digits at an edge or side
by side, which are usually models and sizes) counts when the whole word reads as a mark.

Misspellings. Only marks of 5+ letters are matched fuzzily (distance 1; 9+ letters: 2),
by optimal string alignment distance, so a swap of two neighbours (`Qourvex`) is one edit.
Shorter marks would match too many ordinary words; five-letter marks (many real ones are
that short) are misspelt by counterfeiters as longer ones are. A fuzzy hit must keep the mark's first
letter (a changed first letter makes another word: pillow/WILLOW, whistle/THISTLE), must
not be a plain plural or singular (`harbors` for HARBOR), and must not be a common word in
English or a major European language (`thermal` is not THERNAL, `channel` is not CHANEL;
word frequencies from the `wordfreq` package).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick
from rapidfuzz.distance import OSA
from wordfreq import zipf_frequency

from assay.detection.normalise import Change, Normalised, has_cjk, is_cjk, labels, leet_reading, normalise_text, visible

__all__ = ["MarkHit", "MarkIndex", "fuzzy_distance_allowed"]

_RANK = {"exact": 0, "disguised": 1, "fuzzy": 2}


@dataclass(frozen=True)
class MarkHit:
    brand_id: str
    mark: str  # as registered
    how: str  # "exact" | "disguised" | "fuzzy"
    matched: str  # the text as the seller wrote it
    span: tuple[int, int]  # of `matched` in the text given to `find`
    detail: str  # one short sentence for a reviewer, a seller and a brand
    disguises: tuple[str, ...] = ()  # for "disguised" (and fuzzy hits on disguised text)
    distance: int = 0  # edits, for "fuzzy"


@dataclass(frozen=True)
class _Entry:
    brand_id: str
    mark: str
    key: str  # the mark's normalised form this automaton word stands for
    lookalike: bool  # the word is the mark with every `l` read as `i` (a capital I for an l)
    capitalised: bool  # a short mark that is also a common word counts only capitalised: Oak, not "oak"


def fuzzy_distance_allowed(length: int) -> int:
    """How many edits a misspelling of a mark this long may have."""
    return 2 if length >= 9 else 1 if length >= 5 else 0


def _binds_short(ch: str) -> bool:
    """Glues to a short mark: a letter or digit of a spaced script."""
    return ch.isalnum() and not is_cjk(ch)


def _binds_long(ch: str) -> bool:
    """Glues to a long mark: a letter of a spaced script (`QUORVEX2025` still has QUORVEX)."""
    return ch.isalpha() and not is_cjk(ch)


def _key_variants(key: str) -> dict[str, bool]:
    """Automaton words for one normalised mark -> whether the word is a look-alike reading."""
    variants = {key: False}
    if " " in key or "-" in key:  # MONT BLANC is also written Montblanc and Mont-Blanc
        for joint in ("", " ", "-"):
            variants.setdefault(re.sub(r"[ -]", joint, key), False)
    read_i = key.replace("l", "i")
    if read_i != key and len(key) >= 4 and not _common_word(read_i):
        # `1` and `I` stand for `l` as often as for `i`, and normalisation reads them `i`.
        # Not for short marks (`IN STOCK` is not the acronym LN), nor where the reading is a
        # word of its own (`FITS` is not FLTS).
        variants.setdefault(read_i, True)
    return variants


def _deletions(word: str, depth: int) -> set[str]:
    """`word` with up to `depth` letters deleted, never its first: the symmetric-deletion
    keys. A misspelling must keep the mark's first letter, and when the first letters agree
    a cheapest alignment keeps them, so deleting it never helps."""
    out = level = {word}
    for _ in range(depth):
        level = {w[:i] + w[i + 1:] for w in level for i in range(1, len(w))}
        out = out | level
    return out


_LATIN_WORD = re.compile(r"[a-z]+")
# Words that `leet_reading` may read: 4 characters or more, with a letter and a leet character.
_LEETABLE_WORD = re.compile(r"(?<![a-z0-9@$])(?=[a-z0-9@$]*[a-z])(?=[a-z0-9@$]*[0-9@$])[a-z0-9@$]{4,}(?![a-z0-9@$])")
_MAX_FUZZY = fuzzy_distance_allowed(10**6)
_MIN_FUZZY_WORD = min(n for n in range(1, 100) if fuzzy_distance_allowed(n)) - 1  # a long mark less one letter
_FUZZY_CACHE_SIZE = 50_000  # words
_FIND_CACHE_SIZE = 50_000  # texts: descriptions repeat a seller's (or a marketplace's) boilerplate


class MarkIndex:
    """Every brand's marks, compiled for matching. Build once, then `find` many times."""

    def __init__(self, automaton: ahocorasick.Automaton, fuzzy: dict[str, list[int]],
                 fuzzy_marks: list[tuple[str, int, tuple[_Entry, ...]]], size: int) -> None:
        self._automaton = automaton
        self._fuzzy = fuzzy  # deletion key -> indexes into _fuzzy_marks
        self._fuzzy_marks = fuzzy_marks  # (normalised mark, edits allowed, entries)
        self._longest = max((len(key) + allowed for key, allowed, _ in fuzzy_marks), default=0)
        # The Latin words a misspelt mark may be, in a text without CJK (see `_latin_words`)
        self._fuzzy_word_pattern = re.compile(rf"(?<![a-z])[a-z]{{{_MIN_FUZZY_WORD},{max(self._longest, _MIN_FUZZY_WORD)}}}(?![a-z])")
        self._found: dict[tuple[str, str], tuple[MarkHit, ...]] = {}  # (field, text) -> what `find` found
        # word -> its fuzzy matches: titles repeat words, and a word's matches depend on it alone
        self._fuzzy_cache: dict[str, tuple[tuple[_Entry, int], ...]] = {}
        self.size = size  # marks indexed

    # -- building ------------------------------------------------------------------------

    @classmethod
    def build(cls, brands: Iterable[tuple[str, list[str]]]) -> MarkIndex:
        """Index `(brand_id, marks)` pairs. Marks shorter than 2 characters are skipped:
        a single letter or Han character would be found everywhere."""
        words: dict[str, list[_Entry]] = {}
        by_key: dict[str, list[_Entry]] = {}
        size = 0
        for brand_id, marks in brands:
            for mark in marks:
                key = normalise_text(mark).text.strip()
                if len(key) < 2:
                    continue
                size += 1
                capitalised = len(key) <= 3 and _common_word(key, languages=("en",), zipf=_SHORT_WORD_ZIPF)
                for word, lookalike in _key_variants(key).items():
                    entry = _Entry(brand_id, mark, key, lookalike, capitalised)
                    words.setdefault(word, []).append(entry)
                    if word == key:
                        by_key.setdefault(key, []).append(entry)
        automaton = ahocorasick.Automaton()
        for word, entries in words.items():
            automaton.add_word(word, (word, tuple(entries)))
        if words:
            automaton.make_automaton()
        fuzzy, fuzzy_marks = cls._fuzzy_index(by_key)
        if fuzzy_marks:
            _common_word("qxzv")  # a non-word, so every language's list is loaded now, not in the first scan
        return cls(automaton, fuzzy, fuzzy_marks, size)

    @staticmethod
    def _fuzzy_index(by_key: dict[str, list[_Entry]]) -> tuple[dict[str, list[int]], list]:
        """Symmetric-deletion index: a word within d edits of a mark shares a key with it
        once each has up to d letters deleted, so a lookup costs a few dictionary probes
        per word whatever the number of brands."""
        fuzzy: dict[str, list[int]] = {}
        fuzzy_marks = []
        for key, entries in by_key.items():
            allowed = fuzzy_distance_allowed(len(key))
            if not allowed or not key.isascii() or not key.isalpha():
                continue
            slot = len(fuzzy_marks)
            fuzzy_marks.append((key, allowed, tuple(entries)))
            for deleted in _deletions(key, allowed):
                fuzzy.setdefault(deleted, []).append(slot)
        return fuzzy, fuzzy_marks

    # -- finding -------------------------------------------------------------------------

    def find(self, text: str, *, field: str = "title") -> list[MarkHit]:
        """Every brand mark in `text`, at most one hit per brand and mark (the surest, then
        the first), in the order they appear. `field` names the text in the explanations."""
        if not self._fuzzy_marks and not len(self._automaton):
            return []
        found = self._found.get((field, text))
        if found is None:
            found = tuple(self._find(text, field))
            if len(self._found) >= _FIND_CACHE_SIZE:
                self._found.clear()  # bounded, as the fuzzy cache
            self._found[(field, text)] = found
        return list(found)

    def _find(self, text: str, field: str) -> list[MarkHit]:
        norm = normalise_text(text)
        hits: dict[tuple[str, str], MarkHit] = {}
        covered: list[tuple[int, int]] = []
        for start, end, entry in self._exact_matches(norm):
            covered.append((start, end))
            _keep(hits, self._hit(norm, start, end, entry, field))
        for start, end, reading in self._leet_words(norm):
            for entry in self._entries(reading):
                if entry.lookalike and not _written_as_l(norm, start, entry.key):
                    continue
                covered.append((start, end))
                _keep(hits, self._hit(norm, start, end, entry, field, extra=Change.LEET))
        for start, end, entry, distance in self._fuzzy_matches(norm, covered):
            _keep(hits, self._fuzzy_hit(norm, start, end, entry, distance, field))
        return sorted(hits.values(), key=lambda h: (h.span, _RANK[h.how], h.brand_id))

    def _entries(self, word: str) -> tuple[_Entry, ...]:
        found = self._automaton.get(word, None) if len(self._automaton) else None
        return found[1] if found else ()

    def _exact_matches(self, norm: Normalised) -> Iterable[tuple[int, int, _Entry]]:
        text = norm.text
        if not len(self._automaton):
            return
        plain, size = not has_cjk(text), len(text)
        for last, (word, entries) in self._automaton.iter(text):
            start, end = last - len(word) + 1, last + 1
            if plain:  # no CJK: a boundary is what `_bounded` says with no Chinese to glue to nor to split at
                if len(word) <= 3:
                    if (start and text[start - 1].isalnum()) or (end < size and text[end].isalnum()):
                        continue
                elif (start and text[start - 1].isalpha()) or (end < size and text[end].isalpha()):
                    continue
            elif not _bounded(norm, start, end, word):
                continue
            for entry in entries:
                if entry.lookalike and not _written_as_l(norm, start, entry.key):
                    continue
                if entry.capitalised and not norm.source_text(start, end)[:1].isupper():
                    continue
                yield start, end, entry

    def _leet_words(self, norm: Normalised) -> Iterable[tuple[int, int, str]]:
        """Words that normalisation left as written because their digits could be a model
        (`4PEX`, `S74ern3n`); they count only when the whole word reads as a mark."""
        for m in _LEETABLE_WORD.finditer(norm.text):  # only the words `leet_reading` may read
            reading = leet_reading(m.group(0))
            if reading and reading != m.group(0):
                yield m.start(), m.end(), reading

    def _fuzzy_matches(self, norm: Normalised,
                       covered: list[tuple[int, int]]) -> Iterable[tuple[int, int, _Entry, int]]:
        if has_cjk(norm.text):
            words: Iterable[tuple[int, int]] = _latin_words(norm)
        else:  # the words are the runs of Latin letters: only those as long as a long mark give or take an edit
            words = (m.span() for m in self._fuzzy_word_pattern.finditer(norm.text))
        for start, end in words:
            if not _MIN_FUZZY_WORD <= end - start <= self._longest:
                continue  # no long mark is this long give or take an edit
            matches = self._fuzzy_word(norm.text[start:end])
            if matches and not _inside(covered, start, end):
                for entry, distance in matches:
                    yield start, end, entry, distance

    def _fuzzy_word(self, word: str) -> tuple[tuple[_Entry, int], ...]:
        """The marks `word` is a misspelling of, with the distance; cached per word."""
        found = self._fuzzy_cache.get(word)
        if found is not None:
            return found
        matches = []
        if not self._entries(word):  # a word that is some mark as it is is not a misspelling of another
            for slot in self._fuzzy_candidates(word):
                key, allowed, entries = self._fuzzy_marks[slot]
                distance = OSA.distance(word, key, score_cutoff=allowed)
                if 0 < distance <= allowed and word[0] == key[0] and not _inflection(word, key) \
                        and not _common_word(word):
                    matches.extend((entry, distance) for entry in entries)
        found = tuple(matches)
        if len(self._fuzzy_cache) >= _FUZZY_CACHE_SIZE:
            self._fuzzy_cache.clear()  # bounded: start afresh rather than keep every word ever seen
        self._fuzzy_cache[word] = found
        return found

    def _fuzzy_candidates(self, word: str) -> set[int]:
        slots: set[int] = set()
        depth = fuzzy_distance_allowed(len(word) + _MAX_FUZZY)  # the most any mark this word may be is allowed
        for deleted in _deletions(word, depth):
            found = self._fuzzy.get(deleted)
            if found:
                slots.update(found)
        return slots

    # -- explaining ----------------------------------------------------------------------

    def _hit(self, norm: Normalised, start: int, end: int, entry: _Entry, field: str,
             extra: int = 0) -> MarkHit:
        a, b = norm.source(start, end)
        matched = norm.original[a:b]
        bits = extra
        for flag in norm.flags[start:end]:
            bits |= flag
        if matched.casefold() == entry.mark.casefold() and not bits & ~Change.ACCENT:
            return MarkHit(entry.brand_id, entry.mark, "exact", matched, (a, b), f"{field} contains {visible(matched)}")
        disguises = labels(bits)
        if entry.lookalike and "look-alike letters" not in disguises:
            disguises = disguises + ("look-alike letters",)
        if not disguises:  # a spacing variant (Montblanc for MONT BLANC), or the mark's own accents left out
            return MarkHit(entry.brand_id, entry.mark, "exact", matched, (a, b), f"{field} contains {visible(matched)}")
        detail = f"{field} contains {visible(matched)}, {entry.mark} disguised with {_and(disguises)}"
        return MarkHit(entry.brand_id, entry.mark, "disguised", matched, (a, b), detail, disguises)

    def _fuzzy_hit(self, norm: Normalised, start: int, end: int, entry: _Entry, distance: int,
                   field: str) -> MarkHit:
        a, b = norm.source(start, end)
        matched = norm.original[a:b]
        disguises = norm.changes_in(start, end)
        edits = "1 edit" if distance == 1 else f"{distance} edits"
        detail = f"{field} contains {visible(matched)}, {edits} from {entry.mark}"
        if disguises:
            detail += f" (after undoing {_and(disguises)})"
        return MarkHit(entry.brand_id, entry.mark, "fuzzy", matched, (a, b), detail, disguises, distance)


def _bounded(norm: Normalised, start: int, end: int, word: str) -> bool:
    """Whether `text[start:end]` stands as a word (see the module's notes on boundaries)."""
    text = norm.text
    binds = _binds_short if len(word) <= 3 else _binds_long
    left = (is_cjk(word[0]) or start == 0 or not binds(text[start - 1])
            or _glued_to_chinese(text, start - 1, -1) or _camel_boundary(norm, start))
    if not left:  # most hits inside a longer word fail here; the right side need not be read
        return False
    return (is_cjk(word[-1]) or end == len(text) or not binds(text[end])
            or _glued_to_chinese(text, end, +1) or _camel_boundary(norm, end))


def _is_latin_letter(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


# Chinese words spelt with a Latin letter; glued to a mark they are not part of it (`MBRT恤`).
_CHINESE_WITH_LETTER = frozenset({
    "t恤", "t台", "v领", "u领", "u型", "v型", "u盘", "a货", "a字", "a版", "k金", "x光", "b超", "c位", "q版", "q弹",
    "超a", "顶a", "纯a",
})


def _glued_to_chinese(text: str, at: int, away: int) -> bool:
    """Whether the letter at `at` belongs to a Chinese word on its far side (`T恤`, `超A`)."""
    pair = text[at:at + 2] if away > 0 else text[max(0, at - 1):at + 1]
    return pair in _CHINESE_WITH_LETTER


def _camel_boundary(norm: Normalised, at: int) -> bool:
    """In Chinese text, where Latin words are often written without spaces, a change of case
    marks a word boundary: `XevixPolo衫`, `JSRPolo衫`. Only where the Latin run touches CJK,
    so that English compounds such as `AirPods` stay one word."""
    text = norm.text
    if not (0 < at < len(text)) or not (_is_latin_letter(text[at - 1]) and _is_latin_letter(text[at])):
        return False
    return _case_change(norm, at) and _latin_run_touches_cjk(text, at)


def _case_change(norm: Normalised, at: int) -> bool:
    """Whether the original text changes case at `at` as a camel-case word boundary would
    (`xP` in `XevixPolo`, `RP` in `JSRPolo`); `0 < at < len(norm.text)`."""
    before, here = norm.original[norm.starts[at - 1]], norm.original[norm.starts[at]]
    after = norm.original[norm.starts[at + 1]] if at + 1 < len(norm.text) else ""
    return (before.islower() and here.isupper()) or (before.isupper() and here.isupper() and after.islower())


def _latin_run_touches_cjk(text: str, at: int) -> bool:
    a = at
    while a > 0 and text[a - 1].isascii() and text[a - 1].isalnum():
        a -= 1
    b = at
    while b < len(text) and text[b].isascii() and text[b].isalnum():
        b += 1
    return (a > 0 and is_cjk(text[a - 1])) or (b < len(text) and is_cjk(text[b]))


_LATIN_RUN = re.compile(r"[A-Za-z0-9]+")  # what `_latin_run_touches_cjk` scans: ASCII letters and digits


def _latin_words(norm: Normalised) -> Iterable[tuple[int, int]]:
    """Spans of the Latin words of the text, split as marks are bounded: `draeselleT恤` has
    the word `draeselle`, `XevixPolo衫` the words `xevix` and `polo`."""
    text = norm.text
    # Words are found run by run, so that whether a run touches CJK (the condition for a case
    # change to split it, see `_camel_boundary`) is checked once per run, not per letter.
    for run in _LATIN_RUN.finditer(text):
        a, b = run.span()
        touches_cjk = (a > 0 and is_cjk(text[a - 1])) or (b < len(text) and is_cjk(text[b]))
        if not touches_cjk:  # no case change to split at, nor a Chinese word to be glued to
            for m in _LATIN_WORD.finditer(text, a, b):
                yield m.span()
            continue
        for m in _LATIN_WORD.finditer(text, a, b):
            start, end = m.start(), m.end()
            if _glued_to_chinese(text, start, -1):
                start += 1
            if _glued_to_chinese(text, end - 1, +1):
                end -= 1
            cut = start
            for k in range(start + 1, end):  # letters on both sides of k: only the case is left to check
                if _case_change(norm, k):
                    yield cut, k
                    cut = k
            if cut < end:
                yield cut, end


def _written_as_l(norm: Normalised, start: int, key: str) -> bool:
    """Whether every `i` that the text has where the mark has `l` was written as something
    that can stand for an `l` (`1`, `I`, `|`, a look-alike), not as a small `i`."""
    for k, ch in enumerate(key):
        if ch == "l" and norm.text[start + k] == "i" and norm.original[norm.starts[start + k]] == "i":
            return False
    return True


def _inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(a <= start and end <= b for a, b in spans)


# A word this common in any of these languages is that word, not a misspelt mark: `thermal`
# is not THERNAL, `sandal` not SENDAL, `channel` not CHANEL. Zipf scale: 3 is once per
# million words, 2.5 about once in three million.
_LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl")
_COMMON_ZIPF = 2.5
# A short mark this common as an English word (at, oak, dm) counts only capitalised.
_SHORT_WORD_ZIPF = 3.5


def _common_word(word: str, languages: tuple[str, ...] = _LANGUAGES, zipf: float = _COMMON_ZIPF) -> bool:
    return any(zipf_frequency(word, language) >= zipf for language in languages)


def _inflection(word: str, key: str) -> bool:
    """A plain English plural or singular of the mark: `harbors`, `anchors`, `glasses`."""
    longer, shorter = (word, key) if len(word) > len(key) else (key, word)
    return longer in (shorter + "s", shorter + "es")


def _keep(hits: dict[tuple[str, str], MarkHit], hit: MarkHit) -> None:
    """Keep the surest hit per brand and mark: exact over disguised over fuzzy, then the first."""
    key = (hit.brand_id, hit.mark)
    held = hits.get(key)
    if held is None or (_RANK[hit.how], hit.span) < (_RANK[held.how], held.span):
        hits[key] = hit


def _and(items: tuple[str, ...]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
