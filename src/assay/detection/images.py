"""A bank of PDQ hashes to find a known photo again after edits: exact Hamming range search.

A PDQ hash is 256 bits, written as 64 hex digits (most significant bit first, as
`assay.services.images.pdq_hex` writes them). Two photos match when their hashes differ in
at most `PDQ_MATCH_DISTANCE` = 31 bits, the threshold Meta publishes with PDQ. The bank maps
each stored hash to an opaque `ref` string ("product:brand-7/SKU-1", "takedown:listing 123")
and, for each query hash, returns the stored entries within the distance, nearest first.

Quality. PDQ also gives each hash a quality, 0-100: how much gradient (detail) the
downsampled image had. A flat, tiny or mostly blank image has so little that its hash bits
are decided by noise and rounding around the median, not by the picture: such hashes are
unstable under edits and collide with unrelated low-detail images, so they cause false
matches. Meta's reference guidance is to discard hashes of quality 49 or less, hence
`MIN_QUALITY` = 50. The bank itself only sees hashes; callers check `is_trusted(quality)`
before adding a hash or searching with it.

Index. Results are exact: they equal `brute_force`, the numpy baseline, entry for entry.

- Up to `MULTIHASH_MIN_SIZE` entries: faiss `IndexBinaryFlat`, a full scan with popcount.
  Nothing to build, 32 bytes a hash, and while the bank fits in the CPU cache (a few
  hundred thousand hashes) it is as fast as anything else.
- Above: faiss `IndexBinaryMultiHash` (multi-index hashing), with `MULTIHASH_TABLES` = 11
  hash tables over disjoint 23-bit substrings of the hash, each probed with every key
  within `MULTIHASH_FLIPS` = 2 bit flips of the query's substring; the candidates found are
  then checked against their full 256-bit hash.

  Why it misses nothing. Split the 256 bits into m disjoint substrings (here 11 x 23 = 253
  bits; 3 bits are in no substring). If two hashes differ in d bits, the substring
  distances d_1 + ... + d_m <= d (the 3 left-over bits only make the sum smaller). If every
  substring differed in more than f bits, the sum would be at least m * (f + 1). So when
  d < m * (f + 1), some substring differs in at most f bits, and probing every key within f
  flips of each query substring finds the stored hash in that substring's table. With
  m = 11 and f = 2, m * (f + 1) = 33: exact for any distance <= 32, which covers 31 (a
  search with a larger `max_distance` falls back to the flat scan of the same codes).

  Cost. A query probes 11 x (1 + 23 + 253) = 3,047 keys; of 1M random hashes each key holds
  1M / 2**23 ~ 0.12 on average, so ~360 candidates get a full distance, against 1M for a
  flat scan. Other splits were measured (1M random hashes, one core): 16 x 16 bits with 1
  flip (what one tries first, 16 x 2 = 32 > 31) is exact too but draws ~4,000 candidates
  and runs at about a third the speed of the flat scan; 8 x 32 bits with 3 flips probes
  44k keys a query and is slower still; 12 x 21 with 2 flips is a little slower than
  11 x 23. The price is memory: faiss keeps one C++ hash map entry per stored hash per
  table, about 1 kB per hash (~1 GB for 1M), and ~10 s to build 1M.
  `IndexBinaryHash` (one table over a prefix) cannot be exact at radius 31 with any
  practical number of flips, and `IndexBinaryIVF` is approximate (it misses matches that
  fall in clusters it does not probe), so neither is used.

Crops, borders and small rotations. PDQ tolerates recompression, resizing and colour edits,
not a crop, a frame or a turn of a few degrees: copies of catalog photos on marketplaces
usually carry several at once. So `PhotoBank` holds several views of each official photo
(the photo as it is, its borders trimmed, crops of 90/80/70% of its side on a 3 x 3 grid,
turns of 3 and 6 degrees either way; each view maps back to its photo; crops that trim
to the same pixels are kept once), and a listing's photo is queried with its near-uniform
borders trimmed (a copy left as it is trims as its source does, to the "trimmed" view;
hashing it untrimmed as well cost a third more scan time for 4% more of
bench/crop_match_bench.py's copies found with their source). Many views of
product shots alike in shape come within 31 bits of each other, so each view also keeps
its colour layout (8 x 8 cells of RGB, normalised for brightness and contrast): a
candidate counts only when the layouts agree (`MIN_LAYOUT_SIMILARITY`), and the best
agreement, then the smallest distance, decides which photo the copy is of.

faiss's range search keeps distances strictly below its radius; `max_distance` here is
inclusive (a distance of exactly `max_distance` matches), so faiss gets `max_distance + 1`.

Pure: no file or database I/O; all faiss calls stay in this module. A bank is not safe to
`add` to while another thread searches it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import faiss
import numpy as np

PDQ_BITS = 256
PDQ_BYTES = PDQ_BITS // 8
PDQ_HEX_DIGITS = PDQ_BITS // 4
PDQ_MATCH_DISTANCE = 31
"""Hashes at Hamming distance <= 31 (of 256 bits) are the same photo: Meta's PDQ threshold."""
MIN_QUALITY = 50
"""PDQ hashes of quality below 50 are not trusted (see the module docstring)."""

