"""Participant pages, by what the person does:

- :mod:`.contest_page`: the contest page (its form, board, images, rules, preview);
- :mod:`.entering`: entering, and confirming the entry;
- :mod:`.own_page`: the participant's own page, their data and its erasure, client interest;
- :mod:`.results`: the draw's record, its pool file, and a winner's prize claim;
- :mod:`.links`: the signed links they all receive, and what a broken one answers.

One htmx contract: a request with ``HX-Request`` gets a fragment, any other the full page; an
invalid form comes back with 422 (400 for a broken request) and its messages beside the
fields; success is a redirect (POST/redirect/GET) or, for htmx, the "check your inbox"
fragment. Answers that depend on ``HX-Request`` say so with ``Vary``.
"""

from __future__ import annotations

from starlette.routing import Route

from contest.web import challenge, sharing
from contest.web.participant.contest_page import (
    contest_page,
    form_context,
    form_started,
    media_file,
    preview,
    rules,
    rules_file,
    rules_pdf,
    rules_versions,
    share_card,
)
from contest.web.participant.entering import back_to_the_form, confirm, enter, entered
from contest.web.participant.own_page import (
    erase_me,
    interest,
    interest_confirm,
    me,
    my_consents,
    my_data,
)
from contest.web.participant.results import (
    claim_prize,
    draw_pool,
    draw_record,
    instant_win_record,
)

__all__ = ["form_context", "preview", "routes"]

routes = [
    # The busiest two first: the router tries each route in turn.
    Route("/c/{slug}", contest_page, name="contest", methods=["GET"]),
    Route("/c/{slug}/entries", enter, name="enter", methods=["POST"]),
    Route("/c/{slug}/entries", back_to_the_form, methods=["GET"]),
    Route("/c/{slug}/claim/{token}", claim_prize, name="claim", methods=["GET", "POST"]),
    Route("/c/{slug}/draw.json", draw_record, name="draw_record", methods=["GET"]),
    Route(
        "/c/{slug}/instant-win.json",
        instant_win_record,
        name="instant_win_record",
        methods=["GET"],
    ),
    Route("/c/{slug}/pool.tsv", draw_pool, name="draw_pool", methods=["GET"]),
    Route("/c/{slug}/me/{token}/data.json", my_data, name="my_data", methods=["GET"]),
    Route("/c/{slug}/me/{token}/erase", erase_me, name="erase_me", methods=["GET", "POST"]),
    Route("/c/{slug}/me/{token}/consents", my_consents, name="my_consents", methods=["POST"]),
    Route("/c/{slug}/started", form_started, name="started", methods=["POST"]),
    Route("/c/{slug}/challenge", challenge.challenge, name="challenge", methods=["GET"]),
    Route("/c/{slug}/entered", entered, name="entered", methods=["GET"]),
    Route("/c/{slug}/rules", rules, name="rules", methods=["GET"]),
    Route("/c/{slug}/rules/versions", rules_versions, name="rules_versions", methods=["GET"]),
    Route("/c/{slug}/rules.txt", rules_file, name="rules_file", methods=["GET"]),
    Route("/c/{slug}/rules.pdf", rules_pdf, name="rules_pdf", methods=["GET"]),
    Route(
        "/c/{slug}/rules/versions/{number:int}.pdf",
        rules_pdf,
        name="rules_version_pdf",
        methods=["GET"],
    ),
    Route("/c/{slug}/card.png", share_card, name="share_card", methods=["GET"]),
    Route("/media/{name}", media_file, name="media", methods=["GET"]),
    Route("/r/{code}", sharing.referral_link, name="referral", methods=["GET"]),
    Route("/s/{code}", sharing.source_link, name="source", methods=["GET"]),
    Route("/c/{slug}/confirm/{token}", confirm, name="confirm", methods=["GET", "POST"]),
    Route("/c/{slug}/me/{token}", me, name="me", methods=["GET"]),
    Route("/c/{slug}/interest", interest, name="interest", methods=["GET", "POST"]),
    Route(
        "/c/{slug}/interest/confirm/{token}",
        interest_confirm,
        name="interest_confirm",
        methods=["GET", "POST"],
    ),
]
