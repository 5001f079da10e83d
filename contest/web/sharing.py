"""Referral and source links, and what the participant's page offers for sharing.

Attribution never needs a cookie (EU-COOKIE-1): ``/r/{code}`` and ``/s/{code}`` record the
click and redirect to the contest page with a signed, timestamped token in the address; the
page carries it into a hidden form field, and the entry records it. First touch wins: a token
older than the contest's attribution window is ignored.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

import segno
import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from contest import outbox, tables
from contest.compliance import contest_facts
from contest.contests import ContestView
from contest.entries import find_entry
from contest.i18n import gettext, pick_language
from contest.leads import pressure
from contest.people import InvalidEmail, clean_email, email_key
from contest.storage import write_options
from contest.tokens import Purpose, TokenInvalid
from contest.web.base import client_network, now_of, state_of
from contest.web.pages import contest_of, language_of, message_page, render
from rules import evaluate_configuration
from viral import fraud, invitations, referrals
from viral.codes import looks_like_code
from viral.invitations import InvitationRefused

UTM = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


async def referral_link(request: Request) -> Response:
    """/r/{code}: counts the click, then the contest page with the referral carried along."""
    code = request.path_params["code"]
    state = state_of(request)
    if not looks_like_code(code):
        raise HTTPException(404)

    def visit() -> tuple[int, str] | None:
        with state.engine.connect().execution_options(**write_options()) as connection:
            with connection.begin():
                found = referrals.find_code(connection, code)
                if found is not None:
                    referrals.record_click(connection, found[0], "referral", code, now_of(request))
                return found

    found = await run_in_threadpool(visit)
    if found is None:
        raise HTTPException(404)
    contest = state.contests.get(found[1])
    if contest is None or contest.clients_only:
        raise HTTPException(404)  # FR-CLIENTS-2: never advertise a client-only contest
    token = state.signer.sign(Purpose.REFERRAL, code)
    return RedirectResponse(f"/c/{found[1]}?ref={quote(token)}", status_code=303)


async def source_link(request: Request) -> Response:
    """/s/{code}: a partner, newsletter, poster or campaign link; counts, then redirects."""
    code = request.path_params["code"]
    state = state_of(request)
    if not looks_like_code(code):
        raise HTTPException(404)

    def visit() -> tuple[str, str] | None:
        link, contest = tables.sourcelink, tables.contest
        with state.engine.connect().execution_options(**write_options()) as connection:
            with connection.begin():
                row = connection.execute(
                    sa.select(link.c.contest_id, link.c.kind, link.c.utm_campaign, contest.c.slug)
                    .join(contest, contest.c.id == link.c.contest_id)
                    .where(link.c.code == code)
                ).first()
                if row is None:
                    return None
                referrals.record_click(connection, row.contest_id, "source", code, now_of(request))
                source = (
                    f"utm:{row.utm_campaign}"
                    if row.kind == "campaign" and row.utm_campaign
                    else f"partner:{code}"
                )
                return str(row.slug), source

    found = await run_in_threadpool(visit)
    if found is None:
        raise HTTPException(404)
    slug, source = found
    contest = state.contests.get(slug)
    if contest is None or contest.clients_only:
        raise HTTPException(404)
    token = state.signer.sign(Purpose.SOURCE, source)
    return RedirectResponse(f"/c/{slug}?src={quote(token)}", status_code=303)


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
        state = state_of(request)

        def who() -> str:
            with state.engine.connect() as connection:
                found = referrals.find_referrer(connection, contest.id, code)
            return found.first_name if found else ""

        name = await run_in_threadpool(who)
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


def invitation_refusal(contest: ContestView, now: datetime) -> InvitationRefused | None:
    """Why this contest may not send invitations at all, from the rules engine, or None."""
    if contest.clients_only:
        return InvitationRefused(
            "CLIENTS_ONLY",
            "Les jeux réservés aux clients ne s'annoncent pas aux prospects.",
            "Client-only contests are not announced to prospects.",
            "FR-CLIENTS-2",
        )
    facts = dataclasses.replace(contest_facts(contest), platform_invitations=True)
    for finding in evaluate_configuration(facts, now).refusals:
        if finding.rule_id == "EU-REFER-NOSEND-1":
            return InvitationRefused("EU", finding.message_fr, finding.message_en, finding.rule_id)
    if not contest.platform_invitations:
        return InvitationRefused(
            "OFF",
            "Ce jeu n'envoie pas d'invitations : partagez votre lien vous-même.",
            "This contest sends no invitations: share your link yourself.",
            None,
        )
    return None


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
    refusal = invitation_refusal(contest, now_of(request))
    friend = str(form.get("friend") or "")[:254]
    key = ""
    if refusal is None:
        try:
            key = email_key(clean_email(friend))
        except InvalidEmail:
            refusal = InvitationRefused(
                "EMAIL",
                "Cette adresse e-mail semble incorrecte.",
                "This e-mail address does not look right.",
                None,
            )
    if refusal is None and form.get("knows") != "on":
        refusal = InvitationRefused(
            "ATTEST",
            "Confirmez que vous connaissez cette personne.",
            "Confirm that you know this person.",
            "ALL-REFER-INVITE-1",
        )
    network = client_network(request)

    def send() -> None:
        with state.engine.connect().execution_options(**write_options()) as connection:
            with connection.begin():
                entry = find_entry(connection, contest, public_id)
                if entry is None or entry.status != "confirmed" or not entry.referral_code:
                    raise HTTPException(404)

                def enqueue(invitation_id: int, hashed: str) -> None:
                    outbox.enqueue(
                        connection,
                        key=f"invitation:{invitation_id}",
                        template="invitation",
                        recipient=friend,
                        language=contest.language,
                        payload={
                            "slug": contest.slug,
                            "code": entry.referral_code,
                            "referrer_name": entry.first_name or "",
                            "hashed": hashed,
                        },
                        now=now_of(request),
                    )

                secret, now = state.settings.secret_keys[0].reveal().encode(), now_of(request)
                known = pressure.check_invitation(
                    connection,
                    organizer_id=contest.organizer_id,
                    contest_id=contest.id,
                    email_key=key,
                    address_hash=invitations.address_hash(secret, key),
                    now=now,
                )
                invitations.invite(
                    connection,
                    key=secret,
                    contest_id=contest.id,
                    referrer_entry_id=entry.id,
                    friend_email_key=key,
                    network=network,
                    now=now,
                    enqueue=enqueue,
                )
                if known is not None:
                    pressure.record_contact(
                        connection, contest.organizer_id, known, "invitation", now
                    )

    if refusal is None:
        try:
            await run_in_threadpool(send)
        except InvitationRefused as refused:
            refusal = refused
        else:
            state.sender.wake.set()
    status = 200 if refusal is None else (429 if refusal.code.endswith("LIMIT") else 403)
    text = (
        gettext(language, "Your invitation is on its way.")
        if refusal is None
        else refusal.message(language) + (f" ({refusal.rule_id})" if refusal.rule_id else "")
    )
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
    language = pick_language(request.query_params.get("lang"), ("fr", "en"), "fr")
    try:
        hashed = state.signer.verify(Purpose.INVITE_OPTOUT, request.path_params["token"])
    except TokenInvalid as exc:
        raise HTTPException(400) from exc
    if request.method == "GET":
        return state_page(request, language, request.url.path)

    def record() -> None:
        with state.engine.begin() as connection:
            invitations.suppress(connection, str(hashed), now_of(request))

    await run_in_threadpool(record)
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
