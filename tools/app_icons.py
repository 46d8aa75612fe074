"""Draws the app's icons (web/icons/*.png) from the Qalqan mark: the yellow shield of the page header
(web/app.css .logo) on the header's blue. `python -m tools.app_icons` rewrites them; the PNGs are committed, so
the static site needs no build step, and tests/unit/test_web_assets.py checks they are what this draws.

- icon-<n>.png ("any"): a rounded blue square, the shield filling most of it.
- maskable-<n>.png: full-bleed blue, the shield inside the central 80 % circle that every launcher mask keeps.
- apple-touch-icon.png: iOS ignores the manifest's icons and rounds the corners itself, so a full square.
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ICONS = Path(__file__).resolve().parent.parent / "web" / "icons"
BLUE, YELLOW = (11, 93, 126, 255), (242, 193, 78, 255)
# The .logo clip-path, in fractions of its box (1.3rem × 1.55rem).
SHIELD = [(0.5, 0), (1, 0.16), (1, 0.55), (0.5, 1), (0, 0.55), (0, 0.16)]
ASPECT = 1.3 / 1.55
SS = 4  # drawn at 4× and scaled down: smooth edges without an antialiasing API


def _shield(draw: ImageDraw.ImageDraw, size: int, height_share: float) -> None:
    h = size * height_share
    w = h * ASPECT
    x0, y0 = (size - w) / 2, (size - h) / 2
    draw.polygon([(x0 + fx * w, y0 + fy * h) for fx, fy in SHIELD], fill=YELLOW)


def draw(size: int, kind: str) -> Image.Image:
    big = size * SS
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if kind == "any":
        d.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.22, fill=BLUE)
        _shield(d, big, 0.66)
    else:  # maskable and apple: full square; the shield's corners stay inside the 40 % radius safe circle
        d.rectangle((0, 0, big, big), fill=BLUE)
        _shield(d, big, 0.56 if kind == "maskable" else 0.62)
    return img.resize((size, size), Image.LANCZOS)


FILES = {"icon-192.png": (192, "any"), "icon-512.png": (512, "any"),
         "maskable-192.png": (192, "maskable"), "maskable-512.png": (512, "maskable"),
         "apple-touch-icon.png": (180, "apple")}


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    for name, (size, kind) in FILES.items():
        draw(size, kind).save(ICONS / name, optimize=True)
        print(name, (ICONS / name).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
