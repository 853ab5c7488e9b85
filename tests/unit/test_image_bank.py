"""The PDQ hash bank: Meta's reference hashes, a stolen photo found again after edits,
the match threshold at exactly 31, and faiss equal to brute force on every kind of bank."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from assay.detection.images import (
    MIN_QUALITY,
    MULTIHASH_BITS,
    MULTIHASH_EXACT_RADIUS,
    MULTIHASH_TABLES,
    PDQ_MATCH_DISTANCE,
    HashBank,
    Match,
    array_to_hexes,
    brute_force,
    hamming,
    hex_to_bytes,
    hexes_to_array,
    is_trusted,
)
from assay.services.images import fingerprint, pdq_hex

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "pdq-reference"
ORIGINAL = "aaa-orig.jpg"
BRIDGE_EDITS = [
    "blur-a-little.jpg",
    "blur-a-lot.jpg",
    "high-contrast.jpg",
    "high-saturation.jpg",
    "sharpen-a-little.jpg",
    "sharpen-a-lot.jpg",
    "shrink-a-little.jpg",
    "shrink-a-lot.jpg",
    "square-128x128.jpg",
    "square-256x256.jpg",
    "square-512x512.jpg",
]
# the original and its 11 edits: the twelve bridge-mods files
BRIDGE = [ORIGINAL, *BRIDGE_EDITS]
KINDS = {"flat": 10**12, "multihash": 0}  # multihash_min_size that forces each index kind


def expected() -> dict[str, str]:
    with (REFERENCE / "expected.csv").open(newline="") as f:
        return {row["file"]: row["pdq_hex"] for row in csv.DictReader(f)}


def flip(code: np.ndarray, positions) -> np.ndarray:
    """A copy of a 32-byte hash with the given bits flipped (bit p: byte p // 8, value 1 << p % 8,
    the little-endian bit order in which faiss cuts the hash into multi-hash substrings)."""
    out = code.copy()
    for p in positions:
        out[p // 8] ^= np.uint8(1 << (p % 8))
    return out


def as_pairs(results: list[list[Match]], bank: HashBank) -> list[list[tuple[int, int]]]:
    """HashBank results as brute_force's (position, distance), refs being 'r<position>'."""
    return [[(int(m.ref[1:]), m.distance) for m in row] for row in results]