MIN_LAYOUT_SIMILARITY = 0.95
"""Correlation of two colour layouts (1 = the same up to brightness and contrast) below which
a PDQ match is not taken: measured with bench/crop_match_bench.py, it keeps every one of
Meta's bridge edits (0.978 and above) and removes most matches between different products."""
AS_IS = "as is"
"""The view of a photo that is the photo itself."""

MULTIHASH_MIN_SIZE = 250_000
"""Banks larger than this use the multi-hash index; measured crossover ~300k on one core."""
MULTIHASH_TABLES = 11
MULTIHASH_BITS = 23
MULTIHASH_FLIPS = 2
MULTIHASH_EXACT_RADIUS = MULTIHASH_TABLES * (MULTIHASH_FLIPS + 1) - 1
"""The largest distance the multi-hash index is guaranteed to find (pigeonhole): 32."""

assert MULTIHASH_TABLES * MULTIHASH_BITS <= PDQ_BITS
assert MULTIHASH_EXACT_RADIUS >= PDQ_MATCH_DISTANCE

_POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


# --- hashes as bytes ----------------------------------------------------------------------


def hex_to_bytes(hex64: str) -> bytes:
    """The 32 bytes of a PDQ hash written as 64 hex digits (either case); ValueError otherwise."""
    if not isinstance(hex64, str) or len(hex64) != PDQ_HEX_DIGITS:
        raise ValueError(f"a PDQ hash is {PDQ_HEX_DIGITS} hex digits, got {hex64!r}")
    try:
        data = bytes.fromhex(hex64)
    except ValueError:
        raise ValueError(f"a PDQ hash is {PDQ_HEX_DIGITS} hex digits, got {hex64!r}") from None
    if len(data) != PDQ_BYTES:  # bytes.fromhex skips spaces: "ab cd ..." has fewer bytes
        raise ValueError(f"a PDQ hash is {PDQ_HEX_DIGITS} hex digits, got {hex64!r}")
    return data


def hexes_to_array(hexes: Iterable[str]) -> np.ndarray:
    """Many hashes as a C-contiguous uint8 array of shape (n, 32); ValueError on a bad one."""
    if isinstance(hexes, str):
        raise TypeError("expected a sequence of hashes, got one string")
    hexes = list(hexes)
    if not hexes:
        return np.zeros((0, PDQ_BYTES), dtype=np.uint8)
    data = b""
    if all(isinstance(h, str) and len(h) == PDQ_HEX_DIGITS for h in hexes):
        try:
            data = bytes.fromhex("".join(hexes))
        except ValueError:
            pass
    if len(data) != PDQ_BYTES * len(hexes):  # a bad one (or spaces, which fromhex skips): name it
        data = b"".join(hex_to_bytes(h) for h in hexes)
    return np.frombuffer(data, dtype=np.uint8).reshape(len(hexes), PDQ_BYTES).copy()


def array_to_hexes(codes: np.ndarray) -> list[str]:
    """The inverse of `hexes_to_array`: 64 lowercase hex digits a row."""
    return [row.tobytes().hex() for row in _as_codes(codes)]


def hamming(a_hex: str, b_hex: str) -> int:
    """Bits in which two PDQ hashes differ, 0-256."""
    a = int.from_bytes(hex_to_bytes(a_hex), "big")
    b = int.from_bytes(hex_to_bytes(b_hex), "big")
    return (a ^ b).bit_count()


def is_trusted(quality: int | None) -> bool:
    """Whether a hash of this PDQ quality may be stored or searched with (>= MIN_QUALITY)."""
    return quality is not None and quality >= MIN_QUALITY


def _as_codes(hashes: Sequence[str] | np.ndarray) -> np.ndarray:
    if isinstance(hashes, np.ndarray):
        if hashes.dtype != np.uint8 or hashes.ndim != 2 or hashes.shape[1] != PDQ_BYTES:
            raise ValueError(f"expected a uint8 array of shape (n, {PDQ_BYTES}), got {hashes.dtype} {hashes.shape}")
        return np.ascontiguousarray(hashes)
    return hexes_to_array(hashes)


