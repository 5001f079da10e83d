"""The participant's own page (``/c/{slug}/me/{token}``), their data and its erasure, and a
prospect's wish to hear about client-only contests."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from contest import instantwin, prospects
from contest.contests import ContestView
from contest.draw.drawing import receipt_of, weight_at_close
from contest.entries import EntryState
from contest.i18n import N_, gettext
from contest.invitations import invitation_refusal
from contest.leads import access, consents, privacy
from contest.mail import forget_copies
from contest.models import EntryStatus
from contest.people import email_key, mask_email
from contest.tokens import Purpose, TokenInvalid
from contest.transactions import reading, writing
from contest.web import sharing
from contest.web.base import now_of, state_of
from contest.web.pages import contest_of, language_of, message_page, render, render_themed
from contest.web.participant import links
from contest.web.participant.entering import entry_context, field_value, urlencoded
from rules import PROSPECT_SENTENCE_EN, PROSPECT_SENTENCE_FR
from viral import referrals

# The withdrawal button's text, recorded as the wording of the withdrawal.
WITHDRAW_WORDING = N_("I withdraw this consent")


async def me(request: Request) -> Response:
    """The participant's own page: status and chances."""
    found = await links.own_entry(request)
    if isinstance(found, Response):
        return found
    contest, entry = found
    language = language_of(request, contest)
    engine = state_of(request).engine
    summary = await run_in_threadpool(reading, engine, referrals.summary, entry.id)
    kit = _share_kit(request, contest, entry, language)
    confirmed = entry.status == EntryStatus.CONFIRMED
    given = await run_in_threadpool(reading, engine, consents.person_consents, entry.person_id)
    weight: int | None = entry.chances if confirmed else None
    if confirmed and contest.phase(now_of(request)) == "closed":  # as the frozen pool lists it
        weight = await run_in_threadpool(reading, engine, weight_at_close, contest, entry.public_id)
    won = None
    if confirmed and instantwin.is_instant(contest):  # decided at the confirmation, shown at once
        won = await run_in_threadpool(reading, engine, instantwin.won_by, contest.id, entry.id)
    can_invite = kit is not None and invitation_refusal(contest, now_of(request)) is None
    return render_themed(
        request,
        language,
        "participant/me.html",
        contest=contest,
        entry=entry,
        confirmed=confirmed,
        referrals=summary.credited,
        summary=summary,
        kit=kit,
        can_invite=can_invite,
        challenge=can_invite,  # invitations always ask for the proof of work (contest.botguard)
        receipt=receipt_of(entry.public_id, weight) if weight is not None else None,
        in_review=[sharing.explain_reasons(r, language) for r in summary.in_review],
        not_credited=[sharing.explain_reasons(r, language) for r in summary.not_credited],
        consents=given,
        wordings=consent_wordings(contest, language),
        consent_labels=consents.PURPOSE_LABELS,
        instant=instantwin.is_instant(contest),
        won=won,
        won_prize=next((p for p in contest.prizes if won and p.rank == won.prize_rank), None),
    )


def consent_wordings(contest: ContestView, language: str) -> dict[str, str]:
    """The sentence a person agrees to when giving a marketing consent again from their own
    page, per purpose, in their language: the contest's own box wording where it has one."""
    other = "en" if language == "fr" else "fr"

    def label(name: str) -> str:
        text = getattr(contest, f"{name}_{language}") or getattr(contest, f"{name}_{other}")
        return str(text or "")

    wordings = {
        "marketing_email": label("marketing_label"),
        "partners": label("partners_label"),
        "client_contests": gettext(language, prospects.WORDING),
    }
    if wordings["partners"] and contest.partners:
        wordings["partners"] += " (" + ", ".join(contest.partners) + ")"
    return {purpose: text for purpose, text in wordings.items() if text}


async def my_consents(request: Request) -> Response:
    """POST from the "my consents" panel: withdraw one purpose, or give it again, in one click
    (GDPR Art. 7(3)); recorded in the consent ledger, then back to the panel."""
    found = await links.own_entry(request)
    if isinstance(found, Response):
        return found
    contest, entry = found
    language = language_of(request, contest)
    data = await urlencoded(request) or {}
    purpose, action = field_value(data, "purpose"), field_value(data, "action")
    if purpose not in consents.MARKETING_PURPOSES or action not in ("withdraw", "give"):
        raise HTTPException(400)
    state, now = state_of(request), now_of(request)
    page = request.url.path.removesuffix("/consents")
    if action == "withdraw":
        wording = gettext(language, WITHDRAW_WORDING)
        await run_in_threadpool(
            writing,
            state.engine,
            consents.withdraw,
            entry.person_id,
            [purpose],
            "web",
            now,
            wording,
            language=language,
            page_url=page,
        )
    else:
        offered = consent_wordings(contest, language)
        if purpose not in offered:
            raise HTTPException(400)
        wording = offered[purpose]
        await run_in_threadpool(
            writing,
            state.engine,
            consents.give_again,
            entry.person_id,
            entry.id,
            purpose,
            "web",
            now,
            wording,
            language=language,
            page_url=page,
        )
    return RedirectResponse(f"{page}#consents", status_code=303)


