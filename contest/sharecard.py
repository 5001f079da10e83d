"""The picture a shared link shows (Open Graph, 1200×630): the contest's title and first prize
on its colours, drawn with Pillow and kept in the data folder. No HTTP here.

A contest with its own image shares that image instead. A card is made once per content: its
file name is the hash of what it shows, so a changed title or colour makes a new one and an
old one is never served for new content.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from contest.contests.view import ContestView

SIZE = (1200, 630)
MARGIN = 80
FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
)
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _font(size: int) -> Font:
    for path in FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)  # Pillow's own scalable font


def _rgb(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    if len(value) != 6:
        return (31, 79, 209)
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def card_lines(contest: ContestView) -> tuple[str, str, str]:
    """What the card says: the title, the first prize, the organizer."""
    prize = contest.prizes[0].description if contest.prizes else ""
    return contest.title, prize, contest.organizer_name


def card_path(contest: ContestView, folder: Path) -> Path:
    """The contest's card, drawn if it is not in ``folder`` yet."""
    lines = card_lines(contest)
    key = "\n".join((*lines, contest.brand_color, contest.accent_color))
    name = hashlib.sha256(key.encode()).hexdigest()[:24] + ".png"
    path = folder / "cards" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        draw_card(*lines, contest.brand_color, contest.accent_color).save(partial, "PNG")
        partial.replace(path)  # a reader never sees half a file
    return path


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int, most: int) -> list[str]:
    """``text`` in lines no wider than ``width`` pixels, at most ``most`` (the last one cut
    with an ellipsis)."""
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    if len(lines) > most:
        lines = lines[:most]
        lines[-1] += " …"
    for index, line in enumerate(lines):  # a single word longer than the line
        while draw.textlength(line, font=font) > width and len(line) > 1:
            line = line[:-2] + "…"
        lines[index] = line
    return lines or [""]  # blank text: one empty line


def draw_card(title: str, prize: str, organizer: str, brand: str, accent: str) -> Image.Image:
    """The 1200×630 picture: the title large on the main colour, the prize on a band of the
    second colour, the organizer's name at the foot."""
    image = Image.new("RGB", SIZE, _rgb(brand))
    draw = ImageDraw.Draw(image)
    width = SIZE[0] - 2 * MARGIN
    title_font = _font(68)
    y = MARGIN
    for line in _wrap(draw, title, title_font, width, 3):
        draw.text((MARGIN, y), line, font=title_font, fill="white")
        y += 84
    if prize:
        band_top = max(y + 30, 360)
        draw.rectangle((0, band_top, SIZE[0], band_top + 120), fill=_rgb(accent))
        prize_font = _font(44)
        [text] = _wrap(draw, prize, prize_font, width, 1)
        draw.text((MARGIN, band_top + 36), text, font=prize_font, fill="white")
    if organizer:
        foot = _font(32)
        [name] = _wrap(draw, organizer, foot, width, 1)
        draw.text((MARGIN, SIZE[1] - MARGIN - 20), name, font=foot, fill="white")
    return image
