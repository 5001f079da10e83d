"""Referral and source links, and what the participant's page offers for sharing.

Attribution never needs a cookie (EU-COOKIE-1): ``/r/{code}`` and ``/s/{code}`` record the
click and redirect to the contest page with a signed, timestamped token in the address; the
page carries it into a hidden form field, and the entry records it. First touch wins: a token
older than the contest's attribution window is ignored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

import segno
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from contest import botguard
from contest.contests import ContestView
from contest.i18n import LANGUAGES, gettext
from contest.invitations import NoInvitingEntry, invite_friend
from contest.proofofwork import INVITATION
from contest.ratelimit import Limit, hit
from contest.tokens import Purpose, TokenInvalid
from contest.transactions import reading, writing
from contest.web import challenge
from contest.web.base import client_network, now_of, state_of
from contest.web.pages import contest_of, language_of, message_page, render, site_language
from viral import fraud, invitations, links, referrals
from viral.codes import looks_like_code
from viral.invitations import InvitationRefused

UTM = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


# A link's clicks are counted once per network and hour: a flood of requests neither inflates
# the figures nor grows the click table without bound (the visitor is still redirected).
CLICK_LIMIT = Limit(1, timedelta(hours=1))


def _click_bucket(request: Request, code: str) -> str:
    """The rate-limit bucket of a click: a keyed hash of the link and the network, so that
    the table holds neither (an erasure leaves no code or network behind)."""
    key = state_of(request).settings.secret_keys[0].reveal().encode()
    digest = hmac.new(key, f"click|{code}|{client_network(request)}".encode(), hashlib.sha256)
    return "click:" + digest.hexdigest()[:32]


def _fresh_click(connection: Connection, bucket: str, now: datetime) -> bool:
    return hit(connection, bucket, CLICK_LIMIT, now) <= CLICK_LIMIT.limit


def _followed_referral(connection: Connection, code: str, now: datetime, bucket: str) -> str | None:
    counted = _fresh_click(connection, bucket, now)
    return links.follow_referral(connection, code, now, counted=counted)


def _followed_source(
    connection: Connection, code: str, now: datetime, bucket: str
) -> links.SourceVisit | None:
    counted = _fresh_click(connection, bucket, now)
    return links.follow_source(connection, code, now, counted=counted)


async def referral_link(request: Request) -> Response:
    """/r/{code}: counts the click, then the contest page with the referral carried along."""
    code = request.path_params["code"]
    state = state_of(request)
    if not looks_like_code(code):
        raise HTTPException(404)
    now, bucket = now_of(request), _click_bucket(request, code)
    slug = await run_in_threadpool(writing, state.engine, _followed_referral, code, now, bucket)
    if slug is None:
        raise HTTPException(404)
    contest = state.contests.get(slug)
    if contest is None or contest.clients_only:
        raise HTTPException(404)  # FR-CLIENTS-2: never advertise a client-only contest
    token = state.signer.sign(Purpose.REFERRAL, code)
    return RedirectResponse(f"/c/{slug}?ref={quote(token)}{_lang(request)}", status_code=303)


async def source_link(request: Request) -> Response:
    """/s/{code}: a partner, newsletter, poster or campaign link; counts, then redirects."""
    code = request.path_params["code"]
    state = state_of(request)
    if not looks_like_code(code):
        raise HTTPException(404)
    now, bucket = now_of(request), _click_bucket(request, code)
    visit = await run_in_threadpool(writing, state.engine, _followed_source, code, now, bucket)
    if visit is None:
        raise HTTPException(404)
    contest = state.contests.get(visit.slug)
    if contest is None or contest.clients_only:
        raise HTTPException(404)
    token = state.signer.sign(Purpose.SOURCE, visit.source)
    return RedirectResponse(f"/c/{visit.slug}?src={quote(token)}{_lang(request)}", status_code=303)


def _lang(request: Request) -> str:
    """The language a shared link asked for (``?lang=en``), carried to the contest page."""
    language = request.query_params.get("lang")
    return f"&lang={language}" if language in LANGUAGES else ""


@dataclass(frozen=True)
class Attribution:
    """Where a visitor on the contest page came from, as the hidden form fields carry it."""

    ref: str = ""  # signed referral token
    src: str = ""  # signed source token
    referrer_name: str = ""


def _window(contest: ContestView) -> int:
    return contest.attribution_days * 24 * 3600


def referral_code(request: Request, contest: ContestView, token: str) -> str | None:
    """The share code in a referral token still inside the attribution window."""
    if not token or contest.clients_only or contest.referral_bonus <= 0:
        return None
    try:
        code = state_of(request).signer.verify(Purpose.REFERRAL, token, max_age=_window(contest))
    except TokenInvalid:
        return None
    return code if isinstance(code, str) and looks_like_code(code) else None


def source_of(request: Request, contest: ContestView, token: str, utm: str | None) -> str:
    """The entry's source: a signed partner/campaign token, a plain utm campaign, or direct."""
    if token:
        try:
            source = state_of(request).signer.verify(
                Purpose.SOURCE, token, max_age=_window(contest)
            )
        except TokenInvalid:
            source = None
        if isinstance(source, str) and len(source) <= 64:
            return source
    if utm and UTM.match(utm):
        return f"utm:{utm}"
    return "direct"


