"""What the words around a mark say, in English and Chinese.

Small pure functions over a listing's text, each returning a `Finding` (what was found,
said so a reviewer, a seller and a brand can read it) or None. They read the normalised
text (see `normalise`), so `R3PLICA`, `Ｒｅｐｌｉｃａ` and `r e p l i c a` count too.

None of them decides anything alone: the same words appear on both sides ("replica" in a
scale model's title, a brand's name in a phone case that fits it, "mint" in "mint
condition"). They are evidence for a scorer to weigh with the mark, the price and the seller.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

try:  # CPython's own pattern parser, to read the phrases' patterns (see `_first_characters`); private,
    # so a Python without it only loses that shortcut
    from re import _parser as re_parser
    from re._constants import ASSERT, ASSERT_NOT, AT, BRANCH, IN, LITERAL, MAX_REPEAT, MIN_REPEAT, RANGE, SUBPATTERN
except ImportError:  # pragma: no cover
    re_parser = None
from typing import Any

from assay.detection.normalise import Normalised, normalise_text

__all__ = [
    "Finding",
    "category_matches",
    "canonical_category",
    "innocent_replica",
    "nominative_use",
    "replica_wording",
    "second_hand",
]


@dataclass(frozen=True)
class Finding:
    kind: str  # "replica_wording", "innocent_replica", "nominative_use", "second_hand", "category_match"
    detail: str  # one sentence, for people
    evidence: tuple[str, ...]  # the words as the text has them


def _phrases(*phrases: str) -> re.Pattern[str]:
    """One pattern for many phrases (regular expressions over normalised text), longest
    first. English phrases must stand as words; a phrase with Chinese in it matches anywhere,
    as Chinese has no spaces (it carries its own lookarounds where it needs them)."""
    parts = []
    for phrase in sorted(phrases, key=len, reverse=True):
        if not phrase.isascii():
            parts.append(phrase)
            continue
        # A number is a word of its own even when glued to letters: "1:1Maple".
        core = re.sub(r"\(\?!.*\)$", "", re.sub(r"^(?:\(\?<!.*?\))+", "", phrase))
        left = r"(?<![0-9])" if core[0].isdigit() else r"(?<![a-z0-9])"
        right = r"(?![0-9])" if core[-1].isdigit() else r"(?![a-z0-9])"
        parts.append(f"{left}(?:{phrase}){right}")
    pattern = "|".join(parts)
    first = _first_characters(re_parser.parse(pattern)) if re_parser is not None else None
    if first:  # most places in a text start no phrase: one test of the next character rules them out
        pattern = "(?=[" + "".join(re.escape(c) for c in sorted(first)) + f"])(?:{pattern})"
    return re.compile(pattern)


def _first_characters(items: Iterable[tuple[Any, Any]]) -> set[str] | None:
    """The characters a match of a parsed pattern can begin with; None when that is not known
    (a class such as `\\d`, a pattern that may match nothing), and then no place is ruled out."""
    first: set[str] = set()
    for op, arg in items:
        if op in (ASSERT, ASSERT_NOT, AT):  # a lookaround or anchor consumes nothing: look further
            continue
        if op is LITERAL:
            return first | {chr(arg)}
        if op is IN:
            for kind, value in arg:
                if kind is LITERAL:
                    first.add(chr(value))
                elif kind is RANGE:
                    first.update(map(chr, range(value[0], value[1] + 1)))
                else:
                    return None
            return first
        if op is SUBPATTERN:
            inner = _first_characters(arg[-1])
            return None if inner is None else first | inner
        if op is BRANCH:
            for branch in arg[1]:
                inner = _first_characters(branch)
                if inner is None:
                    return None
                first |= inner
            return first
        if op in (MAX_REPEAT, MIN_REPEAT):
            least, _, item = arg
            inner = _first_characters(item)
            if inner is None:
                return None
            first |= inner
            if least:
                return first
            continue  # it may repeat zero times: what follows may begin the match too
        return None
    return None  # the pattern may match the empty string


def _quoted(items: list[str]) -> str:
    return ", ".join(f"'{item}'" for item in items)


def _evidence(norm: Normalised, pattern: re.Pattern[str], negated: re.Pattern[str] | None = None) -> list[str]:
    """The original wording of every match of `pattern`, skipping negated ones (`not fake`)."""
    found: list[str] = []
    for m in pattern.finditer(norm.text):
        if negated is not None and negated.search(norm.text[max(0, m.start() - 12):m.start()]):
            continue
        words = norm.source_text(m.start(), m.end())
        if words not in found:
            found.append(words)
    return found


# A word just before that turns the phrase around: "not a replica", "no fakes", "拒绝高仿".
_NEGATION = re.compile(r"(?:(?<![a-z])(?:not|no|never|non|anti|zero)[ -](?:an? )?|非|不是|拒绝|杜绝)$")

# -- replica wording --------------------------------------------------------------------------

# `1:1` is also a ratio ("1:1 scale", "aspect ratio 1:1") and `AAA` a battery size, "rep" a
# sales rep or a repetition: each counts only outside those senses. Left out as too often
# innocent: "fake" and "imitation" ("fake fur", "imitation pearls").
_REPLICA = _phrases(
    r"replicas?", r"replikas?", r"(?<!sales )(?<!customer )(?<!service )(?<![0-9] )reps?(?! counter| range| max)",
    r"(?<!ratio )(?<!ratio of )1:1(?![\d.]| ?scale| ?ratio| ?aspect| ?size)",
    r"(?<![0-9])1 ?比 ?1(?![0-9])", r"一比一", r"aaa\+*(?! ?batter| ?cell| ?size)", r"a\+ ?quality",
    r"mirror (?:quality|grade|copy|image quality)", r"super ?copy", r"high ?copy", r"top ?copy",
    r"(?:best|top|high) quality copy", r"1:1 copy", r"copy version", r"super ?fake", r"dupes?", r"inspired by",
    r"factory original", r"original factory", r"same factory", r"ua quality", r"unauthori[sz]ed authentic",
    r"knock ?-?offs?", r"clones?", r"counterfeits?", r"高仿", r"复刻", r"原单", r"(?<![a-z])a货", r"精仿", r"超a",
    r"纯原", r"仿品", r"仿货", r"高仿原单", r"顶级复刻", r"高版本", r"同厂", r"大牌同款", r"专柜品质", r"懂的来",
    r"懂的私", r"尾单", r"跟单",
)


def replica_wording(text: str) -> Finding | None:
    """Words that say the goods are copies: replica, AAA, 1:1, mirror quality, super copy,
    dupe, inspired by, same factory; 高仿, 复刻, 原单, A货, 精仿, 1比1, 超A. Negated wording
    ("not a replica", "拒绝高仿") does not count. See `innocent_replica` for the innocent
    senses of "replica", "1:1" and 复刻."""
    norm = normalise_text(text)
    found = _evidence(norm, _REPLICA, _NEGATION)
    if not found:
        return None
    return Finding("replica_wording", f"replica wording: {_quoted(found)}", tuple(found))


# -- innocent senses of "replica" -------------------------------------------------------------

# Categories where counterfeits are what "replica" usually means; elsewhere (collectibles,
# art, books, toys, home) a replica is more often an honest reproduction.
_GOODS = frozenset({"footwear", "bags", "watches", "apparel", "cosmetics", "fragrance", "jewelry", "eyewear",
                    "electronics", "phone_accessories", "sporting_goods"})

_REPRODUCTION = _phrases(r"replicas?", r"reproductions?", r"repro", r"copy of", r"复制品", r"复刻", r"仿制品",
                         r"1:1 scale", r"life ?-?size", r"1:(?:[4-9]|\d{2,3})", r"die-?cast", r"车模", r"模型")

# (what it is, pattern, counts in any category)
_INNOCENT_SENSES: tuple[tuple[str, re.Pattern[str], bool], ...] = (
    ("a scale model", _phrases(r"1 ?: ?(?:[4-9]|\d{2,3})", r"1/\d{1,3} scale", r"(?:ho|n|oo|o|g) scale",
                               r"scale models?", r"die-?cast", r"model (?:car|kit|train|ship|plane|aircraft)s?",
                               r"合金车模", r"车模", r"比例模型", r"模型"), True),
    ("a museum or antique reproduction", _phrases(r"museum", r"antique maps?", r"vintage maps?", r"old maps?",
                                                  r"historical maps?", r"reproduction prints?", r"giclee",
                                                  r"famous paintings?", r"博物馆", r"古董地图", r"名画"), True),
    ("an art print", _phrases(r"maps? of", r"art prints?", r"fine art", r"posters?", r"canvas prints?", r"地图",
                              r"装饰画", r"挂画", r"油画"), False),
    ("a fossil or teaching specimen", _phrases(r"fossils?", r"specimens?", r"anatomical",
                                               r"(?:dinosaur|t-?rex|shark|raptor) (?:tooth|teeth|skull|claw)s?",
                                               r"化石", r"标本", r"教学模型"), True),
    ("a film or cosplay prop", _phrases(r"prop replicas?", r"replica props?", r"(?:film|movie|stage) props?",
                                        r"props? for", r"cosplay", r"道具", r"cos服"), True),
    ("a historical artefact", _phrases(r"roman", r"viking", r"medieval", r"samurai", r"ancient", r"victorian",
                                       r"egyptian", r"spartan", r"greek", r"civil war", r"coins?", r"helmets?",
                                       r"swords?", r"katana", r"shields?", r"display (?:piece|only)", r"non-working",
                                       r"古罗马", r"古代", r"青铜", r"古钱币", r"摆件"), False),
    ("a reissue of a retro game console", _phrases(r"retro (?:game|gaming|console|handheld)s?", r"怀旧",
                                                    r"掌上游戏机", r"经典掌机"), True),
)


def innocent_replica(text: str, category: str) -> Finding | None:
    """"Replica" (1:1, 复刻, reproduction) in an innocent sense: a 1:18 scale model, a museum
    or antique-map reproduction, a fossil cast, a cosplay prop, a historical artefact, a
    reissued retro console.

    In categories where brands sell goods (footwear, bags, watches, ...) only the senses that
    cannot describe a counterfeit there count (scale model, museum print, fossil, prop); the
    historical and retro senses count in collectibles, art, books, toys and home.

    A "replica jersey" is deliberately not innocent here: it is also the retail name of a
    licensed fan shirt, but then whether it is genuine is a question of who sells it and at
    what price, not of wording.
    """
    norm = normalise_text(text)
    if not _REPRODUCTION.search(norm.text):
        return None
    goods = canonical_category(category) in _GOODS
    for sense, pattern, anywhere in _INNOCENT_SENSES:
        if goods and not anywhere:
            continue
        found = _evidence(norm, pattern)
        if found:
            return Finding("innocent_replica", f"'replica' in an innocent sense: {sense} ({_quoted(found)})",
                           tuple(found))
    return None


# -- nominative use ---------------------------------------------------------------------------

# Said shortly before a mark, these name the brand to say what a product fits.
_BEFORE = re.compile(
    r"(?P<cue>(?<![a-z])(?:compatible (?:with|for)|works with|fits(?: for| to)?|fit for|to fit|made for|designed for|"
    r"suitable for|replacements? for|replacement|for use with|accessor(?:y|ies) for|spare (?:parts? )?for)|"
    r"适用于|适用|适配|兼容|用于|专用于)"
    r"[ :,\-–—]*(?:(?:the|your|my|all|any|a) )?$"
)
# "for" alone only right before the mark: "case for", "strap for", "For QUORVEX Regent: rain cover".
_BEFORE_FOR = re.compile(r"(?<![a-z])(?P<cue>for)[ :,\-–—]*(?:(?:the|your|my|all|any) )?$")
# Said shortly after a mark, in Chinese (`QUORVEX Regent专用`) and English (`QUORVEX-compatible`).
# (Used with `match`, which anchors at the end of the mark.)
_AFTER = re.compile(r".{0,32}?(?P<cue>专用|适用|适配|兼容|替换)"
                    r"|[ \-]*(?:[a-z0-9.]+ ){0,2}-?(?P<en>compatible|replacement)(?![a-z])")
_WINDOW = 40  # characters either side of the mark that may hold the cue
# A full stop ends a clause, a decimal point ("Stride 2.0专用") does not.
_CLAUSE_BREAK = re.compile(r"\.(?![0-9])|[;!?|/()【】\[\]。；！？，、★]")


def nominative_use(text: str, mark_span: tuple[int, int]) -> Finding | None:
    """Whether `text` names the mark at `mark_span` (a span of `text`, such as
    `MarkHit.span`) to say what a product fits: "compatible with", "fits", "replacement
    for", "case for", "for" right before it; 适用于, 兼容, 适配 before it; 专用, 适用, 兼容,
    替换, "compatible" or "replacement" shortly after it. The cue must be in the same clause
    as the mark: "Compatible with everything. QUORVEX bag" is no such use."""
    norm = normalise_text(text)
    start, end = norm.index_of(mark_span[0]), norm.index_of(mark_span[1])
    mark = text[mark_span[0]:mark_span[1]]
    clause_start = _clause_start(norm.text, start)
    cue = _BEFORE.search(norm.text, clause_start, start) or _BEFORE_FOR.search(norm.text, clause_start, start)
    where = "before"
    if cue is None:
        cue = _AFTER.match(norm.text, end, _clause_end(norm.text, end))
        where = "after"
    if cue is None:
        return None
    group = "cue" if cue.group("cue") else "en"
    words = norm.source_text(cue.start(group), cue.end(group))
    return Finding("nominative_use", f"'{words}' {where} {mark}: names the brand to say what the product fits",
                   (words,))


def _clause_start(text: str, at: int) -> int:
    lo = max(0, at - _WINDOW)
    breaks = [m.end() for m in _CLAUSE_BREAK.finditer(text, lo, at)]
    return breaks[-1] if breaks else lo


def _clause_end(text: str, at: int) -> int:
    hi = min(len(text), at + _WINDOW)
    m = _CLAUSE_BREAK.search(text, at, hi)
    return m.start() if m else hi


# -- second hand ------------------------------------------------------------------------------

_USED = _phrases(
    r"used(?! (?:for|to|in|as|by|with|on|only)\b)", r"pre-? ?owned", r"pre-? ?loved", r"second-? ?hand",
    r"2nd hand", r"worn(?: (?:once|twice|a few times|a couple of times|only))", r"(?:gently|lightly|barely|rarely) worn",
    r"(?:gently|lightly|barely|rarely) used", r"like new", r"mint condition", r"(?:good|great|excellent|fair) condition",
    r"signs of wear", r"some wear", r"minor scuffs?", r"no longer (?:use|need|wear)",
    r"(?:genuine|true|authentic|real) vintage", r"vintage (?:19|20)[0-9]{2}s?", r"vintage [0-9]0s",
    r"preowned", r"二手", r"闲置", r"转让", r"中古", r"[0-9一二三四五六七八九]+ ?成新", r"(?<![0-9])9[0-9] ?新",
    r"几乎全新", r"使用痕迹",
)
# A word just before that says new: "never used", "not worn", "非二手".
_NEVER = re.compile(r"(?:(?<![a-z])(?:never|not|un|no)[ -]|非|不是)$")


def second_hand(text: str) -> Finding | None:
    """Words that say the goods are used: used, pre-owned, preloved, second-hand, worn twice,
    mint condition; 二手, 九成新, 99新, 闲置, 转让, 中古. "Never used" and "used for" do not
    count. "Vintage" counts only as "true vintage" or with a period ("vintage 1990s"): alone it
    describes the style of many new goods ("vintage pendant necklace"). Nor does 自用 alone,
    a common phrase in new goods' titles (自用送礼 "for yourself or as a gift")."""
    norm = normalise_text(text)
    found = _evidence(norm, _USED, _NEVER)
    if not found:
        return None
    return Finding("second_hand", f"sold as used: {_quoted(found)}", tuple(found))


