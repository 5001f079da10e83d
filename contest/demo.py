"""The demo: an organizer, three contests and two clients (see the README). Idempotent."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlmodel import Session, select

from contest.compliance import contest_facts
from contest.configuration import freeze_rules
from contest.contests import load_contest
from contest.draw.beacon import announce
from contest.draw.protocol import commitment, new_secret
from contest.eligibility import commit_client_set
from contest.entries import wording_hash
from contest.models import (
    Client,
    ClientVersion,
    ConsentRecord,
    Contest,
    ContestStatus,
    Entry,
    EntryStatus,
    Organizer,
    Person,
    Prize,
)
from contest.officialrules import PUBLICATION
from contest.passwords import hash_password
from contest.people import email_key
from contest.settings import Settings

DEMO_EMAIL = "demo@example.org"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    created: bool


def demo_password(settings: Settings) -> str:
    """Derived from the secret key, so it can be printed again on every start, never stored."""
    key = settings.secret_keys[0].reveal().encode()
    digest = hmac.new(key, b"demo-organizer-password", hashlib.sha256).hexdigest()
    return f"demo-{digest[:12]}"


MARKETING_WORDING = {
    "marketing_label_fr": "Je souhaite recevoir par e-mail les offres de La Boutique Démo.",
    "marketing_label_en": "I would like to receive La Boutique Démo's offers by e-mail.",
}
PARTNERS_WORDING = {
    "partners_label_fr": (
        "J'accepte que mon adresse soit transmise à Atelier Partenaire SAS pour ses offres."
    ),
    "partners_label_en": (
        "I agree that my address be passed on to Atelier Partenaire SAS for its offers."
    ),
}

PRIVACY = (
    "La Boutique Démo SAS traite vos données pour organiser le jeu (exécution du règlement) et, "
    "si vous l'acceptez, pour vous envoyer ses offres (consentement). Destinataires : "
    "l'organisateur et, si vous l'acceptez, Atelier Partenaire SAS. Contact : "
    "privacy@example.org."
)

PRIVACY_EN = (
    "La Boutique Démo SAS processes your data to run the contest (performing its rules) and, "
    "if you agree, to send you its offers (consent). Recipients: the organizer and, if you "
    "agree, Atelier Partenaire SAS. Contact: privacy@example.org."
)


def _contest(organizer_id: int, slug: str, title: str, now: datetime, **fields: object) -> Contest:
    base: dict[str, object] = {
        "organizer_id": organizer_id,
        "slug": slug,
        "title": title,
        "language": "fr",
        "jurisdictions": ["FR"],
        "status": ContestStatus.OPEN,
        "offered_at": now - timedelta(days=7),
        "opens_at": now - timedelta(days=7),
        "closes_at": now + timedelta(days=30),
        "draw_at": now + timedelta(days=31),
        "min_age": 18,
        "form_fields": ["first_name"],
        **MARKETING_WORDING,
        **PARTNERS_WORDING,
        "partners": ["Atelier Partenaire SAS"],
        "excluded_email_domains": ["laboutiquedemo.fr"],
        "draw_method": "Tirage au sort vérifiable (graine engagée à la publication).",
        "draw_method_translation": "A verifiable random draw (seed committed at publication).",
        "winner_notification": "e-mail à l'adresse de participation",
        "winner_notification_translation": "an e-mail to the address used to enter",
        "claim_days": 30,
        "privacy_notice": PRIVACY,
        "privacy_notice_translation": PRIVACY_EN,
        "retention_months": 12,
        "created_at": now,
        "updated_at": now,
    }
    base.update(fields)
    if base["status"] != ContestStatus.DRAFT:  # published: committed to a draw secret
        secret = new_secret()
        base.update(draw_secret=secret, draw_commitment=commitment(secret))
    if base["status"] == ContestStatus.OPEN:  # and to the drand round of its draw date
        announced = announce("drand", "", base["draw_at"])  # type: ignore[arg-type]
        base["draw_beacon"] = None if announced is None else announced.to_json()
    return Contest(**base)  # type: ignore[arg-type]


def _vouchers(contest_id: int, values: list[int]) -> list[Prize]:
    return [
        Prize(
            contest_id=contest_id,
            rank=rank,
            description=f"Bon d'achat de {value} € sur La Boutique Démo",
            description_translation=f"€{value} voucher for La Boutique Démo",
            quantity=1,
            unit_value=Decimal(value),
            currency="EUR",
            kind="voucher",
            voucher_min_order=Decimal(0),
            voucher_validity_days=365,
        )
        for rank, value in enumerate(values, start=1)
    ]


def seed_demo(
    session: Session, settings: Settings, now: datetime, closed_entries: int = 1000
) -> DemoLogin:
    """Creates whatever part of the demo is missing; never changes what exists."""
    password = demo_password(settings)
    organizer = session.exec(select(Organizer).where(Organizer.email == DEMO_EMAIL)).first()
    created = organizer is None
    if organizer is None:
        organizer = Organizer(
            email=DEMO_EMAIL,
            password_hash=hash_password(password),
            legal_name="La Boutique Démo SAS",
            postal_address="12 rue de l'Exemple, 75011 Paris, France",
            contact_email="contact@example.org",
            created_at=now,
        )
        session.add(organizer)
        session.flush()
    assert organizer.id is not None
    oid = organizer.id

    def missing(slug: str) -> bool:
        return session.exec(select(Contest).where(Contest.slug == slug)).first() is None

    if missing("demo"):
        demo = _contest(
            oid,
            "demo",
            "Gagnez 500 € de bons d'achat chez La Boutique Démo",
            now,
            description=(
                "Trois bons d'achat à dépenser sur toute la boutique. Participation en 20 secondes."
            ),
            title_translation="Win €500 of vouchers at La Boutique Démo",
            description_translation=(
                "Three vouchers to spend across the whole shop. Entering takes 20 seconds."
            ),
            referral_bonus=1,
            referral_cap=10,
        )
        session.add(demo)
        session.flush()
        assert demo.id is not None
        session.add_all(_vouchers(demo.id, [300, 150, 50]))

    if missing("demo-clients"):
        offered = now - timedelta(days=7)
        clients = _contest(
            oid,
            "demo-clients",
            "Jeu réservé à nos clients : un bon de 200 €",
            now,
            description="Merci de votre fidélité : un bon d'achat de 200 € à gagner.",
            title_translation="A contest for our clients only: a €200 voucher",
            description_translation="Thank you for your loyalty: a €200 voucher to win.",
            audience="clients",
            offered_at=offered,
            client_cutoff_at=offered,
            partners=[],
            partners_label_fr="",
            partners_label_en="",
        )
        session.add(clients)
        session.flush()
        assert clients.id is not None
        session.add_all(_vouchers(clients.id, [200]))
        for address, since, orders in (
            ("loyal@example.org", now - timedelta(days=365), 14),
            ("recent@example.org", now - timedelta(days=2), 1),
        ):
            key = email_key(address)
            if (
                session.exec(
                    select(Client).where(Client.organizer_id == oid, Client.email_key == key)
                ).first()
                is None
            ):
                segments = ["loyal"] if orders >= 5 else []
                learned = max(since, now - timedelta(days=30))  # the shop's sync of the time
                session.add(
                    Client(
                        organizer_id=oid,
                        email_key=key,
                        client_since=since,
                        orders_count=orders,
                        segments=segments,
                        updated_at=learned,
                    )
                )
                session.add(
                    ClientVersion(
                        organizer_id=oid,
                        email_key=key,
                        client_since=since,
                        orders_count=orders,
                        segments=segments,
                        learned_at=learned,
                    )
                )
        session.flush()
        view = load_contest(session.connection(), "demo-clients")
        assert view is not None
        commit_client_set(session.connection(), clients.id, oid, contest_facts(view), now)

    if missing("demo-closed"):
        closed = _contest(
            oid,
            "demo-closed",
            "Jeu de la rentrée (terminé)",
            now,
            description="Trois bons d'achat pour la rentrée. Merci à tous les participants !",
            title_translation="Back-to-school contest (closed)",
            description_translation="Three vouchers for the new school year. Thank you all!",
            status=ContestStatus.CLOSED,
            offered_at=now - timedelta(days=60),
            opens_at=now - timedelta(days=60),
            closes_at=now - timedelta(days=1),
            # Due: `contest draw demo-closed` runs it, on a machine without network too: the
            # closed demo announces no public value (the draw takes the one given, if any).
            draw_at=now - timedelta(hours=1),
            referral_bonus=1,
            referral_cap=5,
        )
        session.add(closed)
        session.flush()
        assert closed.id is not None
        session.add_all(_vouchers(closed.id, [100, 50, 25]))
        _seed_entries(session, oid, closed.id, now, closed_entries)
    session.flush()
    for row in session.exec(select(Contest).where(Contest.organizer_id == oid)).all():
        freeze_rules(session, row, now, PUBLICATION)  # as published, once (already: no-op)
    session.commit()
    return DemoLogin(DEMO_EMAIL, password, created)


def _seed_entries(
    session: Session, organizer_id: int, contest_id: int, now: datetime, count: int
) -> None:
    wording = "J'ai 18 ans ou plus et j'accepte le règlement."
    for n in range(count):
        address = f"participant{n:04d}@example.net"
        person = Person(
            organizer_id=organizer_id,
            email=address,
            email_key=email_key(address),
            first_name=f"Participant {n}",
            created_at=now - timedelta(days=30),
        )
        session.add(person)
        session.flush()
        assert person.id is not None
        entered = now - timedelta(days=30, minutes=n)
        entry = Entry(
            public_id=secrets.token_urlsafe(12),
            contest_id=contest_id,
            person_id=person.id,
            status=EntryStatus.CONFIRMED,
            chances=1 + (n % 7 == 0) + (n % 21 == 0) * 2,
            rules_version="demo",
            source="referral" if n % 7 == 0 else "direct",
            language="fr",
            created_at=entered,
            confirmed_at=entered + timedelta(minutes=3),
            confirmation_sent_at=entered,
        )
        session.add(entry)
        session.flush()
        session.add(
            ConsentRecord(
                organizer_id=organizer_id,
                person_id=person.id,
                entry_id=entry.id,
                purpose="rules",
                event="granted",
                wording=wording,
                wording_hash=wording_hash(wording),
                language="fr",
                created_at=entered,
            )
        )
