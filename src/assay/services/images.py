"""Image fingerprints: a content hash to know a file, PDQ to know a photo after edits."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pdqhash
from PIL import Image, UnidentifiedImageError

from assay.detection.images import MIN_QUALITY


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
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)


def pdq_variants(path: Path) -> tuple[str, ...]:
    """The PDQ hashes of a photo and of its seven rotations and mirror images, so that a
    mirrored or turned copy of a catalog photo still matches it; () for a file that is no
    image, or whose hash is of too low a quality to trust."""
    try:
        with Image.open(path) as image:
            vectors, quality = pdqhash.compute_dihedral(np.asarray(image.convert("RGB")))
    except (UnidentifiedImageError, OSError, ValueError):
        return ()
    if quality < MIN_QUALITY:
        return ()
    return tuple(np.packbits(v.astype(np.uint8)).tobytes().hex() for v in vectors)


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