async def my_data(request: Request) -> Response:
    """ "Download my data": everything held about the participant, as JSON (GDPR Art. 15, 20)."""
    found = await links.own_entry(request)
    if isinstance(found, Response):
        return found
    contest, entry = found
    data = await run_in_threadpool(
        writing,
        state_of(request).engine,
        access.export_person,
        contest.organizer_id,
        entry.person_id,
        now=now_of(request),
    )
    return JSONResponse(
        data,
        headers={
            "Content-Disposition": 'attachment; filename="my-data.json"',
            "Cache-Control": "no-store",  # personal data: never kept by a cache
        },
    )


async def erase_me(request: Request) -> Response:
    """ "Erase me": GET asks for confirmation, POST erases the person's data everywhere."""
    found = await links.own_entry(request)
    if isinstance(found, Response):
        return found
    contest, entry = found
    language = language_of(request, contest)
    if request.method == "GET":
        return render(
            request, language, "participant/erase.html", contest=contest, action=request.url.path
        )
    state = state_of(request)
    await run_in_threadpool(
        writing,
        state.engine,
        privacy.erase_person,
        contest.organizer_id,
        entry.person_id,
        now_of(request),
        "web",
        suppression_key=state.settings.secret_keys[0].reveal().encode(),
    )
    await run_in_threadpool(forget_copies, state.settings.mail_dir, entry.email)
    state.sender.wake.set()
    text = gettext(
        language,
        "We erased your personal data. What a published draw needs to stay verifiable (a "
        "random ticket and its chances) holds nothing that identifies you.",
    )
    title = gettext(language, "Your data are erased")
    return message_page(request, language, 200, title, text, contest)


async def interest(request: Request) -> Response:
    """A prospect refused by a client-only contest asks to hear about client-only contests:
    GET (the link of the e-mail that told them why) shows the choice, POST records it."""
    contest = contest_of(request)
    state = state_of(request)
    if request.method == "GET":
        token = request.query_params.get("token", "")
        language = language_of(request, contest, request.query_params.get("lang"))
        refused = _refused_address(request, contest, token)
        if isinstance(refused, Response):
            return refused
        return render(
            request,
            language,
            "participant/interest.html",
            contest=contest,
            interest_token=token,
            interest_wording=gettext(language, prospects.WORDING),
            prospect_sentence=PROSPECT_SENTENCE_FR if language == "fr" else PROSPECT_SENTENCE_EN,
        )
    data = await urlencoded(request) or {}
    language = language_of(request, contest, field_value(data, "lang"))
    email = _refused_address(request, contest, field_value(data, "token"))
    if isinstance(email, Response):
        return email
    if field_value(data, "consent_client_contests") != "on":
        title = gettext(language, "Nothing was recorded")
        text = gettext(language, "You did not tick the box, so we will not write to you.")
        return message_page(request, language, 200, title, text, contest)
    context = entry_context(request, contest, language)
    await run_in_threadpool(
        writing, state.engine, prospects.record_interest, contest, email, email_key(email), context
    )
    state.sender.wake.set()
    text = gettext(
        language,
        "We sent a link to %(email)s. Your choice counts once you click it.",
        email=mask_email(email),
    )
    return message_page(
        request, language, 200, gettext(language, "Check your inbox"), text, contest
    )


async def interest_confirm(request: Request) -> Response:
    """GET shows a button; POST confirms the wish to hear about client-only contests."""
    contest = contest_of(request)
    state = state_of(request)
    language = language_of(request, contest)
    try:
        consent_id = int(
            state.signer.verify(Purpose.CONFIRM_INTEREST, request.path_params["token"])
        )
    except TokenInvalid as exc:
        return links.token_problem(request, contest, exc)
    if request.method == "GET":
        return render(
            request,
            language,
            "participant/confirm_interest.html",
            contest=contest,
            action=request.url.path,
        )
    now = now_of(request)
    if not await run_in_threadpool(
        writing, state.engine, prospects.confirm_interest, consent_id, now
    ):
        return links.gone(request, contest)
    title = gettext(language, "Thank you")
    text = gettext(language, "We will tell you about our contests reserved to clients.")
    return message_page(request, language, 200, title, text, contest)


def _refused_address(request: Request, contest: ContestView, token: str) -> str | Response:
    """The address the client-only contest refused, from the token its refusal signed."""
    try:
        slug, email = state_of(request).signer.verify(Purpose.INTEREST, token)
    except (TokenInvalid, ValueError) as exc:
        if isinstance(exc, TokenInvalid):
            return links.token_problem(request, contest, exc)
        raise HTTPException(400) from exc
    if slug != contest.slug:
        raise HTTPException(400)
    return str(email)


def _share_kit(
    request: Request, contest: ContestView, entry: EntryState, language: str
) -> sharing.ShareKit | None:
    """The share link and its helpers, where referrals earn chances (never client-only)."""
    if not entry.referral_code or contest.clients_only or contest.referral_bonus <= 0:
        return None
    base_url = state_of(request).settings.base_url
    return sharing.share_kit(base_url, contest, entry.referral_code, language)
