"""Every guarded route, found by walking the app's route table: a route added tomorrow is covered
by construction, or its test fails and says which filler or allow-list entry it needs.

1. The workspace (``/admin/``) refuses an anonymous visitor: a redirect to the sign-in page,
   401 or 403; never 200, never 5xx, and nothing is written.
2. The API (``/api/v1/``) answers 401 without a bearer token, with a wrong one and with a
   revoked one; nothing is written.
3. Another organizer, signed in with their own session and their own API token, gets 404 (or
   403) for every route naming the demo organizer's contest, API token or referral, for reading
   and for changing; the demo's data never shows and nothing is written. Their own ids pass the
   same guard (a control), so the 404 comes from the ownership check, not from a missing token.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from starlette.routing import BaseRoute, Mount, Route
from starlette.testclient import TestClient

from contest import apitokens, campaigns, sessions, tables
from contest.app import create_app
from contest.clock import FixedClock
from contest.demo import DEMO_EMAIL
from contest.models import (
    Contest,
    Entry,
    Member,
    Organizer,
    Referral,
    ReferralStatus,
    ShopConnection,
)
from contest.passwords import hash_password
from contest.settings import Secret, Settings
from tests.helpers import shown, sign_in

WORKSPACE = "/admin/"
API = "/api/v1/"
LOGIN = "/admin/login"

# Workspace routes that are public by design, so an anonymous visitor may use them.
PUBLIC_WORKSPACE = frozenset(
    {
        "/admin/login",  # the sign-in form itself
        "/admin/password-reset",  # asks for a reset link: no account is needed to ask
        "/admin/password-reset/{token}",  # the signed one-time link is the credential
        "/admin/join/{token}",  # a member's signed invitation is the credential
        "/admin/lang/{language}",  # remembers the language of the sign-in page (a cookie only)
    }
)
# API routes that answer without a bearer token.
PUBLIC_API = frozenset({"/api/v1/openapi.json"})  # the published contract


@dataclass(frozen=True)
class Ids:
    """The ids an organizer owns, to put in paths."""

    contest_id: int
    slug: str
    token_id: int
    referral_id: int
    connection_id: int = 2**31 - 1  # the organizer's shop connection
    member_id: int = 2**31 - 1
    campaign_id: int = 2**31 - 1
    session_id: int = 2**31 - 1


@dataclass(frozen=True)
class Filler:
    owned: bool  # names something one organizer owns: the route gets the isolation tests
    value: Callable[[Ids], str]


# How each path parameter is filled. Owned ones get the demo organizer's real ids (so that a
# missing ownership check would reach real data, and a leak would write or show something);
# the others get a value that reaches the handler. A route with a parameter missing here fails
# test_every_path_parameter_has_a_filler: add it, saying whether an organizer owns it.
FILLERS: Mapping[str, Filler] = {
    # demo-closed: confirmed entries, a draw that is due, an archivable status
    "contest_id": Filler(owned=True, value=lambda ids: str(ids.contest_id)),
    "slug": Filler(owned=True, value=lambda ids: ids.slug),
    # a live API token of the demo organizer's
    "token_id": Filler(owned=True, value=lambda ids: str(ids.token_id)),
    # a referral in the demo-closed contest, flagged for review
    "referral_id": Filler(owned=True, value=lambda ids: str(ids.referral_id)),
    # the demo organizer's shop connection (a webhook) and an invited member
    "connection_id": Filler(owned=True, value=lambda ids: str(ids.connection_id)),
    "member_id": Filler(owned=True, value=lambda ids: str(ids.member_id)),
    # a draft campaign of the demo organizer's, announcing the open demo contest
    "campaign_id": Filler(owned=True, value=lambda ids: str(ids.campaign_id)),
    # a signed-in session of the demo organizer's
    "session_id": Filler(owned=True, value=lambda ids: str(ids.session_id)),
    # the shop family: the connection ids above are shop connections
    "family": Filler(owned=False, value=lambda ids: "shop"),
    # credits the referral: a leak would write
    "decision": Filler(owned=False, value=lambda ids: "clear"),
    # archives the closed contest: a leak would write (another action name would reach the
    # handler too; "edit", "draw", "links"... would match their own routes instead)
    "action": Filler(owned=False, value=lambda ids: "archive"),
    # public routes only (allow-listed above), filled so that every route can be requested
    "language": Filler(owned=False, value=lambda ids: "en"),
    "token": Filler(owned=False, value=lambda ids: "not-a-signed-token"),
}

# Routes that take a contest through the query string rather than the path: the parameter-free
# GET isolation test fills it with the demo's contest (id or slug, as the route reads it).
CONTEST_QUERY: Mapping[str, Callable[[Ids], dict[str, str]]] = {
    "/admin/leads": lambda ids: {"contest": str(ids.contest_id)},
    "/admin/leads.csv": lambda ids: {"contest": ids.slug, "purpose": "marketing_email"},
}

# Columns and tables that a refused request may legitimately touch.
VOLATILE_COLUMNS: Mapping[str, frozenset[str]] = {
    "apitoken": frozenset({"last_used_at"}),  # touched (once a minute) by a valid token's use
}
# Reading personal data (the API's leads) is audited in the reader's own log: an audit line
# is the only write a read may make.
VOLATILE_TABLES = frozenset({"alembic_version", "auditevent"})

PARAMETER = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)(?::[A-Za-z_]+)?}")
METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE")
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # the template, as in the route table: /admin/contests/{contest_id}
    kind: str = "route"  # "mount" for a mounted app the walk cannot see into

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def parameters(self) -> list[str]:
        return PARAMETER.findall(self.path)

    @property
    def owned(self) -> bool:
        return any(FILLERS[name].owned for name in self.parameters if name in FILLERS)

    def url(self, ids: Ids) -> str:
        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in FILLERS:
                pytest.fail(f"{self}: add a filler for the path parameter {name!r} to FILLERS")
            return FILLERS[name].value(ids)

        return PARAMETER.sub(fill, self.path)


def walk(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[Endpoint]:
    """Every (method, path) of the table, mounts included; HEAD goes with GET."""
    for route in routes:
        if isinstance(route, Mount):
            if route.routes:
                yield from walk(route.routes, prefix + route.path)
            else:
                yield Endpoint("*", prefix + route.path + "/{path}", kind="mount")
        elif isinstance(route, Route):
            methods = (route.methods or {"GET"}) - {"HEAD"}
            for method in sorted(methods, key=lambda m: (METHOD_ORDER + (m,)).index(m)):
                yield Endpoint(method, prefix + route.path)
        else:
            yield Endpoint(
                "*", prefix + getattr(route, "path", repr(route)), kind=type(route).__name__
            )


def route_table() -> list[Endpoint]:
    """The routes of an app built (not started: no database is opened) at collection time."""
    settings = Settings(
        data_dir=Path("unused"),
        database_url=Secret("sqlite://"),
        secret_keys=(Secret("collection-only"),),
        base_url="http://testserver",
        smtp_url=None,
        env="test",
    )
    return list(walk(create_app(settings, send_mail=False).routes))


ENDPOINTS = route_table()
WORKSPACE_GUARDED = [
    e
    for e in ENDPOINTS
    if e.kind == "route" and e.path.startswith(WORKSPACE) and e.path not in PUBLIC_WORKSPACE
]
API_GUARDED = [
    e
    for e in ENDPOINTS
    if e.kind == "route" and e.path.startswith(API) and e.path not in PUBLIC_API
]
GUARDED = WORKSPACE_GUARDED + API_GUARDED
OWNED = [e for e in GUARDED if all(p in FILLERS for p in e.parameters) and e.owned]
LISTS = [e for e in GUARDED if e.method == "GET" and not e.parameters]
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


# --- The demo organizer's ids, a second organizer, and what the database holds ----------------


@dataclass(frozen=True)
class Demo:
    ids: Ids
    revoked_token: str
    markers: tuple[str, ...]  # text that only the demo organizer may ever be shown


@pytest.fixture
def demo_org(engine: Engine, demo: None, clock: FixedClock) -> Demo:
    """The demo organizer's closed contest, a live and a revoked API token, and a referral
    under review (so every owned id in a path names something real)."""
    now = clock.now()
    with Session(engine) as session:
        organizer = session.exec(select(Organizer).where(Organizer.email == DEMO_EMAIL)).one()
        contest = session.exec(select(Contest).where(Contest.slug == "demo-closed")).one()
        titles = [c.title for c in session.exec(select(Contest)).all()]
        entries = session.exec(
            select(Entry).where(Entry.contest_id == contest.id).order_by(col(Entry.id)).limit(2)
        ).all()
        assert organizer.id is not None and contest.id is not None and len(entries) == 2
        assert entries[0].id is not None and entries[1].id is not None
        referral = Referral(
            contest_id=contest.id,
            referrer_entry_id=entries[0].id,
            referred_entry_id=entries[1].id,
            status=ReferralStatus.REVIEW,
            reasons=[],
        )
        session.add(referral)
        session.flush()
        assert referral.id is not None
        connection = session.connection()
        live = apitokens.create_token(connection, organizer.id, "demo CRM", now)
        revoked = apitokens.create_token(connection, organizer.id, "demo old", now)
        apitokens.revoke_token(connection, organizer.id, revoked.id, now)
        shop = ShopConnection(
            organizer_id=organizer.id,
            kind="webhook",
            settings={"url": "https://hooks.example/contest"},
            updated_at=now,
        )
        member = Member(
            organizer_id=organizer.id, email="agency@example.org", role="viewer", invited_at=now
        )
        session.add_all([shop, member])
        session.flush()
        assert shop.id is not None and member.id is not None
        campaign = campaigns.create_campaign(
            session.connection(),
            organizer.id,
            campaigns.CampaignSettings(
                name="Demo secret campaign",
                contest="demo",
                subject_fr="Objet",
                body_fr="Message",
            ),
            now,
        )
        sessions.open_session(
            session.connection(), organizer.id, None, "demo-nonce", now, timedelta(hours=1),
            "Firefox", "192.0.2.0",
        )  # fmt: skip
        session_id = (
            session.connection()
            .execute(sa.select(sa.func.max(tables.organizersession.c.id)))
            .scalar_one()
        )
        ids = Ids(
            contest.id, contest.slug, live.id, referral.id, shop.id, member.id, campaign,
            session_id,
        )  # fmt: skip
        session.commit()
    return Demo(
        ids,
        revoked.token,
        markers=(
            *titles,
            "demo-closed",
            "demo-clients",
            "participant0000@example.net",
            "loyal@example.org",
            "Demo secret campaign",
            DEMO_EMAIL,
            live.token[: len(apitokens.PREFIX) + 6],
        ),
    )


# The Authorization headers the API must refuse.
CREDENTIALS: Mapping[str, Callable[[Demo], str | None]] = {
    "no token": lambda demo: None,
    "not bearer": lambda demo: "Basic ZGVtb0BleGFtcGxlLm9yZzpwYXNzd29yZA==",
    "empty bearer": lambda demo: "Bearer ",
    "wrong token": lambda demo: "Bearer " + apitokens.PREFIX + "x" * 43,
    "revoked token": lambda demo: f"Bearer {demo.revoked_token}",  # the demo's own, revoked
}


@dataclass(frozen=True)
class Rival:
    ids: Ids
    csrf: str
    bearer: dict[str, str]


# Ids nothing has: another organizer's contest must answer exactly as a contest that does not
# exist (a 403, or any other difference, would confirm that it exists).
GHOST = Ids(contest_id=2**31 - 1, slug="no-such-contest", token_id=2**31 - 1, referral_id=2**31 - 1)

RIVAL_EMAIL = "rival@example.com"
RIVAL_PASSWORD = "rival password, long enough"


@functools.cache
def rival_password_hash() -> str:
    """Hashed once for the module: hashing is slow on purpose."""
    return hash_password(RIVAL_PASSWORD)


@pytest.fixture
def rival(client: TestClient, engine: Engine, demo_org: Demo, clock: FixedClock) -> Rival:
    """A second organizer with a contest of their own, signed in on ``client`` (session cookie
    and CSRF token), with their own API token."""
    now = clock.now()
    with Session(engine) as session:
        other = Organizer(email=RIVAL_EMAIL, password_hash=rival_password_hash())
        session.add(other)
        session.flush()
        assert other.id is not None
        contest = Contest(organizer_id=other.id, slug="rival", title="Rival contest")
        session.add(contest)
        session.flush()
        assert contest.id is not None
        token = apitokens.create_token(session.connection(), other.id, "rival CRM", now)
        ids = Ids(contest.id, contest.slug, token.id, referral_id=2**31 - 1)
        session.commit()
    answer = sign_in(client, RIVAL_EMAIL, RIVAL_PASSWORD)
    assert getattr(answer, "status_code", None) == 303, shown(answer)
    match = re.search(r'name="csrf" value="([^"]+)"', client.get("/admin/").text)
    assert match, "the workspace home page has no CSRF token"
    return Rival(ids, match.group(1), {"Authorization": f"Bearer {token.token}"})


Snapshot = dict[str, list[str]]


def snapshot(engine: Engine) -> Snapshot:
    """Every row of every table (volatile columns left out), to compare before and after."""
    with engine.connect() as connection:
        names = sorted(set(sa.inspect(connection).get_table_names()) - VOLATILE_TABLES)
        tables: Snapshot = {}
        for name in names:
            skip = VOLATILE_COLUMNS.get(name, frozenset())
            rows = connection.execute(sa.text(f'SELECT * FROM "{name}"')).mappings().all()
            tables[name] = sorted(
                repr(sorted((k, str(v)) for k, v in row.items() if k not in skip)) for row in rows
            )
        return tables


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """The tables whose rows differ, with a sample of what appeared or went."""
    found = []
    for name in sorted(before.keys() | after.keys()):
        old, new = set(before.get(name, [])), set(after.get(name, []))
        if old != new:
            found.append(f"{name}: +{sorted(new - old)[:2]} -{sorted(old - new)[:2]}")
    return found


def send(
    client: TestClient,
    endpoint: Endpoint,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    form: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
) -> httpx2.Response:
    """The request a browser (workspace, an empty or CSRF-only form) or an API client (JSON)
    would send."""
    extra: dict[str, Any] = {}
    if endpoint.method in UNSAFE:
        if endpoint.path.startswith(API):
            extra["json"] = {}
        elif form:
            extra["data"] = dict(form)
        else:
            extra["content"] = b""
            headers = {**(headers or {}), "Content-Type": "application/x-www-form-urlencoded"}
    return client.request(
        endpoint.method,
        url,
        headers=dict(headers or {}),
        params=dict(params or {}),
        follow_redirects=False,
        **extra,
    )


def leaks(demo: Demo, answer: httpx2.Response) -> list[str]:
    """The demo organizer's data in the answer, leaving out what the request itself named (an
    error message may echo the slug that was asked for)."""
    asked = str(answer.request.url)
    return [m for m in demo.markers if m in shown(answer) and m not in asked]


def answered(answer: httpx2.Response) -> tuple[int, str | None]:
    """The status, and the API's error code: what tells one refusal from another."""
    if answer.headers.get("content-type", "").startswith("application/json"):
        body = answer.json()
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            return answer.status_code, str(body["error"].get("code"))
    return answer.status_code, None


