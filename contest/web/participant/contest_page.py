"""The contest page: its entry form, its board (leaders, the draw's result), its images, its
official rules, and the organizer's preview of it."""

from __future__ import annotations

import textwrap
from typing import Any
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from contest import media, rulespdf, sharecard, showcase
from contest.contests import ContestView
from contest.contests.fields import US_STATE_CODES
from contest.draw.drawing import frozen_pool
from contest.eligibility import client_set
from contest.forms import CATALOGUE, EMAIL
from contest.i18n import pick_language
from contest.officialrules import official_rules, published_versions
from contest.officialrules import rules_text as computed_rules_text
from contest.officialrules import rules_version as computed_rules_version
from contest.tokens import Purpose, TokenInvalid
from contest.transactions import reading
from contest.web import challenge, sharing
from contest.web.base import now_of, state_of
from contest.web.pages import contest_of, language_of, render, render_themed
from rules import client_only_notice


def rules_version(contest: ContestView) -> str:
    """The version of the contest's official rules (kept on the snapshot: it never changes)."""
    return contest.derived(computed_rules_version)


def form_context(
    request: Request,
    contest: ContestView,
    language: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    ticked: frozenset[str] = frozenset(),
    refused_rule: str | None = None,
    came_from: sharing.Attribution | None = None,
) -> dict[str, Any]:
    """What the entry form's template needs: the fields, what was typed, the messages."""
    state = state_of(request)
    phase = contest.phase(now_of(request))
    return {
        "came_from": came_from or sharing.Attribution(),
        "contest": contest,
        "fields": [CATALOGUE[name] for name in contest.form_fields if name in CATALOGUE],
        "us_states": US_STATE_CODES if contest.asks_state else (),
        "email_field": EMAIL,
        "values": values or {},
        "errors": errors or {},
        "form_error": form_error,
        "ticked": ticked,
        "form_token": state.signer.sign(Purpose.FORM, contest.slug),
        "audience_notice": (
            client_only_notice(  # in the contest's time zone: midnight there is a date alone
                contest.client_cutoff_at.astimezone(ZoneInfo(contest.timezone)), language
            )
            if contest.clients_only and contest.client_cutoff_at
            else None
        ),
        "refused_rule": refused_rule,
        "preview": False,
        "phase": phase,
        "action": request.url_for("participant:enter", slug=contest.slug).path,
        # the proof-of-work widget, while the contest asks for it (contest.botguard)
        "challenge": phase == "open" and challenge.shown(request, contest),
    }


def preview(request: Request, contest: ContestView) -> Response:
    """The contest page as participants will see it, for the organizer (the form is inert)."""
    language = language_of(request, contest)
    context = form_context(request, contest, language)
    context["phase"] = "open" if context["phase"] == "upcoming" else context["phase"]
    context["action"] = "#"
    context["preview"] = True
    context["challenge"] = False
    return render_themed(request, language, "participant/contest.html", leaders=(), **context)


async def media_file(request: Request) -> Response:
    """An uploaded contest image or logo."""
    folder = state_of(request).settings.upload_dir
    path = media.path_of(request.path_params["name"], folder)
    if path is None:
        raise HTTPException(404)
    kind = media.TYPES[path.suffix.removeprefix(".")]
    return FileResponse(
        path, media_type=kind, headers={"Cache-Control": "public, max-age=31536000, immutable"}
    )


async def share_card(request: Request) -> Response:
    """The picture a shared link shows, 1200×630 (contest.sharecard)."""
    contest = contest_of(request)
    if contest.clients_only:
        raise HTTPException(404)  # FR-CLIENTS-2: a client-only contest is never advertised
    # Only a link's ?lang= picks the card's language: crawlers send no cookie.
    language = pick_language(request.query_params.get("lang"), contest.languages, contest.language)
    folder = state_of(request).settings.upload_dir
    path = await run_in_threadpool(sharecard.card_path, contest.in_language(language), folder)
    return FileResponse(
        path, media_type="image/png", headers={"Cache-Control": "public, max-age=3600"}
    )


async def contest_page(request: Request) -> Response:
    """The contest page with its entry form."""
    contest = contest_of(request)
    language = language_of(request, contest)
    _count(request, contest, "page_view")
    came_from = await sharing.attribution(request, contest)
    await challenge.required(request, contest)  # read off the event loop, for the form
    board = showcase.NOTHING
    engine = state_of(request).engine
    if showcase.has_board(contest):
        board = await run_in_threadpool(reading, engine, showcase.board, contest)
    frozen = None  # once closed and until drawn: the pool frozen at the close
    if not board.result and contest.closes_at is not None and contest.closes_at <= now_of(request):
        frozen = await run_in_threadpool(reading, engine, frozen_pool, contest.id)
    return render_themed(
        request,
        language,
        "participant/contest.html",
        leaders=board.leaders,
        result=board.result,
        frozen=frozen,
        share=_share_tags(request, contest, language),
        **form_context(request, contest, language, came_from=came_from),
    )


