"""The workspace's members (invited by owners, each with a role), joining from an invitation,
and the audit log owners read and download."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from contest import audit, members
from contest.actors import act_as
from contest.i18n import gettext
from contest.passwords import WeakPassword
from contest.roles import ROLES, Role
from contest.tokens import Purpose, TokenInvalid
from contest.transactions import reading, writing
from contest.web.auth import organizer_page, start_session
from contest.web.base import now_of, redirect, refusal_status, state_of
from contest.web.organizer.base import csv_download, language_of, page, path_id
from rules import Refusal

if TYPE_CHECKING:
    from contest.accounts import OrganizerIdentity


def _role(form: FormData) -> Role:
    try:
        return Role(str(form.get("role") or ""))
    except ValueError:
        raise HTTPException(400, "Choose a role.") from None


async def _members_page(
    request: Request,
    organizer: OrganizerIdentity,
    refusal: Refusal | None = None,
    email: str = "",
    invited: str = "",
) -> HTMLResponse:
    engine = state_of(request).engine
    lines = await run_in_threadpool(reading, engine, members.list_members, organizer.id)
    return page(
        request,
        "organizer/members.html",
        status_code=refusal_status(refusal) if refusal else 200,
        members=lines,
        roles=ROLES,
        error=refusal.message(language_of(request)) if refusal else None,
        email=email,
        invited=invited,
    )


@organizer_page(role=Role.OWNER)
async def members_page(
    request: Request, organizer: OrganizerIdentity, form: FormData | None = None
) -> Response:
    """The members; POST invites someone (the invitation is e-mailed)."""
    if form is None:
        return await _members_page(
            request, organizer, invited=request.query_params.get("invited", "")
        )
    state = state_of(request)
    email, role = str(form.get("email") or "")[:254], _role(form)
    try:
        await run_in_threadpool(
            writing,
            state.engine,
            members.invite_member,
            organizer,
            email,
            role,
            language_of(request),
            now_of(request),
        )
    except members.MemberRefused as refusal:
        return await _members_page(request, organizer, refusal, email)
    state.sender.wake.set()
    return RedirectResponse(
        request.url_for("organizer:members").path + "?invited=1", status_code=303
    )


@organizer_page(role=Role.OWNER)
async def member_action(request: Request, organizer: OrganizerIdentity, form: FormData) -> Response:
    """Changes a member's role, sends an invitation again, or removes the member."""
    state, member_id, now = state_of(request), path_id(request, "member_id"), now_of(request)
    action = request.path_params["action"]
    try:
        if action == "role":
            change = members.change_role
            await run_in_threadpool(
                writing, state.engine, change, organizer.id, member_id, _role(form), now
            )
        elif action == "resend":
            resend = members.resend_invitation
            language = language_of(request)
            await run_in_threadpool(
                writing, state.engine, resend, organizer, member_id, language, now
            )
            state.sender.wake.set()
        elif action == "remove":
            remove = members.remove_member
            await run_in_threadpool(writing, state.engine, remove, organizer.id, member_id, now)
        else:
            raise HTTPException(404)
    except members.MemberRefused as refusal:
        if refusal.code == "not_found":
            raise HTTPException(404) from None
        return await _members_page(request, organizer, refusal)
    return redirect(request, "organizer:members")


def _invitation_token(request: Request) -> tuple[int, int, str] | None:
    try:
        member_id, version, key = state_of(request).signer.verify(
            Purpose.JOIN, request.path_params["token"]
        )
        return int(member_id), int(version), str(key)
    except (TokenInvalid, TypeError, ValueError):
        return None


async def join(request: Request) -> Response:
    """Joins a workspace from an invitation: choose a password, then you are signed in."""
    state, language = state_of(request), language_of(request)
    found = _invitation_token(request)
    invitation = None
    if found is not None:
        member_id, version, key = found
        invitation = await run_in_threadpool(
            reading, state.engine, members.invitation, member_id, version, key
        )
    if found is None or invitation is None:
        return page(
            request,
            "organizer/message.html",
            status_code=400,
            title=gettext(language, "This invitation is not valid"),
            text=gettext(
                language,
                "Invitations work once, for seven days. Ask the workspace's owner for a new one.",
            ),
        )
    if request.method == "GET":
        return page(request, "organizer/join.html", invitation=invitation, error=None)
    form = await request.form()
    password = str(form.get("password") or "")
    error = None
    if password != str(form.get("password2") or ""):
        error = gettext(language, "The two passwords differ.")
    else:
        act_as(invitation.email)
        try:
            identity = await run_in_threadpool(
                writing,
                state.engine,
                members.accept_invitation,
                member_id,
                version,
                key,
                password,
                now_of(request),
            )
        except WeakPassword:
            error = gettext(language, "Choose a password of at least 10 characters.")
        except members.MemberRefused as refusal:
            error = refusal.message(language)
    if error is not None:
        return page(
            request, "organizer/join.html", status_code=422, invitation=invitation, error=error
        )
    response = RedirectResponse("/admin/", status_code=303)
    await start_session(request, response, identity)
    return response


@organizer_page(role=Role.OWNER)
async def audit_page(request: Request, organizer: OrganizerIdentity) -> Response:
    """The audit log, newest first, 50 events a page."""
    before_text = request.query_params.get("before", "")
    before = int(before_text) if before_text.isdigit() and len(before_text) < 10 else None
    engine = state_of(request).engine
    found = await run_in_threadpool(reading, engine, audit.audit_page, organizer.id, before)
    return page(request, "organizer/audit.html", log=found, actions=audit.ACTIONS)


@organizer_page(role=Role.OWNER)
async def audit_csv(request: Request, organizer: OrganizerIdentity) -> Response:
    """The whole audit log as CSV."""
    return csv_download(request, "audit-log.csv", audit.audit_csv, organizer.id)
