"""The organizer's client list: how many, a CSV import with its per-row report, the export."""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from contest.leads.clients import client_count, client_page, export_clients, import_clients
from contest.roles import Role
from contest.transactions import reading
from contest.web.auth import organizer_page
from contest.web.base import now_of, state_of
from contest.web.organizer.base import csv_download, page, page_number, pages

if TYPE_CHECKING:
    from contest.accounts import OrganizerIdentity

PAGE_SIZE = 100  # clients listed on one page


@organizer_page(role=Role.EDITOR)
async def clients_page(
    request: Request, organizer: OrganizerIdentity, form: FormData | None = None
) -> Response:
    """The client list: how many, a page of them, import a CSV (with a per-row report)."""
    engine = state_of(request).engine
    report = None
    if form is not None:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HTTPException(400, "Choose a CSV file.")
        await upload.seek(0)
        text = codecs.getreader("utf-8")(upload.file, "strict")
        report = await run_in_threadpool(
            import_clients, engine, organizer.id, text, now_of(request)
        )
    total = await run_in_threadpool(reading, engine, client_count, organizer.id)
    number = page_number(request.query_params.get("page"))
    offset = (number - 1) * PAGE_SIZE
    rows = await run_in_threadpool(reading, engine, client_page, organizer.id, PAGE_SIZE, offset)
    return page(
        request,
        "organizer/clients.html",
        status_code=422 if report is not None and report.fatal else 200,
        total=total,
        rows=rows,
        paging=pages(number, total, PAGE_SIZE, {}),
        report=report,
    )


@organizer_page(role=Role.EDITOR)
async def clients_csv(request: Request, organizer: OrganizerIdentity) -> Response:
    """The client list as CSV, in the format the import reads."""
    return csv_download(request, "clients.csv", export_clients, organizer.id)
