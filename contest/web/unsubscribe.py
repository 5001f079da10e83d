"""One-click unsubscribe from every marketing message (EU-WITHDRAW-1, RFC 8058).

Every marketing e-mail carries :func:`unsubscribe_headers` and a link to ``/unsubscribe/{token}``.
GET shows what the person is subscribed to and a button (mail scanners follow links); POST
withdraws every marketing purpose at once in the consent ledger. The mailbox provider's
one-click POST (body ``List-Unsubscribe=One-Click``) comes without any CSRF token: the signed
token is the authority, and withdrawing twice changes nothing.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from contest.i18n import N_, gettext, pick_language
from contest.leads import consents
from contest.leads.subscriptions import (
    ONE_CLICK,
    Subscriber,
    subscriber,
)
from contest.tokens import Purpose, TokenExpired, TokenInvalid
from contest.transactions import reading, writing
from contest.web.base import now_of, state_of
from contest.web.pages import message_page, render

CHANNEL = "unsubscribe"
# The button's text, recorded as the wording of the withdrawal.
WITHDRAWAL = N_("Unsubscribe me from every marketing message")
LABELS = consents.PURPOSE_LABELS


async def unsubscribe(request: Request) -> Response:
    """GET shows the subscriptions and a button; POST (RFC 8058 one-click too) withdraws all."""
    state = state_of(request)
    person = _person_of(request)
    if isinstance(person, Response):
        return person
    organizer_id, person_id = person
    found = await run_in_threadpool(reading, state.engine, subscriber, organizer_id, person_id)
    language = pick_language(request.query_params.get("lang"), ("fr", "en"), found.language)
    if request.method == "GET":
        return _subscriptions_page(request, language, found)
    form = await request.form(max_fields=8, max_files=0)
    one_click = form.get("List-Unsubscribe") == "One-Click"
    if found.email:
        await run_in_threadpool(
            writing,
            state.engine,
            consents.withdraw,
            person_id,
            consents.MARKETING_PURPOSES,
            CHANNEL,
            now_of(request),
            gettext(language, WITHDRAWAL),
            language=language,
            page_url="/unsubscribe" + (f" ({ONE_CLICK})" if one_click else ""),
        )
    if one_click:
        return PlainTextResponse("Unsubscribed.", headers={"Cache-Control": "no-store"})
    return _unsubscribed_page(request, language, found)


def _person_of(request: Request) -> tuple[int, int] | Response:
    """(organizer id, person id) from the link, or the page saying the link is too old (410)
    or broken (400)."""
    language = pick_language(request.query_params.get("lang"), ("fr", "en"), "fr")
    try:
        payload = state_of(request).signer.verify(Purpose.UNSUBSCRIBE, request.path_params["token"])
        organizer_id, person_id = (int(part) for part in payload)
    except TokenExpired:
        text = N_(
            "This unsubscribe link is too old. Use the link in a more recent e-mail, or write to "
            "the organizer."
        )
        title = gettext(language, "This link has expired")
        return message_page(request, language, 410, title, gettext(language, text))
    except (TokenInvalid, TypeError, ValueError):
        text = N_("The link may have been cut or changed. Copy it again in full from the e-mail.")
        title = gettext(language, "This link is not valid")
        return message_page(request, language, 400, title, gettext(language, text))
    return organizer_id, person_id


def _subscriptions_page(request: Request, language: str, found: Subscriber) -> Response:
    return render(
        request,
        language,
        "participant/unsubscribe.html",
        subscriber=found,
        labels=[gettext(language, LABELS[p]) for p in found.subscribed],
        button=gettext(language, WITHDRAWAL),
        action=request.url.path,
        contest=None,
    )


def _unsubscribed_page(request: Request, language: str, found: Subscriber) -> Response:
    return message_page(
        request,
        language,
        200,
        gettext(language, "You are unsubscribed"),
        gettext(
            language,
            "%(organizer)s will send no more marketing messages to %(email)s.",
            organizer=found.organizer,
            email=found.email,
        ),
    )


routes = [
    Route("/unsubscribe/{token}", unsubscribe, name="unsubscribe", methods=["GET", "POST"]),
]
