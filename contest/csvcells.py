"""CSV downloads that a spreadsheet opens safely, written row by row.

Every CSV the app writes goes through :func:`spreadsheet_safe` (:func:`csv_chunks` and
:func:`safe_row` apply it to each text cell): a cell a spreadsheet would run as a formula (CSV
injection, OWASP) is prefixed with ``'``. Spreadsheets read a formula from ``=``, ``+``, ``-``
and ``@`` and from their full-width and small forms (``＝``, ``﹦``...), also after leading
spaces or invisible characters, and from a tab or a line break at the start of a cell.
:func:`spreadsheet_value` undoes the prefix, for a file read back (the client list).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any

_FORMULA_START = frozenset("=+-@")
_LINE_START = frozenset("\t\r\n")
_MINUS_SIGNS = frozenset("\u2212\u2796\ufe63\uff0d")  # − ➖ ﹣ －


def _formula_like(character: str) -> bool:
    """Whether a spreadsheet may read ``character`` as the start of a formula: the ASCII
    starters and every character that folds to one (full-width ``＝``, small ``﹢``...)."""
    return (
        character in _FORMULA_START
        or character in _MINUS_SIGNS
        or unicodedata.normalize("NFKC", character)[:1] in _FORMULA_START
    )


def _skipped(character: str) -> bool:
    """Characters a spreadsheet may skip before a formula: spaces and invisible ones."""
    return character.isspace() or unicodedata.category(character) in {"Cf", "Zs"}


def needs_escape(text: str) -> bool:
    """Whether a spreadsheet could run the cell ``text`` as a formula."""
    if text[:1] in _LINE_START:
        return True
    for character in text:
        if not _skipped(character):
            return _formula_like(character)
    return False


def spreadsheet_safe(text: str) -> str:
    """Keeps a spreadsheet from reading a cell as a formula (CSV injection): prefixes ``'``
    to a cell that starts, after any spaces or invisible characters, with ``=``, ``+``,
    ``-``, ``@`` or a full-width or small form of one, or with a tab or a line break."""
    return "'" + text if needs_escape(text) else text


def spreadsheet_value(cell: str) -> str:
    """A cell of a file this app wrote, as it was before :func:`spreadsheet_safe`."""
    return cell[1:] if cell.startswith("'") and needs_escape(cell[1:]) else cell


def safe_row(row: Iterable[Any]) -> list[Any]:
    """The row with each text cell made :func:`spreadsheet_safe` (numbers are left alone)."""
    return [spreadsheet_safe(cell) if isinstance(cell, str) else cell for cell in row]


def csv_chunks(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The header and the rows as CSV text, one chunk per row (for a streamed download),
    every text cell made :func:`spreadsheet_safe`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(safe_row(header))
    for row in rows:
        writer.writerow(safe_row(row))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
