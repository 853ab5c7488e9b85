"""Photos drawn for tests: a studio shot of a product, and the edited copy a counterfeiter posts."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageOps


def product(colours: tuple[tuple[int, int, int], tuple[int, int, int]], label: str = "ACME") -> Image.Image:
    """A studio shot: a bag in two colours, with its label, on a plain light backdrop."""
    primary, accent = colours
    image = Image.new("RGB", (256, 256), (248, 248, 246))
    d = ImageDraw.Draw(image)
    d.ellipse((50, 190, 206, 212), fill=(200, 200, 198))
    d.arc((88, 30, 168, 110), 180, 360, fill=accent, width=8)
    d.rounded_rectangle((56, 70, 200, 195), radius=16, fill=primary)
    d.rectangle((56, 70, 200, 98), fill=accent)
    d.polygon([(70, 120), (110, 180), (150, 125), (185, 170)], fill=accent)
    d.text((128, 150), label, fill=(250, 250, 250), anchor="mm")
    return image


SOURCE = ((150, 30, 40), (30, 60, 140))


def stolen_copy(image: Image.Image) -> Image.Image:
    """Cropped to 80% of its side off-centre, turned 3 degrees, framed, mirrored, shrunk."""
    image = image.crop((30, 10, 235, 215)).resize((256, 256))
    image = image.rotate(3, resample=Image.BILINEAR, fillcolor=(255, 255, 255))
    image = ImageOps.expand(image, border=10, fill=(20, 120, 60))
    return ImageOps.mirror(image).resize((240, 240))


def saved(image: Image.Image, path: Path) -> Path:
    image.save(path, "JPEG", quality=75)
    return path
