"""A seller's trader identity, normalised so that accounts of one person can be linked.

A seller banned for counterfeits often comes back under a new account with the same
phone, e-mail, tax id, bank account or address, written a little differently
("+86 138-0013-8000" vs "0086 13800138000", "J.Doe+shop@gmail.com" vs
"jdoe@googlemail.com"). Extending a ban to linked accounts, and later the detection
engine, needs each of those written one way only. Every normalised field becomes an
IdentityKey; two accounts that share a key are linked.

A wrong link extends a ban to a stranger, so the rules lean towards not linking:
the legal name is never a key (common names are shared by strangers), and
placeholder values such as "N/A", "none", "-" or "000000" normalise to None.

Pure code: no I/O, no database, no framework.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers


@dataclass(frozen=True)
class TraderIdentity:
    """The identity a seller declared to the marketplace, as written."""

    legal_name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    tax_id: str | None = None
    payment_account: str | None = None


class LinkKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    TAX_ID = "tax_id"
    PAYMENT_ACCOUNT = "payment_account"
    ADDRESS = "address"


@dataclass(frozen=True, order=True)
class IdentityKey:
    """One normalised identity field; accounts sharing a key are linked."""

    kind: LinkKind
    value: str


# Values people type into a mandatory form field when they have nothing to give,
# compared after folding and keeping only letters and digits.
_PLACEHOLDERS = frozenset(
    {"", "na", "nan", "none", "null", "nil", "unknown", "tbd", "notapplicable"}
)

# Marks a phone number that phonenumbers cannot make sense of. "?" never starts an
# E.164 string, so an odd number only ever links to the same odd number.
_UNPARSED_PHONE_PREFIX = "?"

_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})

# Address words written several ways, mapped word by word to one form; the
# canonical forms themselves ("st", "rd", ...) are left as they are.
_ADDRESS_WORDS = {
    "street": "st",
    "str": "st",
    "road": "rd",
    "avenue": "ave",
    "av": "ave",
    "boulevard": "blvd",
    "building": "bldg",
    "floor": "fl",
    "apartment": "apt",
    "unit": "apt",
    "suite": "apt",
    "ste": "apt",
    "number": "no",
    "district": "dist",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
}

# Han ideographs (with extension A), kana and Hangul (syllables and jamo): scripts
# written without spaces between words, so a space next to them is only formatting.
_CJK = (
    "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff"
)
_SPACE_NEXT_TO_CJK = re.compile(rf"\s+(?=[{_CJK}])|(?<=[{_CJK}])\s+")
_WHITESPACE = re.compile(r"\s+")


def normalise_phone(raw: str | None, default_region: str | None = None) -> str | None:
    """The number in E.164 ("+8613800138000"), or "?" and its digits if not a
    possible number; None if there are no digits at all."""
    text = _text(raw)
    if text is None:
        return None
    if text.startswith("00"):
        # "00" is the international call prefix in most of the world.
        text = "+" + text[2:]
    digits = _ascii_digits(text)
    if not digits or set(digits) == {"0"}:
        return None
    number = _parse_possible(text, None)
    if number is None and default_region:
        number = _parse_possible(text, default_region.upper())
    if number is None:
        return _UNPARSED_PHONE_PREFIX + digits
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str | None) -> str | None:
    """Lowercase, without "+tag"; gmail without dots in the local part."""
    text = _text(raw)
    if text is None:
        return None
    # Whitespace is never part of an unquoted address; drop it wherever it is.
    text = _fold(_WHITESPACE.sub("", _fold(text.lower())))
    if text.count("@") != 1:
        return None
    local, domain = text.split("@")
    # "name+anything@" is delivered to "name@" by most providers.
    local = local.split("+", 1)[0]
    if domain in _GMAIL_DOMAINS:
        # Gmail ignores dots in the local part; googlemail.com is the same mailbox.
        local = local.replace(".", "")
        domain = "gmail.com"
    if not _has_alnum(local) or not _has_alnum(domain):
        return None
    return _fold(f"{local}@{domain}")


def normalise_code(raw: str | None) -> str | None:
    """A tax id or payment account: uppercase letters and digits only."""
    text = _text(raw)
    if text is None:
        return None
    code = _fold("".join(ch for ch in _fold(text.upper()) if ch.isalnum()))
    if _is_placeholder(code) or set(code) == {"0"}:
        return None
    return code


def normalise_address(raw: str | None) -> str | None:
    """Casefolded words, punctuation gone, common abbreviations in one form;
    no spaces next to Chinese, Japanese or Korean characters."""
    text = _text(raw)
    if text is None:
        return None
    text = _fold(text.casefold())
    # Anything that is not a letter, digit or combining mark separates words.
    spaced = "".join(ch if unicodedata.category(ch)[0] in "LNM" else " " for ch in text)
    words = [_ADDRESS_WORDS.get(word, word) for word in spaced.split()]
    address = _fold(_SPACE_NEXT_TO_CJK.sub("", _fold(" ".join(words))))
    if _is_placeholder(address):
        return None
    return address


def identity_keys(
    identity: TraderIdentity, default_region: str | None = None
) -> frozenset[IdentityKey]:
    """The link keys of an identity, one per field that normalises to something."""
    values = {
        LinkKind.PHONE: normalise_phone(identity.phone, default_region),
        LinkKind.EMAIL: normalise_email(identity.email),
        LinkKind.TAX_ID: normalise_code(identity.tax_id),
        LinkKind.PAYMENT_ACCOUNT: normalise_code(identity.payment_account),
        LinkKind.ADDRESS: normalise_address(identity.address),
    }
    return frozenset(
        IdentityKey(kind, value) for kind, value in values.items() if value is not None
    )


def shared_keys(a: frozenset[IdentityKey], b: frozenset[IdentityKey]) -> frozenset[IdentityKey]:
    """The keys two identities have in common; non-empty means they are linked."""
    return a & b


def _text(raw: str | None) -> str | None:
    """NFKC-normalised (full-width digits become ASCII) and stripped; None if empty."""
    if raw is None:
        return None
    return unicodedata.normalize("NFKC", raw).strip() or None


def _is_placeholder(text: str) -> bool:
    """True for "N/A", "none", "-" and the like: nothing that identifies anyone."""
    return "".join(ch for ch in text.casefold() if ch.isalnum()) in _PLACEHOLDERS


def _has_alnum(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _fold(text: str) -> str:
    # Changing case or dropping characters can leave a string that NFKC would
    # change again (a letter meeting a combining mark, Hangul jamo meeting); redo
    # it so that normalising twice gives the same result as once.
    return unicodedata.normalize("NFKC", text)


def _ascii_digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(ch)) for ch in text if ch.isdecimal())


def _parse_possible(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_possible_number(number) else None
