"""Vouchers as a CSV file, for shops without an API (imported by hand)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC

from contest.csvcells import safe_row
from contest.prizes.shops.common import (
    Voucher,
)

CSV_COLUMNS = (
    "code",
    "kind",
    "value",
    "currency",
    "min_order",
    "expires_at",
    "description",
    "winner_email",
)


def vouchers_csv(vouchers: Iterable[Voucher]) -> Iterator[str]:
    """CSV lines (header first) for shops without an API; cells never run as formulas.

    Expiry dates are ISO 8601 in UTC; a cell that a spreadsheet would read as a formula is
    prefixed with an apostrophe (contest.csvcells).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: Iterable[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(safe_row(cells))
        return buffer.getvalue()

    yield line(CSV_COLUMNS)
    for voucher in vouchers:
        yield line(
            [
                voucher.code,
                voucher.kind,
                str(voucher.value),
                voucher.currency,
                "" if voucher.min_order is None else str(voucher.min_order),
                ""
                if voucher.expires_at is None
                else voucher.expires_at.astimezone(UTC).isoformat(timespec="seconds"),
                voucher.description,
                voucher.winner_email,
            ]
        )