def described(endpoint: Endpoint, url: str, answer: httpx2.Response) -> str:
    location = answer.headers.get("location", "")
    body = re.sub(r"\s+", " ", shown(answer))[:300]
    return f"{endpoint} ({url}) answered {answer.status_code} {location} {body}"


# --- The route walk itself ------------------------------------------------------------------


def test_the_walk_finds_the_guarded_routes() -> None:
    """The walk reaches into the mounts (a walk that found nothing would test nothing)."""
    paths = {e.path for e in ENDPOINTS}
    assert {"/admin/", "/admin/contests/{contest_id}", "/api/v1/contests"} <= paths
    assert PUBLIC_WORKSPACE <= paths and PUBLIC_API <= paths, "an allow-listed route is gone"
    assert len(WORKSPACE_GUARDED) > 10 and len(API_GUARDED) > 5 and len(OWNED) > 10


def test_nothing_is_mounted_out_of_the_walks_sight() -> None:
    """A mounted app (not a route list) under /admin/ or /api/v1/ would escape these tests."""
    hidden = [
        str(e)
        for e in ENDPOINTS
        if e.kind != "route" and (e.path.startswith(WORKSPACE) or e.path.startswith(API))
    ]
    assert not hidden, f"guarded paths the route walk cannot see into: {hidden}"


