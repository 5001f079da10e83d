"""CSV downloads that a spreadsheet opens safely, written row by row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any


def spreadsheet_safe(text: str) -> str:
    """Keeps a spreadsheet from reading a cell as a formula (CSV injection): prefixes ``'``."""
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


def csv_chunks(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The header and the rows as CSV text, one chunk per row (for a streamed download)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
