"""A contest's referrals under review (flagged by the anti-fraud signals) and its tracked links
for partners, newsletters, posters and campaigns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from contest import workspace
from contest.roles import Role
from contest.web import sharing
from contest.web.auth import organizer_page
from contest.web.base import now_of, redirect, state_of
from contest.web.organizer.base import in_workspace, language_of, page, path_id
from viral import fraud
from viral.links import LinkFields, LinkRefused
from viral.referrals import NotInReview

if TYPE_CHECKING:
    from contest.accounts import OrganizerIdentity


@organizer_page(role=Role.EDITOR)
async def referrals_page(request: Request, organizer: OrganizerIdentity) -> Response:
    """Referrals flagged by the anti-fraud signals, waiting for the organizer's decision."""
    contest_id, language = path_id(request, "contest_id"), language_of(request)
    queue = await in_workspace(request, workspace.referrals_to_review, organizer.id, contest_id)
    return page(
        request,
        "organizer/referrals.html",
        contest=queue.contest,
        rows=queue.referrals,
        explain=lambda reasons: [fraud.explain(r, language) for r in reasons or ()],
    )


@organizer_page
async def referral_decision(
    request: Request, organizer: OrganizerIdentity, form: FormData
) -> Response:
    """Clears (credits) or rejects a flagged referral; logged with who and when."""
    contest_id, referral_id = path_id(request, "contest_id"), path_id(request, "referral_id")
    decision, now = request.path_params["decision"], now_of(request)
    decide = workspace.decide_referral
    try:
        await in_workspace(request, decide, organizer.id, contest_id, referral_id, decision, now)
    except NotInReview as exc:
        raise HTTPException(404) from exc
    return redirect(request, "organizer:referrals", contest_id=request.path_params["contest_id"])


@organizer_page
async def links_page(
    request: Request, organizer: OrganizerIdentity, form: FormData | None = None
) -> Response:
    """Tracked links for partners, newsletters, posters and campaigns, with their results."""
    contest_id = path_id(request, "contest_id")
    error = None
    if form is not None:
        add, fields, now = workspace.add_tracked_link, _link_fields(form), now_of(request)
        try:
            await in_workspace(request, add, organizer.id, contest_id, fields, now)
        except LinkRefused as refused:
            error = refused
        else:
            return redirect(
                request, "organizer:links", contest_id=request.path_params["contest_id"]
            )
    shown = await in_workspace(request, workspace.tracked_links, organizer.id, contest_id)
    base = state_of(request).settings.base_url
    qr = {link.code: sharing.qr_data_uri(f"{base}/s/{link.code}") for link in shown.links}
    return page(
        request,
        "organizer/links.html",
        base_url=base,
        error=error,
        contest=shown.contest,
        rows=shown.links,
        qr=qr,
    )


def _link_fields(form: FormData) -> LinkFields:
    """The tracked link the form describes, as typed."""
    names = ("label", "kind", "utm_source", "utm_medium", "utm_campaign")
    return LinkFields(**{name: str(form.get(name) or "") for name in names})