def random_bank(rng: np.random.Generator, n: int, planted: int) -> tuple[np.ndarray, np.ndarray]:
    """n random hashes with duplicates, and queries near some of them at distances 0-40."""
    bank = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    if n >= 4:
        bank[n // 2] = bank[0]  # duplicates in the bank
        bank[n // 3] = bank[0]
        bank[n - 1] = flip(bank[1], range(31))  # two stored hashes 31 apart
    queries = [rng.integers(0, 256, size=32, dtype=np.uint8) for _ in range(5)]
    for _ in range(planted if n else 0):
        target = bank[rng.integers(0, n)]
        distance = int(rng.integers(0, 41))
        queries.append(flip(target, rng.choice(256, size=distance, replace=False)))
    return bank, np.array(queries, dtype=np.uint8)


def bank_of(codes: np.ndarray, kind: str) -> HashBank:
    return HashBank.build([(h, f"r{i}") for i, h in enumerate(array_to_hexes(codes))], multihash_min_size=KINDS[kind])


# --- the reference hashes --------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(expected()))
def test_reference_hashes_are_reproduced_exactly(name: str) -> None:
    assert fingerprint(REFERENCE / name).pdq == expected()[name]


def test_reference_covers_the_twelve_bridge_photos_and_the_others() -> None:
    assert set(BRIDGE) | {"wee.jpg", "small.jpg"} == set(expected())
    assert len(BRIDGE) == 12


@pytest.mark.parametrize("kind", KINDS)
def test_every_edit_of_the_bridge_photo_matches_the_original(kind: str) -> None:
    hashes = expected()
    others = [
        (h, f"product:other/{i}")
        for i, h in enumerate(
            array_to_hexes(np.random.default_rng(7).integers(0, 256, size=(2000, 32), dtype=np.uint8))
        )
    ]
    bank = HashBank.build(
        [(hashes[ORIGINAL], "product:brand-7/SKU-1"), (hashes["wee.jpg"], "takedown:listing 123"), *others],
        multihash_min_size=KINDS[kind],
    )
    assert bank.index_kind == kind
    results = bank.search([hashes[name] for name in BRIDGE])
    for name, matches in zip(BRIDGE, results, strict=True):
        assert [m.ref for m in matches] == ["product:brand-7/SKU-1"], name
        assert matches[0].distance == hamming(hashes[name], hashes[ORIGINAL]) <= PDQ_MATCH_DISTANCE
        assert matches[0].pdq == hashes[ORIGINAL]


def synthetic_photos() -> list[Image.Image]:
    """Unrelated pictures with plenty of detail: seeded noise, shapes, stripes."""
    rng = np.random.default_rng(3)
    photos = [Image.fromarray(rng.integers(0, 256, size=(240, 320, 3), dtype=np.uint8))]
    for seed in range(3):
        image = Image.new("RGB", (320, 240), (255, 255, 255))
        draw = ImageDraw.Draw(image)
        r = np.random.default_rng(seed)
        for _ in range(25):
            x, y = int(r.integers(0, 300)), int(r.integers(0, 220))
            colour = tuple(int(c) for c in r.integers(0, 256, size=3))
            draw.ellipse((x, y, x + int(r.integers(10, 80)), y + int(r.integers(10, 80))), fill=colour)
        photos.append(image)
    stripes = np.zeros((240, 320, 3), dtype=np.uint8)
    stripes[:, ::16] = 255
    photos.append(Image.fromarray(np.maximum(stripes, np.roll(stripes, 5, axis=1))))
    return photos


@pytest.mark.parametrize("kind", KINDS)
def test_unrelated_images_do_not_match_the_bridge(kind: str) -> None:
    hashes = expected()
    bank = HashBank.build([(hashes[name], f"bridge:{name}") for name in BRIDGE], multihash_min_size=KINDS[kind])
    unrelated = [hashes["wee.jpg"]]
    for photo in synthetic_photos():
        digest, quality = pdq_hex(photo)
        assert is_trusted(quality)
        unrelated.append(digest)
    assert bank.search(unrelated) == [[] for _ in unrelated]
    for digest in unrelated:
        assert min(hamming(digest, hashes[name]) for name in BRIDGE) > PDQ_MATCH_DISTANCE


def test_low_quality_hashes_are_not_trusted() -> None:
    assert MIN_QUALITY == 50
    assert fingerprint(REFERENCE / "small.jpg").quality == 0
    assert not is_trusted(fingerprint(REFERENCE / "small.jpg").quality)
    assert is_trusted(fingerprint(REFERENCE / ORIGINAL).quality)
    assert [is_trusted(q) for q in (None, 0, 49, 50, 100)] == [False, False, False, True, True]


# --- the threshold, exactly --------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_distance_31_matches_and_32_does_not(kind: str) -> None:
    base = np.random.default_rng(11).integers(0, 256, size=32, dtype=np.uint8)
    bank = bank_of(base[None, :], kind)
    spread = list(range(0, 256, 7))  # 37 bits spread over the hash: every substring gets some
    at = {d: flip(base, spread[:d]).tobytes().hex() for d in (0, 1, 30, 31, 32, 33)}
    assert {d: hamming(h, base.tobytes().hex()) for d, h in at.items()} == {d: d for d in at}
    results = bank.search(list(at.values()))
    assert [[m.distance for m in row] for row in results] == [[0], [1], [30], [31], [], []]
    # max_distance is inclusive at any value
    assert [m.distance for m in bank.search([at[32]], max_distance=32)[0]] == [32]
    assert bank.search([at[1]], max_distance=0) == [[]]
    assert [m.distance for m in bank.search([at[0]], max_distance=0)[0]] == [0]


def spread_over_substrings(per_substring: list[int], leftover: int = 0) -> list[int]:
    """Bit positions: per_substring[h] flips inside multi-hash substring h, plus some of the
    bits past the last substring (covered by no table)."""
    positions = []
    for h, count in enumerate(per_substring):
        positions += [h * MULTIHASH_BITS + 2 * j for j in range(count)]
    start = MULTIHASH_TABLES * MULTIHASH_BITS
    positions += list(range(start, start + leftover))
    return positions


@pytest.mark.parametrize(
    "per_substring, leftover",
    [
        # the tightest: every table sees at least 2 flips, so only probing 2 flips finds these
        ([3] * 9 + [2, 2], 0),  # 31
        ([3] * 8 + [2, 2, 3], 0),  # 31
        ([3] * 10 + [2], 0),  # 32: still exact (11 tables x 3 > 32)
        # 31, some of it where no table looks (the last 3 bits) or only one table is close
        ([3] * 10 + [1], 0),
        ([3] * 9 + [1, 0], 3),
        ([2] + [3] * 9 + [0], 2),
    ],
)
def test_multihash_finds_the_worst_cases_of_the_pigeonhole(per_substring: list[int], leftover: int) -> None:
    assert MULTIHASH_TABLES * MULTIHASH_BITS == 253 and MULTIHASH_EXACT_RADIUS == 32
    rng = np.random.default_rng(5)
    base = rng.integers(0, 256, size=32, dtype=np.uint8)
    positions = spread_over_substrings(per_substring, leftover)
    query = flip(base, positions)
    distance = len(set(positions))
    assert distance in (31, 32)
    bank = bank_of(np.vstack([rng.integers(0, 256, size=(500, 32), dtype=np.uint8), base]), "multihash")
    hits = bank.search([query.tobytes().hex()], max_distance=distance)[0]
    assert [(m.ref, m.distance) for m in hits] == [("r500", distance)]


def test_multihash_beyond_its_exact_radius_scans_in_full() -> None:
    rng = np.random.default_rng(6)
    base = rng.integers(0, 256, size=32, dtype=np.uint8)
    query = flip(base, spread_over_substrings([3] * 11))  # 33: no table within 2 flips
    bank = bank_of(np.vstack([rng.integers(0, 256, size=(300, 32), dtype=np.uint8), base]), "multihash")
    assert [(m.ref, m.distance) for m in bank.search([query.tobytes().hex()], max_distance=33)[0]] == [("r300", 33)]
    queries = np.vstack([query, rng.integers(0, 256, size=(3, 32), dtype=np.uint8)])
    for max_distance in (33, 64, 110, 256):
        assert as_pairs(bank.search(array_to_hexes(queries), max_distance, k=None), bank) == (
            brute_force(bank.codes, queries, max_distance)
        )


# --- faiss equals brute force -------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [0, 1, 7, 1000, 20_000])
def test_bank_equals_brute_force_on_random_banks(kind: str, n: int) -> None:
    rng = np.random.default_rng(n)
    codes, queries = random_bank(rng, n, planted=200)
    bank = bank_of(codes, kind)
    assert len(bank) == n
    query_hexes = array_to_hexes(queries)
    for max_distance in (0, 15, 31, 32):
        oracle = brute_force(codes, queries, max_distance)
        assert as_pairs(bank.search(query_hexes, max_distance, k=None), bank) == oracle
        assert as_pairs(bank.search(query_hexes, max_distance, k=2), bank) == [row[:2] for row in oracle]
    if n:
        assert sum(map(len, brute_force(codes, queries, 31))) > 50  # the planted ones are found


def test_duplicates_are_all_returned_in_insertion_order() -> None:
    hashes = expected()
    bank = HashBank.build(
        [(hashes[ORIGINAL], "product:a/1"), (hashes["wee.jpg"], "x"), (hashes[ORIGINAL], "takedown:2")]
    )
    assert [(m.ref, m.distance) for m in bank.search([hashes[ORIGINAL]])[0]] == [("product:a/1", 0), ("takedown:2", 0)]
    assert [m.ref for m in bank.search([hashes["blur-a-lot.jpg"]], k=1)[0]] == ["product:a/1"]


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 300),
    distances=st.lists(st.integers(0, 40), max_size=30),
    kind=st.sampled_from(sorted(KINDS)),
    max_distance=st.sampled_from([0, 1, 16, 30, 31, 32]),
)
@settings(max_examples=60, deadline=None)
def test_bank_equals_brute_force_for_any_bank(seed, n, distances, kind, max_distance) -> None:
    rng = np.random.default_rng(seed)
    # few distinct hashes, so duplicates are common
    distinct = rng.integers(0, 256, size=(max(1, n // 3), 32), dtype=np.uint8)
    codes = distinct[rng.integers(0, len(distinct), size=n)] if n else np.zeros((0, 32), dtype=np.uint8)
    queries = [
        flip(distinct[rng.integers(0, len(distinct))], rng.choice(256, size=d, replace=False)) for d in distances
    ]
    queries = np.array(queries, dtype=np.uint8).reshape(-1, 32)
    bank = bank_of(codes, kind)
    assert as_pairs(bank.search(array_to_hexes(queries), max_distance, k=None), bank) == brute_force(
        codes, queries, max_distance
    )


def test_growing_past_the_threshold_switches_to_multihash_and_keeps_every_entry() -> None:
    rng = np.random.default_rng(9)
    codes, queries = random_bank(rng, 3000, planted=100)
    hexes = array_to_hexes(codes)
    bank = HashBank(multihash_min_size=1500)
    bank.add([(h, f"r{i}") for i, h in enumerate(hexes[:1000])])
    assert bank.index_kind == "flat"
    bank.add([(h, f"r{i}") for i, h in enumerate(hexes[1000:2000], start=1000)])
    assert bank.index_kind == "multihash"
    bank.add([(h, f"r{i}") for i, h in enumerate(hexes[2000:], start=2000)])
    assert len(bank) == 3000 and np.array_equal(bank.codes, codes)
    assert as_pairs(bank.search(array_to_hexes(queries), k=None), bank) == brute_force(codes, queries, 31)
    assert bank.search([]) == []


# --- hashes as text --------------------------------------------------------------------------


def test_hex_round_trip_and_hamming() -> None:
    hashes = expected()
    original = hashes[ORIGINAL]
    assert hex_to_bytes(original).hex() == original
    assert hex_to_bytes(original.upper()) == hex_to_bytes(original)
    array = hexes_to_array(list(hashes.values()))
    assert array.shape == (len(hashes), 32) and array.dtype == np.uint8
    assert array_to_hexes(array) == list(hashes.values())
    assert hexes_to_array([]).shape == (0, 32)
    assert hamming(original, original) == 0
    assert hamming("0" * 64, "f" * 64) == 256
    assert hamming(original, hashes["blur-a-little.jpg"]) == 2


@pytest.mark.parametrize("bad", ["", "abc", "g" * 64, "0" * 63, "0" * 65, "ab " * 21 + "a", " " + "0" * 63])
def test_bad_hashes_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        hex_to_bytes(bad)
    with pytest.raises(ValueError):
        hexes_to_array(["0" * 64, bad])
    bank = HashBank()
    with pytest.raises(ValueError):
        bank.add([("0" * 64, "ok"), (bad, "bad")])
    assert len(bank) == 0
    with pytest.raises(ValueError):
        bank.search([bad])


def test_search_arguments_are_checked() -> None:
    bank = HashBank.build([("0" * 64, "zero")])
    with pytest.raises(TypeError):
        bank.search("0" * 64)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        bank.search(["0" * 64], k=0)
    with pytest.raises(ValueError):
        bank.search(["0" * 64], max_distance=-1)
    assert HashBank().search(["0" * 64]) == [[]]