# -- categories -------------------------------------------------------------------------------

# The taxonomy brands register marks for, with names marketplaces use for the same thing.
_CATEGORY_NAMES: dict[str, tuple[str, ...]] = {
    "footwear": ("footwear", "shoe", "shoes", "sneaker", "sneakers", "boot", "boots", "sandal", "sandals", "鞋", "鞋靴",
                 "运动鞋", "女鞋", "男鞋"),
    "bags": ("bag", "bags", "handbag", "handbags", "luggage", "purse", "purses", "backpack", "backpacks", "wallet",
             "wallets", "bags_and_luggage", "箱包", "包", "包袋", "女包", "男包"),
    "watches": ("watch", "watches", "wristwatch", "wristwatches", "timepiece", "timepieces", "手表", "腕表", "钟表"),
    "apparel": ("apparel", "clothing", "clothes", "fashion", "garment", "garments", "menswear", "womenswear",
                "服装", "服饰", "女装", "男装"),
    "cosmetics": ("cosmetics", "cosmetic", "makeup", "make_up", "beauty", "skincare", "skin_care", "美妆", "彩妆",
                  "化妆品", "护肤"),
    "fragrance": ("fragrance", "fragrances", "perfume", "perfumes", "parfum", "香水"),
    "electronics": ("electronics", "electronic", "consumer_electronics", "audio", "数码", "电子", "电子产品", "3c"),
    "phone_accessories": ("phone_accessories", "phone_accessory", "mobile_accessories", "cell_phone_accessories",
                          "phone_cases", "手机配件", "手机壳"),
    "toys": ("toys", "toy", "toys_and_games", "games", "玩具", "玩具乐器"),
    "home": ("home", "home_and_garden", "home_and_kitchen", "household", "homeware", "homewares", "kitchen",
             "家居", "家居用品", "家纺"),
    "jewelry": ("jewelry", "jewellery", "jewelries", "jewelleries", "accessories_jewelry", "珠宝", "首饰", "饰品"),
    "eyewear": ("eyewear", "glasses", "sunglasses", "eyeglasses", "optical", "眼镜"),
    "sporting_goods": ("sporting_goods", "sports", "sport", "sports_and_outdoors", "outdoors", "outdoor", "fitness",
                       "运动", "户外", "运动户外"),
    "art": ("art", "arts", "wall_art", "prints", "paintings", "艺术", "艺术品", "字画"),
    "books": ("books", "book", "stationery", "图书", "书籍", "文具"),
    "collectibles": ("collectibles", "collectible", "collectables", "collectable", "hobbies", "收藏", "收藏品", "模型"),
}
_CANONICAL: dict[str, str] = {name: canon for canon, names in _CATEGORY_NAMES.items() for name in names}
# A path (`Clothing > Men > Hoodies`) or a group (`Clothing, Shoes & Jewelry`): each part counts.
_CATEGORY_PARTS = re.compile(r"\s*(?:>|/|\\|»|›|\||&|\+|,|;|\band\b)\s*")


