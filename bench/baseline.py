"""The baseline: the least a web app must do to take an entry, for the entry figures to compare.

A bare Starlette app (no templates, no checks) that parses the same urlencoded form with
``request.form()`` and stores it with the standard ``sqlite3`` module in WAL mode, in one
transaction per request: one entry row and one outbox row, the address unique as in the real
app. Served by uvicorn like the real app (one worker, proxy headers, no access log):

    BENCH_BASELINE_DB=/tmp/x.db uvicorn --factory bench.baseline:create_app
"""

from __future__ import annotations

import json
import os
import sqlite3
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

SCHEMA = """
CREATE TABLE IF NOT EXISTS entry (
    id INTEGER PRIMARY KEY,
    contest TEXT NOT NULL,
    email TEXT NOT NULL,
    first_name TEXT NOT NULL,
    accepted_rules INTEGER NOT NULL,
    marketing INTEGER NOT NULL,
    ip TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (contest, email)
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    recipient TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""


def connect(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.executescript(SCHEMA)
    return connection


def create_app() -> Starlette:
    """The app over the database named by ``BENCH_BASELINE_DB``."""
    db = connect(os.environ["BENCH_BASELINE_DB"])

    async def enter(request: Request) -> Response:
        form = await request.form()
        email = str(form.get("email", ""))
        if not email or form.get("accept_rules") != "on":
            return PlainTextResponse("invalid", status_code=422)
        now = time.time()
        slug = request.path_params["slug"]
        ip = request.client.host if request.client else ""
        db.execute("BEGIN IMMEDIATE")
        try:
            entry_id = db.execute(
                "INSERT INTO entry (contest, email, first_name, accepted_rules, marketing, ip,"
                " created_at) VALUES (?, ?, ?, 1, ?, ?, ?)",
                (
                    slug,
                    email,
                    str(form.get("first_name", "")),
                    form.get("consent_marketing_email") == "on",
                    ip,
                    now,
                ),
            ).lastrowid
            db.execute(
                "INSERT INTO outbox (idempotency_key, recipient, payload, created_at)"
                " VALUES (?, ?, ?, ?)",
                (f"confirm:{entry_id}", email, json.dumps({"entry": entry_id}), now),
            )
            db.execute("COMMIT")
        except sqlite3.Error:
            db.execute("ROLLBACK")
            return PlainTextResponse("not stored", status_code=503)
        return HTMLResponse("<section><h2>Check your inbox</h2></section>")

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/c/{slug}/entries", enter, methods=["POST"]),
        ]
    )