def _padded(codes: np.ndarray) -> np.ndarray:
    """A copy of `codes` with 8 spare bytes after its end.

    faiss's multi-hash reads each substring as an unaligned 64-bit word, so for the last
    tables of the last hash in a buffer it reads up to 4 bytes past the 32 of the hash (the
    bits it keeps are right; the read is not). The spare bytes keep that read in memory we own.
    """
    buffer = np.zeros(codes.size + 8, dtype=np.uint8)
    buffer[: codes.size] = codes.reshape(-1)
    return buffer[: codes.size].reshape(codes.shape)


# --- the baseline -------------------------------------------------------------------------


def _distances(bank64: np.ndarray, query64: np.ndarray) -> np.ndarray:
    xor = bank64 ^ query64
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(xor).sum(axis=1, dtype=np.int32)
    return _POPCOUNT8[xor.view(np.uint8)].sum(axis=1, dtype=np.int32)


def brute_force(
    bank_hexes: Sequence[str] | np.ndarray,
    query_hexes: Sequence[str] | np.ndarray,
    max_distance: int = PDQ_MATCH_DISTANCE,
) -> list[list[tuple[int, int]]]:
    """For each query, every (bank position, distance) with distance <= max_distance,
    ordered by distance then position. Numpy only: the baseline and the test oracle."""
    bank = _as_codes(bank_hexes)
    queries = _as_codes(query_hexes)
    bank64 = bank.view(np.uint64)  # (n, 4): four popcounts a pair instead of 32
    results: list[list[tuple[int, int]]] = []
    for q in queries.view(np.uint64):
        if len(bank64) == 0:
            results.append([])
            continue
        d = _distances(bank64, q)
        hits = np.flatnonzero(d <= max_distance)
        order = hits[np.lexsort((hits, d[hits]))]
        results.append([(int(i), int(d[i])) for i in order])
    return results


# --- the bank -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    ref: str
    distance: int
    pdq: str  # the stored hash that matched, 64 lowercase hex digits


def set_threads(n: int) -> None:
    """Threads faiss may use for one search call (it splits calls of more than 100 queries)."""
    faiss.omp_set_num_threads(int(n))


def get_threads() -> int:
    return int(faiss.omp_get_max_threads())