def _category_key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", normalise_text(name).text).strip("_")


def _singular(key: str) -> str:
    for plural, singular in (("ies", "y"), ("ches", "ch"), ("shes", "sh"), ("sses", "ss"), ("s", "")):
        if key.endswith(plural) and len(key) > len(plural) + 2:
            return key[: -len(plural)] + singular
    return key


@lru_cache(maxsize=4096)  # a marketplace has few category names, met on every listing
def canonical_category(name: str) -> str:
    """A category name in the taxonomy's terms where it is a known name for one (`Shoes`,
    `鞋靴`, `Jewellery` -> footwear, footwear, jewelry); else its normalised form."""
    key = _category_key(name)
    return _CANONICAL.get(key) or _CANONICAL.get(_singular(key)) or _singular(key)


@lru_cache(maxsize=4096)
def _category_parts(name: str) -> tuple[str, ...]:
    whole = canonical_category(name)
    parts = [canonical_category(p) for p in _CATEGORY_PARTS.split(name.lower()) if p.strip()]
    return (whole, *(p for p in parts if p != whole))


def category_matches(listing_category: str, registered_categories: Iterable[str]) -> Finding | None:
    """Whether a listing's category is one the brand registered its marks for, comparing
    names after normalising case, spacing, plurals and common synonyms (`Shoes` and
    `footwear`, `Jewellery` and `jewelry`, `箱包` and `bags`); a path or group such as
    `Fashion > Bags` or `Clothing, Shoes & Jewelry` matches on any of its parts."""
    registered = {canonical_category(c): c for c in registered_categories}
    for listed in _category_parts(listing_category):
        if listed in registered:
            return Finding("category_match",
                           f"listed in '{listing_category}', a category the mark is registered for "
                           f"('{registered[listed]}')", (listing_category,))
    return None
