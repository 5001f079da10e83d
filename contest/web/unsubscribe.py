"""One-click unsubscribe from every marketing message (EU-WITHDRAW-1, RFC 8058).

Every marketing e-mail carries :func:`unsubscribe_headers` and a link to ``/unsubscribe/{token}``.
GET shows what the person is subscribed to and a button (mail scanners follow links); POST
withdraws every marketing purpose at once in the consent ledger. The mailbox provider's
one-click POST (body ``List-Unsubscribe=One-Click``) comes without any CSRF token: the signed
token is the authority, and withdrawing twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from contest import tables
from contest.i18n import N_, gettext, pick_language
from contest.leads import consents
from contest.people import mask_email
from contest.storage import write_options
from contest.tokens import Purpose, Signer, TokenExpired, TokenInvalid
from contest.web.base import AppState, now_of, state_of
from contest.web.pages import message_page, render

CHANNEL = "unsubscribe"
ONE_CLICK = "List-Unsubscribe=One-Click"
# The button's text, recorded as the wording of the withdrawal.
WITHDRAWAL = N_("Unsubscribe me from every marketing message")
LABELS = {
    "marketing_email": N_("Offers by e-mail"),
    "partners": N_("Offers from partners"),
    "client_contests": N_("Contests reserved to clients"),
}


def unsubscribe_token(signer: Signer, organizer_id: int, person_id: int) -> str:
    return signer.sign(Purpose.UNSUBSCRIBE, [organizer_id, person_id])


def unsubscribe_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/unsubscribe/{token}"


def unsubscribe_headers(base_url: str, token: str) -> dict[str, str]:
    """The RFC 8058 headers every marketing e-mail carries."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(base_url, token)}>",
        "List-Unsubscribe-Post": ONE_CLICK,
    }


@dataclass(frozen=True)
class Subscriber:
    organizer: str
    email: str  # masked; empty when the person no longer exists (erased)
    language: str
    subscribed: tuple[str, ...]  # marketing purposes granted or confirmed


def _subscriber(state: AppState, organizer_id: int, person_id: int) -> Subscriber:
    organizer, person, consent = tables.organizer, tables.person, tables.consentrecord
    with state.engine.connect() as connection:
        who = connection.execute(
            sa.select(organizer.c.legal_name, organizer.c.contact_email, organizer.c.email).where(
                organizer.c.id == organizer_id
            )
        ).first()
        found = connection.execute(
            sa.select(person.c.email).where(
                person.c.id == person_id, person.c.organizer_id == organizer_id
            )
        ).first()
        language = connection.execute(
            sa.select(consent.c.language)
            .where(consent.c.person_id == person_id)
            .order_by(consent.c.id.desc())
            .limit(1)
        ).scalar()
        subscribed = tuple(
            purpose
            for purpose in consents.MARKETING_PURPOSES
            if found is not None and consents.consent_state(connection, person_id, purpose).granted
        )
    name = (who.legal_name or who.contact_email or who.email) if who else ""
    return Subscriber(
        organizer=name,
        email=mask_email(found.email) if found else "",
        language=language or "fr",
        subscribed=subscribed,
    )


async def unsubscribe(request: Request) -> Response:
    """GET shows the subscriptions and a button; POST (RFC 8058 one-click too) withdraws all."""
    state = state_of(request)
    wanted = request.query_params.get("lang")
    try:
        payload = state.signer.verify(Purpose.UNSUBSCRIBE, request.path_params["token"])
        organizer_id, person_id = (int(part) for part in payload)
    except TokenExpired:
        language = pick_language(wanted, ("fr", "en"), "fr")
        text = N_(
            "This unsubscribe link is too old. Use the link in a more recent e-mail, or write to "
            "the organizer."
        )
        title = gettext(language, "This link has expired")
        return message_page(request, language, 410, title, gettext(language, text))
    except (TokenInvalid, TypeError, ValueError):
        language = pick_language(wanted, ("fr", "en"), "fr")
        text = N_("The link may have been cut or changed. Copy it again in full from the e-mail.")
        title = gettext(language, "This link is not valid")
        return message_page(request, language, 400, title, gettext(language, text))

    subscriber = await run_in_threadpool(_subscriber, state, organizer_id, person_id)
    language = pick_language(wanted, ("fr", "en"), subscriber.language)
    if request.method == "GET":
        return render(
            request,
            language,
            "participant/unsubscribe.html",
            subscriber=subscriber,
            labels=[gettext(language, LABELS[p]) for p in subscriber.subscribed],
            button=gettext(language, WITHDRAWAL),
            action=request.url.path,
            contest=None,
        )

    form = await request.form(max_fields=8, max_files=0)
    one_click = form.get("List-Unsubscribe") == "One-Click"

    def withdraw() -> int:
        with state.engine.connect().execution_options(**write_options()) as connection:
            with connection.begin():
                return consents.withdraw(
                    connection,
                    person_id,
                    consents.MARKETING_PURPOSES,
                    CHANNEL,
                    now_of(request),
                    gettext(language, WITHDRAWAL),
                    language=language,
                    page_url="/unsubscribe" + (f" ({ONE_CLICK})" if one_click else ""),
                )

    if subscriber.email:
        await run_in_threadpool(withdraw)
    if one_click:
        return PlainTextResponse("Unsubscribed.", headers={"Cache-Control": "no-store"})
    return message_page(
        request,
        language,
        200,
        gettext(language, "You are unsubscribed"),
        gettext(
            language,
            "%(organizer)s will send no more marketing messages to %(email)s.",
            organizer=subscriber.organizer,
            email=subscriber.email,
        ),
    )


routes = [
    Route("/unsubscribe/{token}", unsubscribe, name="unsubscribe", methods=["GET", "POST"]),
]
