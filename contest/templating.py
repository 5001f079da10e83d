"""Jinja environments, one per language, with the project's filters.

Used by the pages and by the e-mails alike; nothing here knows about HTTP.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import escape

from contest import i18n, roles
from contest.contests.fields import PRIZE_SETTINGS, QUESTION_SETTINGS, SETTINGS, US_STATE_CODES

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


@cache
def asset(path: str) -> str:
    """The address of a static file with its content's hash (``?v=``): served as immutable,
    so a browser keeps it for a year and a changed file gets a new address."""
    try:
        digest = hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:12]
    except OSError:
        return f"/static/{path}"
    return f"/static/{path}?v={digest}"


class Templates:
    def __init__(self, globals_: dict[str, Any] | None = None) -> None:
        self._envs: dict[str, Environment] = {}
        for language in i18n.LANGUAGES:
            env = Environment(
                loader=FileSystemLoader(TEMPLATE_DIR),
                autoescape=select_autoescape(("html", "xml")),
                undefined=StrictUndefined,
                extensions=["jinja2.ext.i18n"],
                trim_blocks=True,
                lstrip_blocks=True,
                auto_reload=False,
            )
            env.install_gettext_translations(  # type: ignore[attr-defined]
                i18n.translations(language), newstyle=True
            )
            env.globals.update(globals_ or {})
            env.globals.setdefault("altcha_available", False)  # the proof-of-work widget
            env.globals["language"] = language
            # The contest settings' declarations: the workspace form draws its fields from them.
            env.globals["contest_settings"] = SETTINGS
            env.globals["prize_settings"] = PRIZE_SETTINGS
            env.globals["question_settings"] = QUESTION_SETTINGS
            env.globals["us_state_codes"] = US_STATE_CODES
            env.globals["role_labels"] = roles.LABELS
            env.globals["role_descriptions"] = roles.DESCRIPTIONS
            env.globals["asset"] = asset
            env.filters["when"] = lambda d, tz="Europe/Paris", lang=language: (
                i18n.format_when(d, lang, tz) if d else "—"
            )
            env.filters["day"] = lambda d, tz="Europe/Paris", lang=language: (
                i18n.format_day(d, lang, tz) if d else "—"
            )
            env.filters["money"] = lambda v, currency="EUR", lang=language: (
                i18n.format_money(Decimal(v), currency, lang) if v is not None else "—"
            )
            env.filters["number"] = lambda v, digits=0, lang=language: (
                i18n.format_number(v, lang, digits) if v is not None else "—"
            )
            env.filters["percent"] = lambda v, lang=language: (
                i18n.format_percent(v, lang) if v is not None else "—"
            )
            self._envs[language] = env
        self._filled: dict[tuple[str, str, str], tuple[str, str] | None] = {}

    def render(self, language: str, name: str, **context: Any) -> str:
        env = self._envs.get(language) or self._envs[i18n.DEFAULT_LANGUAGE]
        return env.get_template(name).render(**context)

    def render_filled(self, language: str, name: str, slot: str, value: str) -> str:
        """``render(language, name, **{slot: value})`` for a template that depends on nothing
        else and shows a non-empty ``value`` once, escaped, whatever it is: rendered once per
        language with a marker in its place, then filled in. The answer of every entry, so it
        costs a string join instead of a render. An empty value, or a template that shows the
        value otherwise (filtered, or not once), is rendered each time."""
        if not value:
            return self.render(language, name, **{slot: value})
        key = (language, name, slot)
        if key not in self._filled:
            marker = f"\x1e{slot}\x1e"
            html = self.render(language, name, **{slot: marker})
            head, found, tail = html.partition(marker)
            self._filled[key] = (head, tail) if found and marker not in tail else None
        parts = self._filled[key]
        if parts is None:
            return self.render(language, name, **{slot: value})
        return parts[0] + str(escape(value)) + parts[1]