class HashBank:
    """PDQ hashes with a ref each, searched by Hamming distance, exactly."""

    def __init__(self, *, multihash_min_size: int = MULTIHASH_MIN_SIZE) -> None:
        self.multihash_min_size = multihash_min_size
        self._codes = np.zeros((0, PDQ_BYTES), dtype=np.uint8)  # growable: rows [: self._n] are used
        self._n = 0
        self._refs: list[str] = []
        self._index: faiss.IndexBinary = faiss.IndexBinaryFlat(PDQ_BITS)

    @classmethod
    def build(cls, entries: Iterable[tuple[str, str]], *, multihash_min_size: int = MULTIHASH_MIN_SIZE) -> HashBank:
        """A bank of (pdq_hex, ref) entries; the index kind follows the number of entries."""
        bank = cls(multihash_min_size=multihash_min_size)
        bank.add(entries)
        return bank

    def __len__(self) -> int:
        return self._n

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # faiss indexes do not pickle; the codes and refs do, and rebuild the same index.
        return (_restore_bank, (self.codes.tobytes(), tuple(self._refs), self.multihash_min_size))

    @property
    def index_kind(self) -> str:
        """Which index the bank uses now: "multihash" or "flat"."""
        return "multihash" if isinstance(self._index, faiss.IndexBinaryMultiHash) else "flat"

    @property
    def codes(self) -> np.ndarray:
        """The stored hashes, (len, 32) uint8, in insertion order (read-only view)."""
        view = self._codes[: self._n]
        view.flags.writeable = False
        return view

    @property
    def refs(self) -> Sequence[str]:
        return tuple(self._refs)

    def ref_at(self, position: int) -> str:
        return self._refs[position]

    def add(self, entries: Iterable[tuple[str, str]]) -> None:
        """Add (pdq_hex, ref) entries. Every entry is kept, duplicates included; a bad hash
        raises ValueError and adds nothing."""
        hexes: list[str] = []
        refs: list[str] = []
        for pdq, ref in entries:
            hexes.append(pdq)
            refs.append(str(ref))
        if not hexes:
            return
        codes = hexes_to_array(hexes)
        self._append(codes)
        self._refs.extend(refs)
        if self.index_kind == "flat" and self._n > self.multihash_min_size:
            self._index = self._new_multihash(self._codes[: self._n])
        else:
            self._index.add(_padded(codes))

    def search(
        self,
        query_hexes: Sequence[str],
        max_distance: int = PDQ_MATCH_DISTANCE,
        k: int | None = 5,
    ) -> list[list[Match]]:
        """For each query hash, up to `k` stored entries (all if k is None) within
        `max_distance` (inclusive), nearest first, ties in insertion order."""
        if isinstance(query_hexes, str):
            raise TypeError("search takes a sequence of hashes; wrap a single one in a list")
        if k is not None and k < 1:
            raise ValueError("k must be at least 1, or None for all")
        if not 0 <= max_distance <= PDQ_BITS:
            raise ValueError(f"max_distance must be 0-{PDQ_BITS}")
        query, position, distance = self.hits(query_hexes, max_distance)
        order = np.lexsort((position, distance, query))
        query, position, distance = query[order], position[order], distance[order]
        starts = np.searchsorted(query, np.arange(len(query_hexes) + 1))
        results: list[list[Match]] = []
        for lo, hi in zip(starts[:-1], starts[1:], strict=True):
            hi = hi if k is None else min(hi, lo + k)
            results.append([Match(self._refs[i], int(d), self._codes[i].tobytes().hex())
                            for i, d in zip(position[lo:hi].tolist(), distance[lo:hi], strict=True)])
        return results

    def hits(self, query_hexes: Sequence[str], max_distance: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every stored entry within `max_distance` (inclusive) of each query, unordered, as
        three arrays: the query's number, the entry's position, the distance."""
        queries = hexes_to_array(query_hexes)
        if len(queries) == 0 or self._n == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32)
        index = self._index
        if isinstance(index, faiss.IndexBinaryMultiHash) and max_distance > MULTIHASH_EXACT_RADIUS:
            index = index.storage  # the same codes, scanned in full: exact at any distance
        lims, distances, ids = index.range_search(_padded(queries), int(max_distance) + 1)
        return np.repeat(np.arange(len(queries)), np.diff(lims).astype(np.int64)), ids.astype(np.int64), distances.astype(np.int32)

    # --- internals ---

    def _append(self, codes: np.ndarray) -> None:
        need = self._n + len(codes)
        if need > len(self._codes):
            grown = np.zeros((max(need, 2 * len(self._codes), 1024), PDQ_BYTES), dtype=np.uint8)
            grown[: self._n] = self._codes[: self._n]
            self._codes = grown
        self._codes[self._n : need] = codes
        self._n = need

    @staticmethod
    def _new_multihash(codes: np.ndarray) -> faiss.IndexBinaryMultiHash:
        index = faiss.IndexBinaryMultiHash(PDQ_BITS, MULTIHASH_TABLES, MULTIHASH_BITS)
        index.nflip = MULTIHASH_FLIPS
        index.add(_padded(codes))
        return index


# --- photos: views, colour layouts -----------------------------------------------------------


@dataclass(frozen=True)
class Photo:
    """A listing's photo as queried: the PDQ hashes of its orientations (as it is and with
    its borders trimmed) and its colour layout (None when unknown: no layout check)."""

    hashes: tuple[str, ...]
    layout: np.ndarray | None = None


@dataclass(frozen=True)
class PhotoMatch:
    ref: str
    view: str
    distance: int
    similarity: float | None  # of the colour layouts; None when either is unknown


def layout_similarity(query: np.ndarray, stored: np.ndarray) -> float:
    """Correlation of two colour layouts, the query's in its eight orientations, the best;
    a layout is (cells, cells, 3), zero mean and unit variance."""
    best = -1.0
    for flipped in (query, query[:, ::-1]):
        for k in range(4):
            best = max(best, float((np.rot90(flipped, k) * stored).mean()))
    return best


class PhotoBank:
    """Views of photos (a PDQ hash, a view name and a colour layout each) searched by PDQ
    distance, candidates kept when their colour layouts agree. Picklable."""

    def __init__(self, hashes: HashBank | None = None) -> None:
        self.hashes = hashes if hashes is not None else HashBank()
        self._views = [AS_IS] * len(self.hashes)
        # every view's layout as a row (zeros where unknown), to compare many in one product
        self._layouts = np.zeros((len(self.hashes), 0), dtype=np.float32)
        self._known = np.zeros(len(self.hashes), dtype=bool)

    def __len__(self) -> int:
        return len(self.hashes)

    @property
    def refs(self) -> Sequence[str]:
        """The ref of every view, in insertion order."""
        return self.hashes.refs

    @property
    def views(self) -> Sequence[str]:
        return tuple(self._views)

    def add(self, entries: Iterable[tuple[str, str, str, np.ndarray | None]]) -> None:
        """Add (pdq_hex, ref, view, layout) entries."""
        entries = list(entries)
        if not entries:
            return
        self.hashes.add((pdq, ref) for pdq, ref, _, _ in entries)
        self._views.extend(view for _, _, view, _ in entries)
        size = max([self._layouts.shape[1]] + [layout.size for *_, layout in entries if layout is not None])
        rows = np.zeros((len(entries), size), dtype=np.float32)
        for row, (*_, layout) in zip(rows, entries, strict=True):
            if layout is not None:
                row[:] = layout.reshape(-1)
        if size > self._layouts.shape[1]:  # the first layouts: the bank's earlier views had none
            self._layouts = np.zeros((len(self._layouts), size), dtype=np.float32)
        self._layouts = np.concatenate([self._layouts, rows])
        self._known = np.concatenate([self._known, [layout is not None for *_, layout in entries]])

    def search(self, photos: Sequence[Photo], max_distance: int = PDQ_MATCH_DISTANCE) -> list[list[PhotoMatch]]:
        """For each photo, its best matches: the views within `max_distance` whose layout
        agrees, those of the best layout similarity, then of the smallest distance (one
        per ref). Candidates are arrays throughout, not one Python object each: a product
        shot comes within `max_distance` of hundreds of views of shots of its shape."""
        results: list[list[PhotoMatch]] = [[] for _ in photos]
        owners = np.array([p for p, photo in enumerate(photos) for _ in photo.hashes], dtype=np.int64)
        if not len(owners) or not len(self.hashes):
            return results
        query, position, distance = self.hashes.hits([h for photo in photos for h in photo.hashes], max_distance)
        photo = owners[query]
        # One candidate per (photo, view), at its smallest distance over the photo's orientations.
        order = np.lexsort((distance, position, photo))
        photo, position, distance = photo[order], position[order], distance[order]
        first = np.ones(len(photo), dtype=bool)
        first[1:] = (photo[1:] != photo[:-1]) | (position[1:] != position[:-1])
        photo, position, distance = photo[first], position[first], distance[first]
        similarity = self._similarities(photos, photo, position)  # nan where either layout is unknown
        agree = np.isnan(similarity) | (similarity >= MIN_LAYOUT_SIMILARITY)
        photo, position, distance, similarity = photo[agree], position[agree], distance[agree], similarity[agree]
        # Each photo's best (layout similarity, then distance) and the candidates that tie with it.
        rank = np.where(np.isnan(similarity), 1.0, similarity)
        order = np.lexsort((position, distance, -rank, photo))
        photo, position, distance, similarity, rank = (a[order] for a in (photo, position, distance, similarity, rank))
        start = np.searchsorted(photo, photo)
        best = (rank == rank[start]) & (distance == distance[start])
        for p, i, d, sim in zip(photo[best].tolist(), position[best].tolist(), distance[best].tolist(),
                                similarity[best].tolist(), strict=True):
            ref = self.hashes.ref_at(i)
            if all(match.ref != ref for match in results[p]):
                results[p].append(PhotoMatch(ref, self._views[i], d, None if np.isnan(sim) else round(sim, 3)))
        return results

    def _similarities(self, photos: Sequence[Photo], photo: np.ndarray, position: np.ndarray) -> np.ndarray:
        """`layout_similarity` of each candidate's photo with its stored view (nan where either
        layout is unknown): every photo's eight orientations once, then one product per block."""
        out = np.full(len(photo), np.nan, dtype=np.float32)
        size = self._layouts.shape[1]
        queried = [p.layout is not None and p.layout.size == size for p in photos]
        if not any(queried) or not len(photo):
            return out
        orientations = np.zeros((len(photos), 8, size), dtype=np.float32)
        for p, layout in enumerate(p.layout for p in photos):
            if queried[p]:
                orientations[p] = [np.rot90(f, k).reshape(-1) for f in (layout, layout[:, ::-1]) for k in range(4)]
        known = np.flatnonzero(np.asarray(queried)[photo] & self._known[position])
        for block in range(0, len(known), 16_384):  # bounded memory however many candidates
            rows = known[block:block + 16_384]
            products = np.einsum("cd,cod->co", self._layouts[position[rows]], orientations[photo[rows]])
            out[rows] = products.max(axis=1) / size
        return out


def _restore_bank(codes: bytes, refs: tuple[str, ...], multihash_min_size: int) -> HashBank:
    hexes = array_to_hexes(np.frombuffer(codes, dtype=np.uint8).reshape(-1, PDQ_BYTES))
    return HashBank.build(zip(hexes, refs, strict=True), multihash_min_size=multihash_min_size)