async def attribution(request: Request, contest: ContestView) -> Attribution:
    """Reads ?ref= / ?src= / ?utm_campaign= on the contest page (GET)."""
    params = request.query_params
    ref = params.get("ref", "")
    code = referral_code(request, contest, ref)
    name = ""
    if code is not None:
        engine = state_of(request).engine
        found = await run_in_threadpool(reading, engine, referrals.find_referrer, contest.id, code)
        name = found.first_name if found else ""
    src = params.get("src", "")
    utm = params.get("utm_campaign")
    if not src and utm and UTM.match(utm):
        src = state_of(request).signer.sign(Purpose.SOURCE, f"utm:{utm}")
    return Attribution(ref=ref if code else "", src=src, referrer_name=name)


@dataclass(frozen=True)
class ShareKit:
    url: str
    message: str
    whatsapp: str
    facebook: str
    twitter: str
    linkedin: str
    mailto: str
    qr_data_uri: str


def share_kit(base_url: str, contest: ContestView, code: str, language: str) -> ShareKit:
    """The share link, the prefilled message and the intents of the usual apps, and a QR code.

    The platform sends nothing: the participant shares through their own apps and mail client
    (EU-REFER-NOSEND-1).
    """
    url = f"{base_url}/r/{code}"
    contest = contest.in_language(language)
    message = gettext(
        language,
        "I'm taking part in “%(title)s” (free, no purchase necessary). Join in: %(url)s",
        title=contest.title,
        url=url,
    )
    subject = gettext(language, "A contest for you: %(title)s", title=contest.title)
    return ShareKit(
        url=url,
        message=message,
        whatsapp=f"https://wa.me/?text={quote(message)}",
        facebook=f"https://www.facebook.com/sharer/sharer.php?u={quote(url)}",
        twitter=f"https://twitter.com/intent/tweet?text={quote(message)}",
        linkedin=f"https://www.linkedin.com/sharing/share-offsite/?url={quote(url)}",
        mailto=f"mailto:?subject={quote(subject)}&body={quote(message)}",
        qr_data_uri=qr_data_uri(url),
    )


