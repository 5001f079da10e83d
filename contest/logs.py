"""Logging that never writes an e-mail address or a row's values, whatever the message.

The code logs no personal data on purpose; this is the net under it. Database drivers put the
failing row in their own error text (PostgreSQL's "Failing row contains (...)" detail), which a
logged exception would carry: the formatter removes such details and any address-like text from
every line it writes, tracebacks included.
"""

from __future__ import annotations

import logging
import re
from typing import Any

ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
ROW_DETAIL = re.compile(r"(DETAIL:\s+)?(Failing row contains|Key) \(.*?\)(=\(.*?\))?", re.DOTALL)
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def redact(text: str) -> str:
    text = ROW_DETAIL.sub(r"\2 (…)", text)
    return ADDRESS.sub("<address>", text)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure(level: int = logging.INFO) -> None:
    """The root handler for the command line and the server: redacted lines on stderr."""
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter(FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def server_config() -> dict[str, Any]:
    """The same set-up as a ``logging.config`` dictionary, for uvicorn (and its workers, which
    configure logging anew): its own loggers write through the redacting formatter too."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"redacted": {"()": RedactingFormatter, "fmt": FORMAT}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "redacted"}},
        "root": {"handlers": ["stderr"], "level": "INFO"},
        "loggers": {
            "uvicorn": {"level": "INFO", "handlers": [], "propagate": True},
            "uvicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
            "alembic": {"level": "WARNING"},
        },
    }
