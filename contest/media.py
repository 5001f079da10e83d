"""Contest images and logos uploaded by organizers: checked by content, stored by hash.

Only PNG, JPEG and WebP are accepted, recognised by their first bytes (never by the name or
the declared type), up to 2 MB. Files are named after their SHA-256, so the same image is
stored once and a name can never point outside the uploads folder.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from rules import Refusal

MAX_BYTES = 2 * 1024 * 1024
NAME = re.compile(r"^[0-9a-f]{32}\.(png|jpg|webp)$")
TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}


class ImageRefused(Refusal):
    """Not an image we accept; the messages say why."""


def _image_refused(message_fr: str, message_en: str) -> ImageRefused:
    return ImageRefused("image_refused", message_fr, message_en)


def kind_of(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def store_image(data: bytes, folder: Path) -> str:
    """Stores the image and returns its file name; refuses other types and large files."""
    if len(data) > MAX_BYTES:
        raise _image_refused("Image trop lourde (2 Mo au plus).", "Image too large (2 MB at most).")
    kind = kind_of(data)
    if kind is None:
        raise _image_refused(
            "Format non accepté : PNG, JPEG ou WebP.", "Format not accepted: PNG, JPEG or WebP."
        )
    name = f"{hashlib.sha256(data).hexdigest()[:32]}.{kind}"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if not target.exists():
        temporary = folder / f".{name}.tmp"
        temporary.write_bytes(data)
        os.replace(temporary, target)
    return name


def path_of(name: str, folder: Path) -> Path | None:
    """The stored file for a public name, or None for any name we did not make."""
    if not NAME.match(name):
        return None
    path = folder / name
    return path if path.is_file() else None


def relative_luminance(color: str) -> float:
    """WCAG 2 relative luminance of a #RRGGBB colour."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    """WCAG 2 contrast ratio between two #RRGGBB colours (1 to 21)."""
    a, b = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)
