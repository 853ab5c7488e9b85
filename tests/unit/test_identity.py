"""Trader identity normalisation: the same person written differently links,
different people do not, junk never links anyone."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from assay.domain.identity import (
    IdentityKey,
    LinkKind,
    TraderIdentity,
    identity_keys,
    normalise_address,
    normalise_code,
    normalise_email,
    normalise_phone,
    shared_keys,
)

ALL_NORMALISERS = [normalise_phone, normalise_email, normalise_code, normalise_address]
JUNK = [None, "", "   ", "\t\n", "N/A", "n/a", "none", "NONE", "null", "-", "--", "?", "."]


# --- nothing in, nothing out -------------------------------------------------


@pytest.mark.parametrize("normalise", ALL_NORMALISERS)
@pytest.mark.parametrize("raw", JUNK)
def test_junk_normalises_to_none(normalise, raw):
    assert normalise(raw) is None


def test_phone_without_digits_is_none():
    assert normalise_phone("call me", default_region="US") is None
    assert normalise_phone("+", default_region="US") is None


def test_all_zero_placeholders_are_none():
    assert normalise_phone("000 000 000") is None
    assert normalise_code("0000-0000") is None


# --- phone -------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "+86 138-0013-8000",
        "+8613800138000",
        "0086 13800138000",
        "00 86 138 0013 8000",
        "+86 (138) 0013 8000",
        "+８６ １３８－００１３－８０００",  # full-width digits, plus and dashes
        "  +86 138 0013 8000  ",
    ],
)
def test_phone_written_differently_is_one_e164(raw):
    assert normalise_phone(raw) == "+8613800138000"


def test_full_width_digits_with_default_region():
    assert normalise_phone("１３８００１３８０００", default_region="CN") == "+8613800138000"


def test_national_number_needs_default_region():
    assert normalise_phone("138 0013 8000", default_region="CN") == "+8613800138000"
    assert normalise_phone("(650) 253-0000", default_region="US") == "+16502530000"
    assert normalise_phone("030 1234567", default_region="DE") == "+49301234567"


def test_default_region_is_case_insensitive():
    assert normalise_phone("138 0013 8000", default_region="cn") == "+8613800138000"


def test_international_number_wins_over_default_region():
    assert normalise_phone("+44 20 7946 0958", default_region="US") == "+442079460958"
    assert normalise_phone("0044 20 7946 0958", default_region="CN") == "+442079460958"


def test_national_number_without_region_falls_back_to_digits():
    assert normalise_phone("138 0013 8000") == "?13800138000"


def test_same_number_in_different_countries_does_not_link():
    assert normalise_phone("650 253 0000", default_region="US") != normalise_phone(
        "650 253 0000", default_region="GB"
    )


def test_impossible_number_falls_back_to_question_mark_and_digits():
    assert normalise_phone("12345") == "?12345"
    assert normalise_phone("123-45", default_region="US") == "?12345"
    assert normalise_phone("+1 23") == "?123"


def test_odd_numbers_link_only_to_the_same_odd_number():
    assert normalise_phone("1-2-3-4-5") == normalise_phone("12 345")
    assert normalise_phone("12345") != normalise_phone("12346")
    # A fallback can never equal a real E.164 number.
    assert not normalise_phone("12345").startswith("+")


def test_extension_is_not_part_of_the_key():
    assert normalise_phone("+1 650 253 0000 ext. 12") == "+16502530000"


# --- email -------------------------------------------------------------------


def test_email_case_and_whitespace():
    assert normalise_email("  John.Doe@Example.COM ") == "john.doe@example.com"


def test_email_full_width_is_nfkc_folded():
    assert normalise_email("ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ") == "john@example.com"


def test_email_plus_tag_is_dropped():
    assert normalise_email("john+shop1@example.com") == "john@example.com"
    assert normalise_email("john+a+b@example.com") == "john@example.com"


def test_gmail_dots_and_googlemail_link():
    same = {
        normalise_email("J.Doe@gmail.com"),
        normalise_email("jdoe@gmail.com"),
        normalise_email("j.d.o.e+store@googlemail.com"),
        normalise_email("JDOE@GoogleMail.com"),
    }
    assert same == {"jdoe@gmail.com"}


def test_dots_matter_for_other_providers():
    assert normalise_email("j.doe@example.com") == "j.doe@example.com"
    assert normalise_email("j.doe@example.com") != normalise_email("jdoe@example.com")
    assert normalise_email("j.doe@outlook.com") != normalise_email("jdoe@outlook.com")


@pytest.mark.parametrize(
    "raw",
    ["john.example.com", "john@@example.com", "a@b@example.com", "@example.com", "john@",
     "+tag@example.com", "...@gmail.com", "@"],
)
def test_malformed_email_is_none(raw):
    assert normalise_email(raw) is None


# --- tax ids and payment accounts --------------------------------------------


@pytest.mark.parametrize(
    "raw", ["DE 123.456-789", "de123456789", "DE/123/456/789", " DE123456789 "]
)
def test_code_keeps_only_uppercase_letters_and_digits(raw):
    assert normalise_code(raw) == "DE123456789"


def test_iban_written_in_groups():
    assert normalise_code("GB29 NWBK 6016 1331 9268 19") == "GB29NWBK60161331926819"
    assert normalise_code("gb29-nwbk-6016-1331-9268-19") == "GB29NWBK60161331926819"


def test_code_full_width_is_folded():
    assert normalise_code("ＤＥ１２３４５６７８９") == "DE123456789"


def test_different_codes_do_not_link():
    assert normalise_code("DE123456789") != normalise_code("DE123456788")


# --- address -----------------------------------------------------------------


def test_address_abbreviations_are_canonical():
    long = normalise_address("12 North Main Street, Apartment 5, Building B, Floor 3")
    short = normalise_address("12 N. Main St. Apt 5 Bldg B Fl 3")
    assert long == short == "12 n main st apt 5 bldg b fl 3"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("5 Keji Road", "5 keji rd."),
        ("7 Park Avenue", "7 Park Ave"),
        ("7 Park Avenue", "7 park av"),
        ("Suite 100", "ste 100"),
        ("Unit 100", "apt 100"),
        ("Number 9, Nanshan District", "No. 9 Nanshan district"),
        ("1 West Sunset Boulevard", "1 W Sunset Blvd"),
        ("3 South East Street", "3 s e str"),
    ],
)
def test_addresses_written_differently_link(a, b):
    assert normalise_address(a) == normalise_address(b)


def test_address_punctuation_case_and_spacing():
    assert normalise_address("  10,  DOWNING--ST. ;London ") == "10 downing st london"


def test_different_addresses_do_not_link():
    assert normalise_address("12 Main St") != normalise_address("13 Main St")
    assert normalise_address("12 North Main St") != normalise_address("12 South Main St")


@pytest.mark.parametrize(
    "raw",
    ["深圳市 南山区，科技园", "深圳市南山区科技园", "深圳市　南山区、科技园。", " 深圳市-南山区 / 科技园 "],
)
def test_chinese_address_spacing_and_punctuation_is_ignored(raw):
    assert normalise_address(raw) == "深圳市南山区科技园"


def test_chinese_address_with_full_width_digits():
    assert normalise_address("科技园 １０ 号") == normalise_address("科技园10号") == "科技园10号"


def test_different_chinese_addresses_do_not_link():
    assert normalise_address("深圳市南山区科技园") != normalise_address("深圳市福田区科技园")


# --- identity keys -----------------------------------------------------------


def test_identity_keys_one_per_field_and_no_legal_name():
    identity = TraderIdentity(
        legal_name="John Doe",
        email="J.Doe+shop@gmail.com",
        phone="+86 138 0013 8000",
        address="12 Main Street",
        tax_id="DE 123.456-789",
        payment_account="GB29 NWBK 6016 1331 9268 19",
    )
    assert identity_keys(identity) == {
        IdentityKey(LinkKind.EMAIL, "jdoe@gmail.com"),
        IdentityKey(LinkKind.PHONE, "+8613800138000"),
        IdentityKey(LinkKind.ADDRESS, "12 main st"),
        IdentityKey(LinkKind.TAX_ID, "DE123456789"),
        IdentityKey(LinkKind.PAYMENT_ACCOUNT, "GB29NWBK60161331926819"),
    }


def test_identity_keys_skip_empty_and_junk_fields():
    identity = TraderIdentity(legal_name="John Doe", email="n/a", phone="-", tax_id="  ")
    assert identity_keys(identity) == frozenset()
    assert identity_keys(TraderIdentity()) == frozenset()


def test_identity_keys_use_default_region():
    keys = identity_keys(TraderIdentity(phone="138 0013 8000"), default_region="CN")
    assert keys == {IdentityKey(LinkKind.PHONE, "+8613800138000")}


def test_same_person_written_differently_is_linked():
    first = identity_keys(
        TraderIdentity(legal_name="Li Wei", phone="+86 138-0013-8000", email="li.wei@gmail.com")
    )
    second = identity_keys(
        TraderIdentity(
            legal_name="WEI LI", phone="0086 13800138000", email="LiWei+2@googlemail.com"
        )
    )
    assert shared_keys(first, second) == {
        IdentityKey(LinkKind.PHONE, "+8613800138000"),
        IdentityKey(LinkKind.EMAIL, "liwei@gmail.com"),
    }


def test_strangers_with_the_same_name_are_not_linked():
    first = identity_keys(TraderIdentity(legal_name="John Smith", email="john@example.com"))
    second = identity_keys(TraderIdentity(legal_name="John Smith", email="smith@example.org"))
    assert shared_keys(first, second) == frozenset()


def test_same_value_in_different_fields_does_not_link():
    # A tax id and a payment account that happen to read the same are different keys.
    first = identity_keys(TraderIdentity(tax_id="AB123456"))
    second = identity_keys(TraderIdentity(payment_account="AB123456"))
    assert shared_keys(first, second) == frozenset()


def test_shared_keys_is_symmetric_intersection():
    a = frozenset({IdentityKey(LinkKind.PHONE, "+1"), IdentityKey(LinkKind.EMAIL, "a@b")})
    b = frozenset({IdentityKey(LinkKind.EMAIL, "a@b"), IdentityKey(LinkKind.TAX_ID, "X")})
    assert shared_keys(a, b) == shared_keys(b, a) == {IdentityKey(LinkKind.EMAIL, "a@b")}


def test_identity_keys_sort():
    keys = sorted(identity_keys(TraderIdentity(phone="+8613800138000", email="a@b.com")))
    assert [key.kind for key in keys] == [LinkKind.EMAIL, LinkKind.PHONE]


# --- properties --------------------------------------------------------------

# Text that looks a bit like identity fields: letters, digits, CJK, full-width
# forms, punctuation and whitespace, plus anything else Unicode has.
identity_text = st.one_of(
    st.text(),
    st.text(
        alphabet=st.sampled_from(
            list("abcdeAZgmailcom0123456789@+.-_/ ,#\t")
            + list("深圳市南山区科技园号，、。　")
            + list("０１２３＠＋．ｇｍａｉｌＡＢ")
        )
    ),
)
regions = st.sampled_from([None, "US", "CN", "DE", "GB"])


@pytest.mark.parametrize("normalise", [normalise_email, normalise_code, normalise_address])
@given(raw=identity_text)
# Found by Hypothesis: NFKC turns "´" into a space and a combining accent, which
# composes with the letter once the space is dropped; Hangul jamo compose likewise.
@example(raw="0@A´")
@example(raw="가:ᆨ:0")
@example(raw="a.\u0301@gmail.com")
def test_normalising_is_idempotent(normalise, raw):
    once = normalise(raw)
    if once is not None:
        assert normalise(once) == once


@given(raw=identity_text)
def test_phone_normalising_without_region_is_idempotent(raw):
    once = normalise_phone(raw)
    if once is not None:
        assert normalise_phone(once) == once


@given(raw=identity_text, region=regions)
def test_phone_is_e164_or_marked_digits(raw, region):
    phone = normalise_phone(raw, region)
    if phone is not None:
        assert phone[0] in "+?"
        assert phone[1:].isascii() and phone[1:].isdigit()


@given(
    identity=st.builds(
        TraderIdentity,
        legal_name=st.none() | identity_text,
        email=st.none() | identity_text,
        phone=st.none() | identity_text,
        address=st.none() | identity_text,
        tax_id=st.none() | identity_text,
        payment_account=st.none() | identity_text,
    ),
    region=regions,
)
def test_identity_keys_never_hold_none_or_blank_values(identity, region):
    keys = identity_keys(identity, region)
    assert len(keys) <= 5
    assert len({key.kind for key in keys}) == len(keys)
    for key in keys:
        assert isinstance(key.kind, LinkKind)
        assert isinstance(key.value, str) and key.value.strip()
    assert shared_keys(keys, keys) == keys
