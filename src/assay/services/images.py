"""Image fingerprints: a content hash to know a file, PDQ to know a photo after edits, and
what detection searches with (a listing's photo trimmed, in every orientation, with its
colour layout) and banks (the views of an official photo)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pdqhash
from PIL import Image, UnidentifiedImageError

from assay.detection.images import AS_IS, MIN_QUALITY, Photo

LAYOUT_CELLS = 8
# Views of an official photo kept in the bank (see assay.detection.images): crops of these
# shares of the side on a 3 x 3 grid of positions, and turns of these many degrees.
VIEW_CROPS = (0.9, 0.8, 0.7)
VIEW_TURNS = (-6, -3, 3, 6)
# A border line (row or column) is near-uniform when this share of its pixels is within
# this many grey levels of its median: JPEG noise and a thin watermark stroke pass.
BORDER_TOLERANCE = 12
BORDER_SHARE = 0.98


View = tuple[str, str, np.ndarray]
"""A view of an official photo for the bank: (PDQ hash, view name, colour layout)."""


@dataclass(frozen=True)
class ImageFingerprint:
    sha256: str
    pdq: str | None  # 64 hex digits, most significant bit first; None if the file is no image
    quality: int | None
    width: int | None
    height: int | None
    query: Photo | None = None  # what the bank is searched with (`query_photo`); None if no image or untrusted
    views: tuple[View, ...] | None = None  # the photo's views for the bank (`photo_views`), when asked for


def pdq_hex(image: Image.Image) -> tuple[str, int]:
    """PDQ of an image as 64 hex digits (numpy.packbits of pdqhash's bit vector), and its quality."""
    bits, quality = pdqhash.compute(np.asarray(image.convert("RGB")))
    return _hex(bits), int(quality)


def _hex(bits: np.ndarray) -> str:
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def _dihedral(image: Image.Image) -> tuple[str, ...]:
    """The PDQ hashes of an image in its eight rotations and mirror images; () if untrusted."""
    vectors, quality = pdqhash.compute_dihedral(np.asarray(image))
    return tuple(_hex(v) for v in vectors) if quality >= MIN_QUALITY else ()


def _open(source: Path | bytes) -> Image.Image | None:
    """The image in a file (or in its bytes) as RGB; None if it is no image."""
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def pdq_variants(path: Path) -> tuple[str, ...]:
    """The PDQ hashes of a photo and of its seven rotations and mirror images, so that a
    mirrored or turned copy of a catalog photo still matches it; () for a file that is no
    image, or whose hash is of too low a quality to trust."""
    image = _open(path)
    return () if image is None else _dihedral(image)


def trim_borders(image: Image.Image) -> Image.Image:
    """The image without its near-uniform outer rows and columns (a frame, a plain backdrop),
    layer after layer (a frame, then the backdrop inside it); the image itself when that
    would leave less than a fifth of either side."""
    box = trim_box(np.asarray(image.convert("L")))
    return image if box is None else image.crop(box)


def trim_box(grey: np.ndarray) -> tuple[int, int, int, int] | None:
    """`trim_borders`' cut of a grey image (height x width, uint8) as (left, top, right,
    bottom), None when nothing is cut."""
    top, bottom, left, right = 0, grey.shape[0], 0, grey.shape[1]
    for _ in range(4):
        inner = grey[top:bottom, left:right]
        if min(inner.shape) < 8:
            return None
        cuts = [_run(inner), _run(inner[::-1]), _run(inner.T), _run(inner.T[::-1])]
        if not any(cuts):
            break
        top, bottom, left, right = top + cuts[0], bottom - cuts[1], left + cuts[2], right - cuts[3]
    if bottom - top < grey.shape[0] / 5 or right - left < grey.shape[1] / 5:
        return None
    return None if (top, left, bottom, right) == (0, 0, *grey.shape) else (left, top, right, bottom)


def _uniform_lines(lines: np.ndarray) -> np.ndarray:
    """Which rows of a uint8 array have BORDER_SHARE of their pixels within BORDER_TOLERANCE of
    the row's median. Twice the median is the sum of the two middle values, so the test stays
    in integers; a partition finds them faster than np.median's float path."""
    n = lines.shape[1]
    middle = np.partition(lines, ((n - 1) // 2, n // 2), axis=1)
    twice_median = middle[:, (n - 1) // 2].astype(np.int16) + middle[:, n // 2]
    near = np.abs(2 * lines.astype(np.int16) - twice_median[:, None]) <= 2 * BORDER_TOLERANCE
    return near.mean(axis=1) >= BORDER_SHARE


def _run(lines: np.ndarray) -> int:
    """How many leading rows of `lines` are uniform, tested in growing blocks from the edge:
    only the border and a little beyond it are looked at, not the whole image."""
    done, block = 0, 8
    while done < len(lines):
        uniform = _uniform_lines(lines[done:done + block])
        if not uniform.all():
            return done + int(np.argmin(uniform))
        done, block = done + len(uniform), block * 2
    return done


def colour_layout(image: Image.Image) -> np.ndarray:
    """8 x 8 cells of mean RGB, zero mean and unit variance over all of them: brightness and
    contrast edits (affine in each channel alike) leave it unchanged, other colours do not."""
    cells = np.asarray(image.convert("RGB").resize((LAYOUT_CELLS, LAYOUT_CELLS), Image.BOX), dtype=np.float32)
    cells = cells - cells.mean()
    spread = float(cells.std())
    return cells / spread if spread > 1e-6 else cells


def query_photo(path: Path) -> Photo | None:
    """A listing's photo as the bank is searched with it: trimmed, in all orientations, with
    its colour layout; None if no image or untrusted. The photo as it is need not be hashed
    too: a copy left untrimmed trims as its source does, to the bank's "trimmed" view."""
    image = _open(path)
    return None if image is None else _query(image)[0]


def _query(image: Image.Image) -> tuple[Photo | None, str, int, bool]:
    """`query_photo` of an image; with the PDQ hash of the trimmed photo as it stands, its
    quality, and whether trimming cut anything."""
    trimmed = trim_borders(image)
    vectors, quality = pdqhash.compute_dihedral(np.asarray(trimmed))
    hashes = tuple(_hex(v) for v in vectors)  # the first is the photo upright, as pdqhash.compute has it
    photo = Photo(hashes, colour_layout(trimmed)) if quality >= MIN_QUALITY else None
    return photo, hashes[0], int(quality), trimmed is not image


def photo_views(path: Path) -> Iterator[View]:
    """The views of an official photo for the bank: (PDQ hash, view name, colour layout) of
    the photo as it is, and of its crops and turns with their borders trimmed. A crop whose
    trimmed pixels are those of an earlier view (a product on a plain backdrop trims to the
    same box from most crops) is left out: it would only add candidates."""
    image = _open(path)
    return iter(()) if image is None else _views(image)


def _views(image: Image.Image) -> Iterator[View]:
    width, height = image.size
    grey = np.asarray(image.convert("L"))
    whole = (0, 0, width, height)
    crops: list[tuple[str, tuple[int, int, int, int]]] = [("trimmed", whole)]
    for share in VIEW_CROPS:
        w, h = round(width * share), round(height * share)
        for row, vertical in enumerate(("top", "middle", "bottom")):
            for col, horizontal in enumerate(("left", "centre", "right")):
                x, y = round((width - w) * col / 2), round((height - h) * row / 2)
                crops.append((f"crop {share:.0%} {vertical} {horizontal}", (x, y, x + w, y + h)))
    seen: set[tuple[int, int, int, int]] = set()
    for name, (x, y, right, bottom) in crops:
        cut = trim_box(grey[y:bottom, x:right])
        box = (x, y, right, bottom) if cut is None else (x + cut[0], y + cut[1], x + cut[2], y + cut[3])
        if box in seen:
            continue
        seen.add(box)
        view = image if box == whole else image.crop(box)
        layout = colour_layout(view)
        if name == "trimmed":  # the photo as it is goes first, with the trimmed photo's layout
            yield from _view(AS_IS, image, layout)
            if box == whole:
                continue
        yield from _view(name, view, layout)
    for degrees in VIEW_TURNS:
        turned = trim_borders(image.rotate(degrees, resample=Image.BILINEAR, fillcolor=(255, 255, 255)))
        yield from _view(f"turned {degrees:+d} degrees", turned, colour_layout(turned))


def _view(name: str, view: Image.Image, layout: np.ndarray) -> Iterator[View]:
    digest, quality = pdq_hex(view)
    if quality >= MIN_QUALITY:
        yield digest, name, layout


def content_hash(data: bytes) -> str:
    """The SHA-256 of a file's bytes: how the store knows a file it has seen."""
    return hashlib.sha256(data).hexdigest()


def fingerprint(source: Path | bytes, *, views: bool = False) -> ImageFingerprint:
    """Everything the store keeps of an image file (its path, or its bytes), decoded once: the
    content hash, PDQ of the photo as it is, its query form, and with `views` its views for
    the bank (an official photo's). A photo that trims to itself is hashed once, not twice."""
    data = source if isinstance(source, bytes) else source.read_bytes()
    sha = content_hash(data)
    image = _open(data)
    if image is None:
        return ImageFingerprint(sha, None, None, None, None, None, () if views else None)
    query, upright, quality, trimmed = _query(image)
    digest, quality = pdq_hex(image) if trimmed else (upright, quality)
    return ImageFingerprint(sha, digest, quality, image.width, image.height, query,
                            tuple(_views(image)) if views else None)


def layout_bytes(layout: np.ndarray) -> bytes:
    """A colour layout as the store keeps it: its float32 cells, row by row."""
    return np.ascontiguousarray(layout, dtype=np.float32).tobytes()


def layout_from_bytes(data: bytes) -> np.ndarray:
    """The colour layout `layout_bytes` stored, exactly."""
    return np.frombuffer(data, dtype=np.float32).reshape(LAYOUT_CELLS, LAYOUT_CELLS, 3)
