"""Image fingerprints: a content hash to know a file, PDQ to know a photo after edits."""

from __future__ import annotations

import hashlib
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


@dataclass(frozen=True)
class ImageFingerprint:
    sha256: str
    pdq: str | None  # 64 hex digits, most significant bit first; None if the file is no image
    quality: int | None
    width: int | None
    height: int | None


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


def _open(path: Path) -> Image.Image | None:
    try:
        with Image.open(path) as image:
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
    grey = np.asarray(image.convert("L"), dtype=np.int16)
    top, bottom, left, right = 0, grey.shape[0], 0, grey.shape[1]
    for _ in range(4):
        inner = grey[top:bottom, left:right]
        if min(inner.shape) < 8:
            return image
        rows = (np.abs(inner - np.median(inner, axis=1, keepdims=True)) <= BORDER_TOLERANCE).mean(axis=1)
        cols = (np.abs(inner - np.median(inner, axis=0, keepdims=True)) <= BORDER_TOLERANCE).mean(axis=0)
        cuts = [_run(rows >= BORDER_SHARE), _run((rows >= BORDER_SHARE)[::-1]),
                _run(cols >= BORDER_SHARE), _run((cols >= BORDER_SHARE)[::-1])]
        if not any(cuts):
            break
        top, bottom, left, right = top + cuts[0], bottom - cuts[1], left + cuts[2], right - cuts[3]
    if bottom - top < grey.shape[0] / 5 or right - left < grey.shape[1] / 5:
        return image
    return image.crop((left, top, right, bottom)) if (top, left, bottom, right) != (0, 0, *grey.shape) else image


def _run(uniform: np.ndarray) -> int:
    """How many leading lines are uniform."""
    return len(uniform) if uniform.all() else int(np.argmin(uniform))


def colour_layout(image: Image.Image) -> np.ndarray:
    """8 x 8 cells of mean RGB, zero mean and unit variance over all of them: brightness and
    contrast edits (affine in each channel alike) leave it unchanged, other colours do not."""
    cells = np.asarray(image.convert("RGB").resize((LAYOUT_CELLS, LAYOUT_CELLS), Image.BOX), dtype=np.float32)
    cells = cells - cells.mean()
    spread = float(cells.std())
    return cells / spread if spread > 1e-6 else cells


def query_photo(path: Path) -> Photo | None:
    """A listing's photo as the bank is searched with it: as it is and trimmed, in all
    orientations, with the trimmed photo's colour layout; None if no image or untrusted."""
    image = _open(path)
    if image is None:
        return None
    trimmed = trim_borders(image)
    hashes = _dihedral(image) + (_dihedral(trimmed) if trimmed is not image else ())
    return Photo(hashes, colour_layout(trimmed)) if hashes else None


def photo_views(path: Path) -> Iterator[tuple[str, str, np.ndarray]]:
    """The views of an official photo for the bank: (PDQ hash, view name, colour layout) of
    the photo as it is, and of its crops and turns with their borders trimmed."""
    image = _open(path)
    if image is None:
        return
    width, height = image.size
    views: list[tuple[str, Image.Image]] = [(AS_IS, image), ("trimmed", image)]
    for share in VIEW_CROPS:
        w, h = round(width * share), round(height * share)
        for row, vertical in enumerate(("top", "middle", "bottom")):
            for col, horizontal in enumerate(("left", "centre", "right")):
                x, y = round((width - w) * col / 2), round((height - h) * row / 2)
                views.append((f"crop {share:.0%} {vertical} {horizontal}", image.crop((x, y, x + w, y + h))))
    for degrees in VIEW_TURNS:
        views.append((f"turned {degrees:+d} degrees",
                      image.rotate(degrees, resample=Image.BILINEAR, fillcolor=(255, 255, 255))))
    for name, view in views:
        shown = view if name == AS_IS else trim_borders(view)
        digest, quality = pdq_hex(shown)
        if quality >= MIN_QUALITY:
            yield digest, name, colour_layout(trim_borders(view))


def fingerprint(path: Path) -> ImageFingerprint:
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    try:
        with Image.open(path) as image:
            image.load()
            digest, quality = pdq_hex(image)
            return ImageFingerprint(sha, digest, quality, image.width, image.height)
    except (UnidentifiedImageError, OSError, ValueError):
        return ImageFingerprint(sha, None, None, None, None)
