"""The organizer's leads: qualified and segmented, filtered on the page, exported as CSV."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from contest import workspace
from contest.leads import export
from contest.roles import Role
from contest.web.auth import organizer_page
from contest.web.base import now_of, preference_links, state_of
from contest.web.organizer.base import (
    csv_response,
    in_workspace,
    language_of,
    not_possible,
    page,
    page_number,
    pages,
)

if TYPE_CHECKING:
    from contest.accounts import OrganizerIdentity

PAGE_SIZE = 100  # leads listed on one page


@organizer_page(role=Role.EDITOR)
async def leads_page(request: Request, organizer: OrganizerIdentity) -> Response:
    """The organizer's leads, qualified and segmented, filtered by segment, consent, contest,
    source and answer to a qualifying question, a page at a time (the CSV download streams
    them all)."""
    params = request.query_params
    filters = {
        "segment": params.get("segment") or "",
        "consent": params.get("consent") or "",
        "contest": params.get("contest") or "",
        "source": (params.get("source") or "")[:64],
        "answer": (params.get("answer") or "")[:120],
    }
    number = page_number(params.get("page"))
    listed = await in_workspace(
        request,
        workspace.lead_list,
        organizer.id,
        now_of(request),
        segment=filters["segment"] or None,
        consent=filters["consent"] or None,
        contest_id=_number(filters["contest"]),
        source=filters["source"] or None,
        answer=filters["answer"] or None,
        limit=PAGE_SIZE,
        offset=(number - 1) * PAGE_SIZE,
    )
    return page(
        request,
        "organizer/leads.html",
        rows=listed.rows,
        total=listed.total,
        paging=pages(number, listed.total, PAGE_SIZE, filters),
        contests=listed.contests,
        segments=export.SEGMENTS,
        segment_labels=export.SEGMENT_LABELS,
        consent_labels=export.CONSENT_STATE_LABELS,
        source_names=listed.source_names,
        link_choices=listed.link_choices,
        answer_choices=listed.answer_choices,
        formula=export.SCORE_FORMULA,
        filters=filters,
    )


def _number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else None


@organizer_page(role=Role.EDITOR)
async def leads_csv(request: Request, organizer: OrganizerIdentity) -> Response:
    """A contest's leads as CSV: consenting people only, unless a lawful basis is given."""
    params = request.query_params
    slug = params.get("contest") or None
    try:
        chunks = await run_in_threadpool(
            export.export_leads,
            state_of(request).engine,
            organizer.id,
            contest_slug=slug,
            purpose=params.get("purpose") or "marketing_email",
            lawful_basis=params.get("lawful_basis") or None,
            now=now_of(request),
            links=preference_links(request),
            partner=params.get("partner") or None,
        )
        first = await run_in_threadpool(next, chunks, "")
    except export.LeadExportRefused as refused:
        text, back = refused.message(language_of(request)), request.url_for("organizer:leads").path
        return not_possible(request, text, back, status_code=422)
    return csv_response(itertools.chain([first], chunks), f"leads-{slug or 'all'}.csv")