def test_every_path_parameter_has_a_filler() -> None:
    """Under /admin/ and /api/v1/ (the participant side is public: not tested here)."""
    ours = [e for e in ENDPOINTS if e.path.startswith((WORKSPACE, API))]
    missing = {f"{e}: {p}" for e in ours for p in e.parameters if p not in FILLERS}
    assert not missing, f"add these path parameters to FILLERS (owned or not): {sorted(missing)}"


# --- 1. The workspace refuses anonymous visitors ----------------------------------------------


@SQLITE
@pytest.mark.parametrize("endpoint", WORKSPACE_GUARDED, ids=str)
def test_workspace_refuses_an_anonymous_visitor(
    endpoint: Endpoint, client: TestClient, engine: Engine, demo_org: Demo
) -> None:
    url = endpoint.url(demo_org.ids)
    before = snapshot(engine)
    answer = send(client, endpoint, url)
    status = answer.status_code
    to_login = (
        status in {302, 303, 307} and urlsplit(answer.headers.get("location", "")).path == LOGIN
    )
    assert to_login or status in {401, 403}, described(endpoint, url, answer)
    wrote = changes(before, snapshot(engine))
    assert not wrote, f"{endpoint} wrote: {wrote}"
    assert not leaks(demo_org, answer), described(endpoint, url, answer)


