"""The live server handle and screenshots, shared by the browser tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"


@dataclass(frozen=True)
class LiveServer:
    url: str
    data_dir: Path

    def mails(self) -> list[Path]:
        return sorted((self.data_dir / "mail").glob("*.eml"))


def screenshot(page: object, name: str, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)  # type: ignore[attr-defined]
    return path