def _share_tags(request: Request, contest: ContestView, language: str) -> dict[str, Any] | None:
    """What a shared link's preview shows (Open Graph, Twitter card), in ``language``, and the
    page's address in each language (hreflang); none for a client-only contest, which is never
    advertised.

    The canonical address is the one asked for: the bare address (``x-default``) picks its
    language from the visitor, so it stays its own canonical whichever language it answered in,
    and an address naming its language (``?lang=``) is that language's own.
    """
    if contest.clients_only:
        return None
    base = state_of(request).settings.base_url
    page = f"{base}/c/{contest.slug}"
    suffix = "" if language == contest.language else f"?lang={language}"
    asked = request.query_params.get("lang") == language
    image = (
        f"{base}/media/{contest.image_path}" if contest.image_path else f"{page}/card.png{suffix}"
    )
    contest = contest.in_language(language)
    prizes = ", ".join(prize.description for prize in contest.prizes[:3])
    summary = " ".join((contest.description or prizes or contest.title).split())
    return {
        "url": page + suffix,
        "canonical": f"{page}?lang={language}" if asked else page,
        "image": image,
        "description": textwrap.shorten(summary, width=200, placeholder="…"),
        "alternates": [(other, f"{page}?lang={other}") for other in contest.languages],
        "default": page,
    }


async def form_started(request: Request) -> Response:
    """Counts a form start (sent once by htmx when the form first gets focus, with the form's
    signed token): once per form shown, however often it is sent; without a valid token of
    this contest's form, nothing is counted."""
    contest, state = contest_of(request), state_of(request)
    form = await request.form(max_files=0, max_fields=10)
    token = str(form.get("form_token") or "")[:500]
    try:
        valid = state.signer.verify(Purpose.FORM, token) == contest.slug
    except TokenInvalid:
        valid = False
    if valid and state.funnel.first_time(token):
        _count(request, contest, "form_start")
    return Response(status_code=204)


async def rules(request: Request) -> Response:
    """The official rules, generated from the contest's configuration."""
    contest = contest_of(request)
    language = language_of(request, contest)
    committed = None
    engine = state_of(request).engine
    if contest.clients_only:
        committed = await run_in_threadpool(reading, engine, client_set, contest.id)
    versions = await run_in_threadpool(reading, engine, published_versions, contest.id)
    changes = sum(1 for version in versions if version.is_change)
    return render(
        request,
        language,
        "participant/rules.html",
        contest=contest,
        sections=official_rules(contest, language),
        version=rules_version(contest),
        client_set=committed,
        changes=changes,
        pdf_sha256=versions[0].pdf_sha256 if versions else None,
    )


async def rules_file(request: Request) -> Response:
    """The rules' text in both languages, byte for byte what the rules version hashes: its
    SHA-256 is the version, for a deposit or an archive (FR-DEPOSIT-1)."""
    contest = contest_of(request)
    body = computed_rules_text(contest).encode()
    return Response(
        body,
        media_type="text/plain; charset=utf-8",
        headers={
            "Content-Disposition": f'inline; filename="rules-{contest.slug}.txt"',
            "X-Rules-Version": rules_version(contest),
        },
    )


async def rules_pdf(request: Request) -> Response:
    """A version of the rules as a PDF, byte for byte as stored when it was published: the one
    in force at /c/{slug}/rules.pdf, an earlier one at /c/{slug}/rules/versions/{number}.pdf.
    Its SHA-256 is printed on the rules page (FR-DEPOSIT-1)."""
    contest = contest_of(request)
    number = request.path_params.get("number")
    found = await run_in_threadpool(
        reading, state_of(request).engine, rulespdf.stored, contest, number
    )
    if found is None:
        raise HTTPException(status_code=404)
    shown_number, pdf = found
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": (f'inline; filename="rules-{contest.slug}-v{shown_number}.pdf"'),
            "X-Content-SHA256": rulespdf.sha256(pdf),
        },
    )


async def rules_versions(request: Request) -> Response:
    """Every published version of the rules, the latest first, with each change's date and
    reason (ALL-RULES-LOCK-1: a change is public, and so is what it replaced)."""
    contest = contest_of(request)
    language = language_of(request, contest)
    versions = await run_in_threadpool(
        reading, state_of(request).engine, published_versions, contest.id
    )
    return render(
        request,
        language,
        "participant/rules_versions.html",
        contest=contest,
        versions=versions,
    )


def _count(request: Request, contest: ContestView, metric: str) -> None:
    """One more of ``metric`` on the contest's funnel, on the contest's own day."""
    day = now_of(request).astimezone(ZoneInfo(contest.timezone)).date()
    state_of(request).funnel.add(contest.id, day, metric)
