"""The organizer workspace under /admin/, by what the organizer does:

- :mod:`.signin`: signing in and out, the workspace language, a forgotten password;
- :mod:`.contests`: the contests, their form with its live compliance panel, their dashboard,
  lifecycle, draw, preview and entries export;
- :mod:`.clients`: the client list, its import and export;
- :mod:`.organization`: the organization's legal identity, e-mail sender and defaults, its
  sending domain (DKIM key, DNS records and their check);
- :mod:`.tokens`: API tokens;
- :mod:`.team`: members and their roles, joining from an invitation, the audit log;
- :mod:`.connections`: the shop and CRM connections;
- :mod:`.referrals`: referrals under review and tracked links;
- :mod:`.leads`: the leads, filtered, and their export;
- :mod:`.campaigns`: e-mail campaigns announcing a contest to a segment, the contact limit;
- :mod:`.base`: what they share (the page frame, the language, ids in paths, the domain call).

Every query is scoped to the signed-in organizer: another organizer's contest is a 404, never
a 403 that would confirm it exists.
"""

from __future__ import annotations

from starlette.routing import Route

from contest.web.organizer.campaigns import (
    campaign_action,
    campaign_edit,
    campaign_new,
    campaign_view,
    campaigns_page,
    contact_limit,
)
from contest.web.organizer.clients import clients_csv, clients_page
from contest.web.organizer.connections import (
    connection_edit,
    connection_new,
    connection_remove,
    connection_test,
    connections_page,
)
from contest.web.organizer.contests import (
    contest_action,
    contest_check,
    contest_draw,
    contest_duplicate,
    contest_edit,
    contest_new,
    contest_preview,
    contest_view,
    entries_csv,
    home,
    vouchers_csv,
)
from contest.web.organizer.leads import leads_csv, leads_page
from contest.web.organizer.organization import (
    organization_page,
    sending_domain_check,
    sending_domain_save,
)
from contest.web.organizer.referrals import links_page, referral_decision, referrals_page
from contest.web.organizer.sessions_page import session_end, sessions_page
from contest.web.organizer.signin import (
    login,
    logout,
    password_reset,
    password_reset_request,
    set_language,
)
from contest.web.organizer.team import audit_csv, audit_page, join, member_action, members_page
from contest.web.organizer.tokens import token_revoke, tokens_page

# Order matters: a fixed path (``/contests/new``) before the pattern that would take it.
routes = [
    Route(
        "/contests/{contest_id}/referrals",
        referrals_page,
        name="referrals",
        methods=["GET"],
    ),
    Route(
        "/contests/{contest_id}/referrals/{referral_id}/{decision}",
        referral_decision,
        name="referral_decision",
        methods=["POST"],
    ),
    Route("/contests/{contest_id}/links", links_page, name="links", methods=["GET", "POST"]),
    Route("/campaigns", campaigns_page, name="campaigns", methods=["GET"]),
    Route("/campaigns/contact-limit", contact_limit, name="contact_limit", methods=["POST"]),
    Route("/campaigns/new", campaign_new, name="campaign_new", methods=["GET", "POST"]),
    Route("/campaigns/{campaign_id}", campaign_view, name="campaign", methods=["GET"]),
    Route(
        "/campaigns/{campaign_id}/edit",
        campaign_edit,
        name="campaign_edit",
        methods=["GET", "POST"],
    ),
    Route(
        "/campaigns/{campaign_id}/{action:str}",
        campaign_action,
        name="campaign_action",
        methods=["POST"],
    ),
    Route("/api-tokens", tokens_page, name="tokens", methods=["GET", "POST"]),
    Route("/organization", organization_page, name="organization", methods=["GET", "POST"]),
    Route(
        "/organization/sending-domain",
        sending_domain_save,
        name="sending_domain",
        methods=["POST"],
    ),
    Route(
        "/organization/sending-domain/check",
        sending_domain_check,
        name="sending_domain_check",
        methods=["POST"],
    ),
    Route("/api-tokens/{token_id}/revoke", token_revoke, name="token_revoke", methods=["POST"]),
    Route("/sessions", sessions_page, name="sessions", methods=["GET"]),
    Route("/sessions/{session_id}/end", session_end, name="session_end", methods=["POST"]),
    Route("/members", members_page, name="members", methods=["GET", "POST"]),
    Route(
        "/members/{member_id}/{action:str}",
        member_action,
        name="member_action",
        methods=["POST"],
    ),
    Route("/join/{token}", join, name="join", methods=["GET", "POST"]),
    Route("/audit", audit_page, name="audit", methods=["GET"]),
    Route("/audit.csv", audit_csv, name="audit_csv", methods=["GET"]),
    Route("/connections", connections_page, name="connections", methods=["GET"]),
    Route(
        "/connections/{family}/new",
        connection_new,
        name="connection_new",
        methods=["GET", "POST"],
    ),
    Route(
        "/connections/{family}/{connection_id}/edit",
        connection_edit,
        name="connection_edit",
        methods=["GET", "POST"],
    ),
    Route(
        "/connections/{family}/{connection_id}/test",
        connection_test,
        name="connection_test",
        methods=["POST"],
    ),
    Route(
        "/connections/{family}/{connection_id}/remove",
        connection_remove,
        name="connection_remove",
        methods=["POST"],
    ),
    Route("/login", login, name="login", methods=["GET", "POST"]),
    Route("/logout", logout, name="logout", methods=["POST"]),
    Route("/lang/{language}", set_language, name="language", methods=["GET"]),
    Route(
        "/password-reset",
        password_reset_request,
        name="reset_request",
        methods=["GET", "POST"],
    ),
    Route(
        "/password-reset/{token}",
        password_reset,
        name="reset",
        methods=["GET", "POST"],
    ),
    Route("/", home, name="home", methods=["GET"]),
    Route("/contests/new", contest_new, name="contest_new", methods=["GET", "POST"]),
    Route("/contests/check", contest_check, name="contest_check", methods=["POST"]),
    Route("/contests/{contest_id}", contest_view, name="contest", methods=["GET"]),
    Route(
        "/contests/{contest_id}/edit",
        contest_edit,
        name="contest_edit",
        methods=["GET", "POST"],
    ),
    Route(
        "/contests/{contest_id}/preview",
        contest_preview,
        name="contest_preview",
        methods=["GET"],
    ),
    Route(
        "/contests/{contest_id}/entries.csv",
        entries_csv,
        name="entries_csv",
        methods=["GET"],
    ),
    Route(
        "/contests/{contest_id}/vouchers.csv",
        vouchers_csv,
        name="vouchers_csv",
        methods=["GET"],
    ),
    Route("/contests/{contest_id}/draw", contest_draw, name="contest_draw", methods=["POST"]),
    Route(
        "/contests/{contest_id}/duplicate",
        contest_duplicate,
        name="contest_duplicate",
        methods=["POST"],
    ),
    Route(
        "/contests/{contest_id}/{action:str}",
        contest_action,
        name="contest_action",
        methods=["POST"],
    ),
    Route("/clients", clients_page, name="clients", methods=["GET", "POST"]),
    Route("/leads", leads_page, name="leads", methods=["GET"]),
    Route("/leads.csv", leads_csv, name="leads_csv", methods=["GET"]),
    Route("/clients.csv", clients_csv, name="clients_csv", methods=["GET"]),
]
