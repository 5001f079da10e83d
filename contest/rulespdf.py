"""The official rules as a PDF, made once per published version and kept byte for byte.

The PDF is what an organizer deposits with a commissaire de justice or an online deposit
service (FR-DEPOSIT-1) and what a participant downloads: it is rendered when a version of the
rules is stored (contest.configuration.freeze_rules), from the same sections as the rules page
and the text whose SHA-256 is the version, and stored with that version. Its own SHA-256 is
printed on the rules page, so a deposited or archived copy can be checked against it; a later
release of the PDF library never changes a stored file.

The 14 standard PDF fonts are used (no font file to ship) with the Windows-1252 encoding, which
covers French and English typography (accents, « », ’, €, œ); a character outside it is written
as its unaccented base letter, or "?".
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from fpdf import FPDF
from sqlalchemy.engine import Connection

from contest import tables
from contest.contests import ContestView
from contest.i18n import format_when, gettext
from contest.officialrules import Section, official_rules

ENCODING = "windows-1252"
# Spaces that babel puts in French numbers and dates, and their nearest Windows-1252 space.
SPACES = {"\u202f": "\u00a0", "\u2009": " ", "\u2007": " "}
MARGIN_MM = 20


def printable(text: str) -> str:
    """``text`` with each character the standard fonts cannot show replaced by its base letter
    (the first character of its compatibility decomposition) or "?"."""
    out = []
    for char in text:
        char = SPACES.get(char, char)
        try:
            char.encode(ENCODING)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", char)[:1]
            char = base if base and base.isascii() and base.isprintable() else "?"
        out.append(char)
    return "".join(out)


class _RulesDocument(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(format="A4")
        self.core_fonts_encoding = ENCODING
        self._footer_text = printable(footer_text)
        self.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        self.set_auto_page_break(auto=True, margin=MARGIN_MM)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.set_text_color(90)
        self.cell(0, 4, f"{self._footer_text} - {self.page_no()}/{{nb}}", align="C")


def render(
    title: str,
    by_language: Sequence[tuple[str, str, Sequence[Section]]],
    version: str,
    published_at: datetime,
    timezone: str,
) -> bytes:
    """The PDF of one version of the rules (``title`` names the document): for each language,
    the contest's title in that language and its sections; every
    page's footer carries the version (the SHA-256 of the rules' text). Deterministic: the same
    arguments give the same bytes (the creation date is the publication), so the last few are
    kept: laying out a page of rules takes tens of milliseconds, and a version stored before
    PDFs were kept is rendered again at each download."""
    languages = tuple(
        (language, heading, tuple(sections)) for language, heading, sections in by_language
    )
    return _rendered(title, languages, version, published_at, timezone)


@functools.lru_cache(maxsize=16)
def _rendered(
    title: str,
    by_language: tuple[tuple[str, str, tuple[Section, ...]], ...],
    version: str,
    published_at: datetime,
    timezone: str,
) -> bytes:
    document = _RulesDocument(f"Version {version}")
    document.set_creation_date(published_at)
    document.set_title(printable(title))
    document.set_subject(f"Official rules, version {version}")
    document.set_producer("contest")
    for language, contest_title, sections in by_language:
        document.add_page()
        document.set_font("Helvetica", style="B", size=16)
        heading = f"{gettext(language, 'Official rules:')} {contest_title}"
        document.multi_cell(0, 8, printable(heading), new_x="LMARGIN", new_y="NEXT")
        document.set_font("Helvetica", size=9)
        document.set_text_color(70)
        published = gettext(
            language,
            "Rules version %(version)s, published on %(date)s.",
            version=version,
            date=format_when(published_at, language, timezone),
        )
        document.multi_cell(0, 5, printable(published), new_x="LMARGIN", new_y="NEXT")
        document.set_text_color(0)
        for section in sections:
            document.ln(3)
            if section.title:
                document.set_font("Helvetica", style="B", size=12)
                document.multi_cell(0, 7, printable(section.title), new_x="LMARGIN", new_y="NEXT")
            document.set_font("Helvetica", size=10)
            for paragraph in section.paragraphs:
                document.multi_cell(0, 5, printable(paragraph), new_x="LMARGIN", new_y="NEXT")
                document.ln(1.5)
    return bytes(document.output())


def of_contest(contest: ContestView, version: str, published_at: datetime) -> bytes:
    """The PDF of the rules as they stand, in every language of the contest."""
    by_language = [
        (language, contest.in_language(language).title, official_rules(contest, language))
        for language in contest.languages
    ]
    return render(contest.title, by_language, version, published_at, contest.timezone)


def from_text(title: str, text: str, version: str, published_at: datetime, timezone: str) -> bytes:
    """The PDF of a version stored before PDFs were kept: its text, one paragraph per line."""
    lines = tuple(line for line in text.splitlines() if line.strip())
    return render(title, (("en", title, (Section("", lines),)),), version, published_at, timezone)


def sha256(pdf: bytes) -> str:
    return hashlib.sha256(pdf).hexdigest()


def stored(
    connection: Connection, contest: ContestView, number: int | None = None
) -> tuple[int, bytes] | None:
    """(number, PDF) of the contest's rules version ``number`` (1 = as published; None = the
    one in force), or None when there is no such version. A version stored before PDFs were
    kept is rendered from its text."""
    table = tables.rulesversion
    ids = (
        connection.execute(  # the versions in publication order; one file is read
            sa.select(table.c.id)
            .where(table.c.contest_id == contest.id)
            .order_by(table.c.published_at, table.c.id)
        )
        .scalars()
        .all()
    )
    chosen = len(ids) if number is None else number
    if not 1 <= chosen <= len(ids):
        return None
    row = connection.execute(
        sa.select(table.c.version, table.c.published_at, table.c.text, table.c.pdf).where(
            table.c.id == ids[chosen - 1]
        )
    ).one()
    if row.pdf is not None:
        return chosen, bytes(row.pdf)
    return chosen, from_text(
        contest.title, row.text, row.version, row.published_at, contest.timezone
    )
