"""The organizer workspace: sign-in, isolation, live compliance, publishing, clients."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from contest.demo import demo_password
from contest.mail import Sender
from contest.models import Contest, Organizer
from contest.passwords import hash_password
from contest.settings import Settings
from tests.helpers import enter, read_eml, shown, sign_in


def csrf(client: TestClient, path: str = "/admin/") -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)  # type: ignore[union-attr]


@pytest.fixture
def organizer(client: TestClient, settings: Settings) -> TestClient:
    answer = sign_in(client, "demo@example.org", demo_password(settings))
    assert answer.status_code == 303, shown(answer)  # type: ignore[attr-defined]
    return client


@pytest.fixture
def other_contest(engine: Engine) -> int:
    with Session(engine) as session:
        other = Organizer(email="rival@example.com", password_hash=hash_password("rival password!"))
        session.add(other)
        session.flush()
        assert other.id is not None
        contest = Contest(organizer_id=other.id, slug="rival", title="Rival contest")
        session.add(contest)
        session.commit()
        assert contest.id is not None
        return contest.id


VALID = {
    "title": "Summer vouchers",
    "slug": "summer",
    "language": "fr",
    "jurisdictions": "FR",
    "timezone": "Europe/Paris",
    "opens_at": "2026-01-01T09:00",
    "closes_at": "2099-12-31T18:00",
    "draw_at": "2100-01-02T10:00",
    "audience": "everyone",
    "min_age": "18",
    "form_fields": "first_name",
    "marketing_label_fr": "Je souhaite recevoir vos offres par e-mail.",
    "marketing_label_en": "I would like your offers by e-mail.",
    "prize-0-description": "Bon d'achat de 100 €",
    "prize-0-quantity": "1",
    "prize-0-unit_value": "100",
    "prize-0-currency": "EUR",
    "prize-0-kind": "voucher",
    "prize-0-voucher_min_order": "0",
    "prize-0-voucher_validity_days": "365",
    "draw_method": "Tirage au sort vérifiable.",
    "winner_notification": "par e-mail",
    "claim_days": "30",
    "privacy_notice": "La Boutique Démo traite vos données pour le jeu. Contact : dpo@example.org.",
    "retention_months": "12",
    "referral_bonus": "0",
    "brand_color": "#1f4fd1",
}


def test_pages_need_a_signed_in_organizer(client: TestClient) -> None:
    answer = client.get("/admin/", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/admin/login")
    assert client.post("/admin/contests/check", data={}).status_code == 401
    login = shown(client.get("/admin/login"))
    assert "Pas encore de compte ?" in login and "contest create-organizer" in login


def test_wrong_password_is_refused_without_saying_which_part(client: TestClient) -> None:
    answer = sign_in(client, "demo@example.org", "not the password")
    assert answer.status_code == 401  # type: ignore[attr-defined]
    assert "Adresse e-mail ou mot de passe incorrect" in shown(answer)
    unknown = sign_in(client, "nobody@example.org", "not the password")
    assert shown(unknown).count("Adresse e-mail ou mot de passe incorrect") == 1


def test_sign_in_is_throttled_per_address(client: TestClient, settings: Settings) -> None:
    for _ in range(5):
        assert sign_in(client, "demo@example.org", "wrong").status_code == 401  # type: ignore[attr-defined]
    throttled = sign_in(client, "demo@example.org", demo_password(settings))
    assert throttled.status_code == 429  # type: ignore[attr-defined]
    assert "Trop de tentatives" in shown(throttled)


def test_session_cookie_is_httponly_and_lax(client: TestClient, settings: Settings) -> None:
    answer = sign_in(client, "demo@example.org", demo_password(settings))
    cookie = answer.headers["set-cookie"]  # type: ignore[attr-defined]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_state_changing_forms_need_the_csrf_token(organizer: TestClient) -> None:
    answer = organizer.post("/admin/contests/new", data=VALID)
    assert answer.status_code == 403


def test_another_organizers_contest_is_a_404(organizer: TestClient, other_contest: int) -> None:
    for path in ("", "/edit", "/preview", "/entries.csv"):
        assert organizer.get(f"/admin/contests/{other_contest}{path}").status_code == 404
    token = csrf(organizer)
    answer = organizer.post(f"/admin/contests/{other_contest}/publish", data={"csrf": token})
    assert answer.status_code == 404


def test_purchase_required_is_refused_then_fixed_published_and_entered(
    organizer: TestClient, engine: Engine
) -> None:
    token = csrf(organizer)
    buying = {**VALID, "requires_purchase": "on", "csrf": token}
    panel = organizer.post("/admin/contests/check", data=buying, headers={"HX-Request": "true"})
    assert panel.status_code == 200
    assert 'data-rule="FR-NOPURCHASE-1"' in panel.text
    assert "ne peut exiger aucun achat" in shown(panel)

    created = organizer.post("/admin/contests/new", data=buying, follow_redirects=False)
    assert created.status_code == 303
    contest_path = created.headers["location"]
    dashboard = organizer.get(contest_path)
    assert 'data-rule="FR-NOPURCHASE-1"' in dashboard.text
    assert re.search(r"<button[^>]*disabled[^>]*>\s*Publier", dashboard.text)
    refused = organizer.post(contest_path + "/publish", data={"csrf": token})
    assert refused.status_code == 409
    assert "FR-NOPURCHASE-1" in refused.text
    assert "/c/summer" and organizer.get("/c/summer").status_code == 404, "drafts are not public"

    fixed = organizer.post(
        contest_path + "/edit", data={**VALID, "csrf": token}, follow_redirects=False
    )
    assert fixed.status_code == 303
    published = organizer.post(
        contest_path + "/publish", data={"csrf": token}, follow_redirects=False
    )
    assert published.status_code == 303
    with engine.connect() as connection:
        status, versions = connection.execute(
            sa.text(
                "SELECT status, (SELECT count(*) FROM rulesversion WHERE contest_id = contest.id) "
                "FROM contest WHERE slug = 'summer'"
            )
        ).one()
    assert status == "open" and versions == 1
    assert enter(organizer, "summer", email="fan@example.org").status_code == 303


def test_published_contest_refuses_changes_that_hurt_participants(
    organizer: TestClient,
) -> None:
    token = csrf(organizer)
    path = organizer.post(
        "/admin/contests/new", data={**VALID, "csrf": token}, follow_redirects=False
    ).headers["location"]
    organizer.post(path + "/publish", data={"csrf": token})
    shorter = {**VALID, "closes_at": "2098-01-01T18:00", "reason": "shorter", "csrf": token}
    answer = organizer.post(path + "/edit", data=shorter)
    assert answer.status_code == 422
    assert 'data-rule="ALL-RULES-LOCK-1"' in answer.text
    no_reason = organizer.post(path + "/edit", data={**VALID, "description": "More", "csrf": token})
    assert no_reason.status_code == 422 and "raison" in shown(no_reason)


def test_closing_before_the_closing_date_is_refused(organizer: TestClient) -> None:
    token = csrf(organizer)
    path = organizer.post(
        "/admin/contests/new", data={**VALID, "csrf": token}, follow_redirects=False
    ).headers["location"]
    organizer.post(path + "/publish", data={"csrf": token})
    assert organizer.post(path + "/close", data={"csrf": token}).status_code == 409


def test_missing_fields_are_named_in_the_panel(organizer: TestClient) -> None:
    token = csrf(organizer)
    sparse = {"title": "T", "slug": "sparse", "jurisdictions": "FR", "csrf": token}
    panel = organizer.post("/admin/contests/check", data=sparse).text
    for rule in ("FR-RULES-1", "EU-PRIZE-AWARD-1"):
        assert f'data-rule="{rule}"' in panel


def test_malformed_values_are_shown_next_to_their_fields(organizer: TestClient) -> None:
    token = csrf(organizer)
    answer = organizer.post(
        "/admin/contests/new", data={**VALID, "slug": "Not A Slug!", "min_age": "x", "csrf": token}
    )
    assert answer.status_code == 422
    assert 'id="e-slug"' in answer.text and 'id="e-min_age"' in answer.text


def test_password_reset_by_emailed_link_signs_out_old_sessions(
    client: TestClient, sender: Sender, settings: Settings
) -> None:
    page = client.post("/admin/password-reset", data={"email": "demo@example.org"})
    assert "Si un compte utilise cette adresse" in shown(page)
    assert sender.run_once() == 1
    [mail] = read_eml(settings.mail_dir)
    body = mail.get_payload()[0].get_payload(decode=True).decode()  # type: ignore[union-attr,index]
    link = re.search(r"http://testserver(/admin/password-reset/\S+)", body).group(1)  # type: ignore[union-attr]
    assert client.get(link).status_code == 200
    short = client.post(link, data={"password": "short", "password2": "short"})
    assert short.status_code == 422
    done = client.post(
        link,
        data={"password": "a brand new password", "password2": "a brand new password"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert (
        client.post(
            link, data={"password": "another new password", "password2": "another new password"}
        ).status_code
        == 400
    ), "the link works once"
    assert sign_in(client, "demo@example.org", "a brand new password").status_code == 303  # type: ignore[attr-defined]


def test_client_csv_import_reports_rows_and_exports(organizer: TestClient) -> None:
    token = csrf(organizer, "/admin/clients")
    content = (
        "email,client_since,orders_count,segments\n"
        "new@example.org,2024-01-15,3,loyal\n"
        "broken,2024-01-15,1,\n"
    )
    answer = organizer.post(
        "/admin/clients",
        data={"csrf": token},
        files={"file": ("clients.csv", content.encode(), "text/csv")},
    )
    assert answer.status_code == 200
    report = shown(answer)
    assert "3 clients" in report or "3 clients." in report
    assert re.search(r"<td class=\"num\">3</td>", answer.text), "line 3 is reported"
    exported = organizer.get("/admin/clients.csv").text
    assert "new@example.org" in exported and "loyal@example.org" in exported


def test_preview_shows_a_draft_as_participants_will_see_it(organizer: TestClient) -> None:
    token = csrf(organizer)
    path = organizer.post(
        "/admin/contests/new", data={**VALID, "csrf": token}, follow_redirects=False
    ).headers["location"]
    preview = organizer.get(path + "/preview")
    assert preview.status_code == 200
    assert "Summer vouchers" in preview.text and "Bon d'achat de 100 €" in shown(preview)


def test_dashboard_shows_entries_chart_and_funnel(organizer: TestClient, engine: Engine) -> None:
    with engine.connect() as connection:
        contest_id = connection.execute(
            sa.text("SELECT id FROM contest WHERE slug = 'demo-closed'")
        ).scalar_one()
    page = organizer.get(f"/admin/contests/{contest_id}")
    assert page.status_code == 200
    assert "<svg" in page.text and 'role="img"' in page.text
    csv = organizer.get(f"/admin/contests/{contest_id}/entries.csv")
    assert csv.status_code == 200 and csv.text.count("\n") >= 21
    assert "@" not in csv.text, "no e-mail addresses in the entries export"


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_images_are_checked_by_content_and_shown_on_the_page(organizer: TestClient) -> None:
    token = csrf(organizer)
    fake = organizer.post(
        "/admin/contests/new",
        data={**VALID, "csrf": token},
        files={"image": ("photo.png", b"<script>alert(1)</script>", "image/png")},
    )
    assert fake.status_code == 422 and "PNG, JPEG ou WebP" in shown(fake)
    created = organizer.post(
        "/admin/contests/new",
        data={**VALID, "csrf": token},
        files={"image": ("photo.png", PNG, "image/png"), "logo": ("logo.png", PNG, "image/png")},
        follow_redirects=False,
    )
    assert created.status_code == 303
    preview = organizer.get(created.headers["location"] + "/preview").text
    image = re.search(r'src="(/media/[0-9a-f]{32}\.png)"', preview).group(1)  # type: ignore[union-attr]
    served = organizer.get(image)
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert served.content == PNG
    assert organizer.get("/media/../../secret.key").status_code == 404


def test_colours_too_light_for_white_text_are_refused(organizer: TestClient) -> None:
    answer = organizer.post(
        "/admin/contests/new", data={**VALID, "brand_color": "#ffee88", "csrf": csrf(organizer)}
    )
    assert answer.status_code == 422
    assert "Couleur trop claire" in shown(answer)


@pytest.mark.parametrize("path", ["/c/demo", "/c/demo?lang=en", "/embed/demo"])
def test_the_organizers_colours_are_inline_and_allowed_by_their_hash_alone(
    client: TestClient, engine: Engine, path: str
) -> None:
    """Inline, the colours hold the first paint back by no request of their own; the policy
    allows that one style by its hash, and still no other inline style."""
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE contest SET brand_color = '#0b6e4f' WHERE slug = 'demo'")
        )
    client.app.state.contest.contests.forget("demo")  # type: ignore[attr-defined]
    page = client.get(path)
    assert "theme.css" not in page.text
    [css] = re.findall(r"<style>(.*?)</style>", page.text, flags=re.S)
    assert "--brand: #0b6e4f" in css
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    policy = page.headers["content-security-policy"]
    assert f"style-src 'self' 'sha256-{digest}';" in policy
    assert "unsafe-inline" not in policy and policy.count("sha256-") == 1
    assert client.get("/c/demo/theme.css").status_code == 404, "no stylesheet of its own"


@pytest.mark.parametrize(
    ("referer", "back"),
    [
        ("http://testserver/admin/clients?page=2", "/admin/clients?page=2"),
        ("http://testserver.evil.example/admin/", "/admin/"),
        ("https://evil.example/phish", "/admin/"),
        ("//evil.example/phish", "/admin/"),
    ],
)
def test_switching_language_goes_back_only_to_a_page_of_this_site(
    client: TestClient, referer: str, back: str
) -> None:
    answer = client.get("/admin/lang/en", headers={"Referer": referer}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == back


def test_the_dashboard_says_once_what_the_last_button_did(organizer: TestClient) -> None:
    token = csrf(organizer)
    created = organizer.post("/admin/contests/new", data={**VALID, "csrf": token})
    assert created.status_code == 200 and '<div role="status"' in created.text
    assert "Enregistré." in shown(created)
    again = organizer.get(str(created.url))
    assert "Enregistré." not in shown(again), "said once, not at each visit"
    published = organizer.post(str(created.url) + "/publish", data={"csrf": token})
    assert "Publié : le jeu prend les participations dès sa date d'ouverture." in shown(published)