def qr_data_uri(url: str) -> str:
    """A QR code of ``url`` as an SVG data URI (allowed by the CSP's img-src)."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=6, border=2, xmldecl=False)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def explain_reasons(reasons: tuple[str, ...], language: str) -> list[str]:
    return [fraud.explain(reason, language) for reason in reasons]


# --- Platform-sent invitations (only where the rules allow them) ------------------------------


async def invite(request: Request) -> Response:
    """A participant asks the platform to invite one person (US contests, or a logged override)."""
    contest = contest_of(request)
    state = state_of(request)
    language = language_of(request, contest)
    try:
        public_id = state.signer.verify(Purpose.ME, request.path_params["token"])
    except TokenInvalid as exc:
        raise HTTPException(400) from exc
    form = await request.form(max_fields=10, max_files=0)
    stopped = await _invitation_challenge(request, contest, str(form.get(challenge.FIELD) or ""))
    if stopped is not None:
        return stopped
    try:
        await run_in_threadpool(
            writing,
            state.engine,
            invite_friend,
            contest,
            public_id,
            str(form.get("friend") or "")[:254],
            knows=form.get("knows") == "on",
            secret=state.settings.secret_keys[0].reveal().encode(),
            network=client_network(request),
            now=now_of(request),
        )
    except NoInvitingEntry as exc:
        raise HTTPException(404) from exc
    except InvitationRefused as refusal:
        return _invitation_page(request, contest, language, refusal)
    state.sender.wake.set()
    return _invitation_page(request, contest, language, None)


# Invitations always ask for the proof of work (contest.botguard); one sent without it (no
# JavaScript) is taken under this stricter limit per network.
UNPROVEN_INVITATIONS = InvitationRefused(
    "CHALLENGE_LIMIT",
    "Trop d'invitations envoyées depuis votre réseau sans JavaScript. Activez JavaScript "
    "pour que votre navigateur prouve qu'il n'est pas un robot, ou réessayez plus tard.",
    "Too many invitations were sent from your network without JavaScript. Turn on JavaScript "
    "so that your browser can prove it is not a robot, or try again later.",
    None,
)


async def _invitation_challenge(
    request: Request, contest: ContestView, payload: str
) -> Response | None:
    """The answer when the invitation form's proof of work stops it, else None."""
    language, now = language_of(request, contest), now_of(request)
    engine = state_of(request).engine
    payload = payload.strip()
    if payload:
        if await challenge.proven(request, contest, payload, INVITATION):
            return None
        text = gettext(language, challenge.FAILED)
        title = gettext(language, "Invitation")
        return message_page(request, language, 400, title, text, contest=contest)
    network = client_network(request)
    if not network:
        return None
    key = state_of(request).settings.secret_keys[0].reveal().encode()
    digest = hmac.new(key, f"invite|{contest.id}|{network}".encode(), hashlib.sha256)
    bucket = "invite:unproven:" + digest.hexdigest()[:32]
    rule = botguard.UNPROVEN_INVITATIONS_PER_NETWORK
    admitted = await run_in_threadpool(
        writing, engine, botguard.admit_unproven, contest.id, bucket, rule, now
    )
    if admitted:
        return None
    return _invitation_page(request, contest, language, UNPROVEN_INVITATIONS)


def _invitation_page(
    request: Request, contest: ContestView, language: str, refusal: InvitationRefused | None
) -> Response:
    """ "On its way", or why not: 429 for a daily limit, 403 for any other refusal."""
    if refusal is None:
        status, text = 200, gettext(language, "Your invitation is on its way.")
    else:
        status = 429 if refusal.code.endswith("LIMIT") else 403
        text = refusal.message(language) + (f" ({refusal.rule_id})" if refusal.rule_id else "")
    return render(
        request,
        language,
        "participant/message.html",
        status_code=status,
        title=gettext(language, "Invitation"),
        text=text,
        contest=contest,
    )


async def invite_optout(request: Request) -> Response:
    """ "Never invite me again": GET shows a button, POST (RFC 8058 one-click too) records it."""
    state = state_of(request)
    language = site_language(request)  # the e-mail's link says which
    try:
        hashed = state.signer.verify(Purpose.INVITE_OPTOUT, request.path_params["token"])
    except TokenInvalid as exc:
        raise HTTPException(400) from exc
    if request.method == "GET":
        query = f"?{request.url.query}" if request.url.query else ""
        return state_page(request, language, request.url.path + query)

    now = now_of(request)
    await run_in_threadpool(writing, state.engine, invitations.suppress, str(hashed), now)
    return message_page(
        request,
        language,
        200,
        gettext(language, "Done"),
        gettext(language, "You will never receive an invitation from this site again."),
    )


def state_page(request: Request, language: str, action: str) -> Response:
    return render(
        request,
        language,
        "participant/optout.html",
        action=action,
        contest=None,
    )


routes = [
    Route("/c/{slug}/me/{token}/invite", invite, name="invite", methods=["POST"]),
    Route("/invite-optout/{token}", invite_optout, name="invite_optout", methods=["GET", "POST"]),
]
