"""Crop-tolerant photo matching: a catalog photo cropped, framed and turned at once is found
again through the bank's views, and unrelated photos, or the same shot in other colours, are not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps
from tests.photos import SOURCE, product, saved, stolen_copy

from assay.detection.images import AS_IS, PDQ_MATCH_DISTANCE, PhotoBank, layout_similarity
from assay.services import images as images_service
from assay.services.images import colour_layout, photo_views, query_photo, trim_borders, trim_box


@pytest.fixture()
def bank(tmp_path: Path) -> PhotoBank:
    bank = PhotoBank()
    bank.add((pdq, "official:b-acme:BAG-1", view, layout)
             for pdq, view, layout in photo_views(saved(product(SOURCE), tmp_path / "official.jpg")))
    return bank


def test_trimming_removes_a_frame_and_the_plain_backdrop_inside_it() -> None:
    framed = ImageOps.expand(product(SOURCE), border=12, fill=(20, 120, 60))
    trimmed = trim_borders(framed)
    assert trimmed.size < framed.size
    assert trimmed.size[0] <= 200 and trimmed.size[1] <= 200  # the backdrop went too, not only the frame
    assert trimmed.size[0] > 100


def test_a_photo_without_borders_is_not_trimmed() -> None:
    noise = Image.fromarray(np.random.default_rng(1).integers(0, 256, size=(120, 160, 3), dtype=np.uint8))
    assert trim_borders(noise) is noise


def test_the_bank_holds_the_photo_as_it_is_and_its_views(bank: PhotoBank) -> None:
    assert bank.views[0] == AS_IS
    assert len(bank) > 20
    assert set(bank.refs) == {"official:b-acme:BAG-1"}


def test_a_cropped_framed_turned_copy_matches_its_source_through_a_view(bank: PhotoBank, tmp_path: Path) -> None:
    copy = query_photo(saved(stolen_copy(product(SOURCE)), tmp_path / "copy.jpg"))
    assert copy is not None
    # The copy is too far from the photo as it is for PDQ alone ...
    plain = PhotoBank()
    plain.add([(bank.hashes.codes[0].tobytes().hex(), "official:b-acme:BAG-1", AS_IS, None)])
    assert plain.search([copy]) == [[]]
    # ... and found through one of its views.
    [[match]] = bank.search([copy])
    assert match.ref == "official:b-acme:BAG-1"
    assert match.view != AS_IS
    assert match.distance <= PDQ_MATCH_DISTANCE
    assert match.similarity is not None and match.similarity >= 0.95


def test_unrelated_photos_and_the_same_shot_in_other_colours_do_not_match(bank: PhotoBank, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    unrelated = [Image.fromarray(rng.integers(0, 256, size=(240, 320, 3), dtype=np.uint8))]
    stripes = np.zeros((240, 320, 3), dtype=np.uint8)
    stripes[:, ::16] = 255
    unrelated.append(Image.fromarray(stripes))
    unrelated.append(product(((40, 140, 60), (230, 200, 40)), label="OTHER"))  # another brand's bag
    unrelated.append(stolen_copy(product(((40, 140, 60), (230, 200, 40)), label="OTHER")))
    for k, image in enumerate(unrelated):
        photo = query_photo(saved(image, tmp_path / f"unrelated-{k}.jpg"))
        assert photo is None or bank.search([photo]) == [[]], k


def test_layouts_ignore_brightness_and_contrast_but_not_colour() -> None:
    shot = product(SOURCE)
    darker = Image.eval(shot, lambda v: int(v * 0.8))
    assert layout_similarity(colour_layout(darker), colour_layout(shot)) > 0.99
    recoloured = product(((40, 140, 60), (230, 200, 40)))
    assert layout_similarity(colour_layout(recoloured), colour_layout(shot)) < 0.95


def median_run(lines: np.ndarray) -> int:
    """How many leading rows are uniform, as first written: np.median over every row at once."""
    lines = lines.astype(np.int16)
    uniform = (np.abs(lines - np.median(lines, axis=1, keepdims=True)) <= 12).mean(axis=1) >= 0.98
    return len(uniform) if uniform.all() else int(np.argmin(uniform))


def test_the_trim_cuts_exactly_where_a_median_over_every_line_would(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    shot = product(SOURCE)
    images = [shot, ImageOps.expand(shot, border=12, fill=(20, 120, 60)), stolen_copy(shot),
              shot.crop((0, 0, 200, 256)), ImageOps.expand(shot.crop((40, 0, 256, 180)), border=(3, 9, 0, 5))]
    # JPEG noise on the backdrop, odd and even sides (the median of an even line is between two values)
    images += [Image.open(saved(image, tmp_path / f"{k}.jpg")).convert("RGB") for k, image in enumerate(images)]
    greys = [np.asarray(image.convert("L")) for image in images]
    cuts = [trim_box(grey) for grey in greys]
    monkeypatch.setattr(images_service, "_run", median_run)
    assert cuts == [trim_box(grey) for grey in greys]
    assert all(cut is not None for cut in cuts)


def test_crops_that_trim_to_the_same_pixels_are_banked_once(bank: PhotoBank) -> None:
    # the bag on its plain backdrop: most 90% crops keep all of it and trim to one box
    hashes = [code.tobytes().hex() for code in bank.hashes.codes]
    assert len(set(hashes)) == len(hashes)
    assert "trimmed" in bank.views


def test_a_recompressed_copy_is_found_through_the_trimmed_view(bank: PhotoBank, tmp_path: Path) -> None:
    source = product(SOURCE)
    copy = query_photo(saved(source.resize((300, 300)), tmp_path / "copy.jpg"))
    assert copy is not None and len(copy.hashes) == 8  # one photo in eight orientations
    [[match]] = bank.search([copy])
    assert (match.ref, match.view) == ("official:b-acme:BAG-1", "trimmed")
    assert match.distance <= 16