# --- 2. The API refuses calls without a valid bearer token ------------------------------------


@SQLITE
@pytest.mark.parametrize("endpoint", API_GUARDED, ids=str)
def test_api_refuses_a_call_without_a_valid_token(
    endpoint: Endpoint, client: TestClient, engine: Engine, demo_org: Demo
) -> None:
    url = endpoint.url(demo_org.ids)
    before = snapshot(engine)
    for credential, header_of in CREDENTIALS.items():
        header = header_of(demo_org)
        answer = send(client, endpoint, url, headers={"Authorization": header} if header else None)
        told = f"with {credential}: {described(endpoint, url, answer)}"
        assert answer.status_code == 401, told
        assert answered(answer) == (401, "unauthorized"), told
        assert answer.headers.get("www-authenticate", "").startswith("Bearer"), told
    wrote = changes(before, snapshot(engine))
    assert not wrote, f"{endpoint} wrote: {wrote}"


# --- 3. Another organizer never reaches the demo organizer's things ---------------------------


def _as_rival(rival: Rival, endpoint: Endpoint) -> tuple[dict[str, str], dict[str, str]]:
    """The rival's credentials for the route: the bearer token for the API, the session cookie
    (already on the client) and the CSRF token for the workspace."""
    if endpoint.path.startswith(API):
        return rival.bearer, {}
    return {}, {"csrf": rival.csrf}


