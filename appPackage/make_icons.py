"""Draw Sopu's Teams icons: two overlapping rings (a mediator pair) with their common ground filled.

Run from the repository root: `.venv/bin/python appPackage/make_icons.py`. The PNGs are committed;
run this again only when the glyph changes.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

HERE = Path(__file__).resolve().parent
ACCENT = (46, 125, 122)  # keep equal to accentColor in manifest.json
WHITE = (255, 255, 255)
SUPERSAMPLE = 8


def pair_mask(size: int, margin: float, ring: float) -> Image.Image:
    """A greyscale mask of the glyph: two rings whose overlap (the lens) is filled."""
    big = size * SUPERSAMPLE
    inner = big - 2 * margin * big
    radius = inner * 0.32
    centre_y = big / 2
    offset = radius * 0.62
    centres = [(big / 2 - offset, centre_y), (big / 2 + offset, centre_y)]
    width = ring * big

    def disc(cx: float, cy: float, r: float) -> Image.Image:
        layer = Image.new("L", (big, big), 0)
        ImageDraw.Draw(layer).ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
        return layer

    outer = [disc(cx, cy, radius) for cx, cy in centres]
    holes = [disc(cx, cy, radius - width) for cx, cy in centres]
    rings = [ImageChops.subtract(o, h) for o, h in zip(outer, holes, strict=True)]
    lens = ImageChops.multiply(outer[0], outer[1])
    mask = ImageChops.lighter(ImageChops.lighter(rings[0], rings[1]), lens)
    return mask.resize((size, size), Image.Resampling.LANCZOS)


def colour_icon() -> Image.Image:
    """192×192: the white glyph on the accent colour, filling the whole square."""
    size = 192
    mask = pair_mask(size, margin=0.14, ring=0.045)
    icon = Image.new("RGB", (size, size), ACCENT)
    icon.paste(Image.new("RGB", (size, size), WHITE), (0, 0), mask)
    return icon


def outline_icon() -> Image.Image:
    """32×32: white only, on a transparent background, as Teams requires."""
    size = 32
    mask = pair_mask(size, margin=0.02, ring=0.085)
    icon = Image.new("RGBA", (size, size), (*WHITE, 0))
    icon.putalpha(mask)
    return icon


def main() -> None:
    colour_icon().save(HERE / "color.png", optimize=True)
    outline_icon().save(HERE / "outline.png", optimize=True)


if __name__ == "__main__":
    main()