@SQLITE
@pytest.mark.parametrize("endpoint", OWNED, ids=str)
def test_another_organizer_gets_a_404_for_the_demo_organizers_ids(
    endpoint: Endpoint, client: TestClient, engine: Engine, demo_org: Demo, rival: Rival
) -> None:
    headers, form = _as_rival(rival, endpoint)
    url = endpoint.url(demo_org.ids)
    before = snapshot(engine)
    answer = send(client, endpoint, url, headers=headers, form=form)
    assert answer.status_code in {403, 404}, described(endpoint, url, answer)
    leaked = leaks(demo_org, answer)
    assert not leaked, f"{described(endpoint, url, answer)}: shows {leaked}"
    wrote = changes(before, snapshot(engine))
    assert not wrote, f"{endpoint} wrote: {wrote}"
    ghost_url = endpoint.url(GHOST)
    ghost = send(client, endpoint, ghost_url, headers=headers, form=form)
    assert answered(ghost) == answered(answer), (
        f"tells the demo's ids from ids nothing has: {described(endpoint, ghost_url, ghost)}"
    )

    # The control: the same request with the rival's own ids gets past the guard (so the 404
    # above is the ownership check, not a refused session, CSRF token or bearer token).
    own_url = endpoint.url(rival.ids)
    control = send(client, endpoint, own_url, headers=headers, form=form)
    assert control.status_code not in {401, 403}, described(endpoint, own_url, control)
    assert control.status_code < 500, described(endpoint, own_url, control)


@SQLITE
@pytest.mark.parametrize("endpoint", LISTS, ids=str)
def test_another_organizers_lists_show_none_of_the_demo_organizers_data(
    endpoint: Endpoint, client: TestClient, engine: Engine, demo_org: Demo, rival: Rival
) -> None:
    headers, _form = _as_rival(rival, endpoint)
    query = CONTEST_QUERY[endpoint.path](demo_org.ids) if endpoint.path in CONTEST_QUERY else {}
    before = snapshot(engine)
    answer = send(client, endpoint, endpoint.path, headers=headers, params=query)
    assert answer.status_code not in {401, 403}, described(endpoint, endpoint.path, answer)
    assert answer.status_code < 500, described(endpoint, endpoint.path, answer)
    leaked = leaks(demo_org, answer)
    assert not leaked, f"{described(endpoint, endpoint.path, answer)}: shows {leaked}"
    wrote = changes(before, snapshot(engine))
    assert not wrote, f"{endpoint} wrote: {wrote}"
    if endpoint.path in CONTEST_QUERY:
        ghost_query = CONTEST_QUERY[endpoint.path](GHOST)
        ghost = send(client, endpoint, endpoint.path, headers=headers, params=ghost_query)
        assert answered(ghost) == answered(answer), (
            f"tells the demo's contest from one nothing has: "
            f"{described(endpoint, endpoint.path, ghost)}"
        )
