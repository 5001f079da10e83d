"""The organizer's organization: the legal identity the rules, the e-mails and the privacy
notice print, and its defaults. No HTTP here.

Its fields are declared once, as a contest's are (:class:`OrganizationSettings`); the workspace
page, the API and the command line read and write them through the same declaration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from contest.contests.fields import DEFAULT_TIMEZONE, LANGUAGES, ContestSettings
from contest.contests.setting import Kind, setting, settings_of
from contest.i18n import N_
from contest.models import AuditEvent, Organizer

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
EMAIL_PROBLEM = (
    "Une adresse e-mail, par ex. dpo@example.org.",
    "An e-mail address, e.g. dpo@example.org.",
)


@dataclass(frozen=True, kw_only=True)
class OrganizationSettings:
    """Who runs the contests: printed in the official rules (FR-RULES-1), every e-mail and the
    privacy notice."""

    legal_name: str = setting("", Kind.TEXT, N_("Legal name"), max_length=200)
    legal_form: str = setting(
        "", Kind.TEXT, N_("Legal form"), hint=N_("For example SAS, SARL, GmbH."), max_length=100
    )
    postal_address: str = setting("", Kind.TEXT, N_("Registered address"), max_length=500, rows=3)
    company_number: str = setting(
        "",
        Kind.TEXT,
        N_("Company number"),
        hint=N_("SIREN or RCS in France, HRB in Germany."),
        max_length=50,
    )
    privacy_contact: str = setting(
        "",
        Kind.TEXT,
        N_("Data-protection contact (e-mail)"),
        hint=N_("Where participants exercise their rights; shown in the privacy notice."),
        max_length=254,
        pattern=EMAIL,
        pattern_problem=EMAIL_PROBLEM,
    )
    contact_email: str = setting(
        "",
        Kind.TEXT,
        N_("Public contact (e-mail)"),
        max_length=254,
        pattern=EMAIL,
        pattern_problem=EMAIL_PROBLEM,
    )
    sender_name: str = setting(
        "",
        Kind.TEXT,
        N_("Sender name of the e-mails"),
        hint=N_("Shown as the e-mails' sender, e.g. La Boutique."),
        max_length=100,
    )
    reply_to: str = setting(
        "",
        Kind.TEXT,
        N_("Reply-to address of the e-mails"),
        max_length=254,
        pattern=EMAIL,
        pattern_problem=EMAIL_PROBLEM,
    )
    default_timezone: str = setting(
        DEFAULT_TIMEZONE, Kind.ZONE, N_("Default time zone of new contests"), max_length=64
    )
    default_language: str = setting(
        "fr", Kind.CHOICE, N_("Default language of new contests"), choices=LANGUAGES
    )
    # Uploaded (contest.media): set by the upload, not typed into the form or the API.
    logo_path: str | None = setting(
        None, Kind.TEXT, N_("Logo"), form=False, api=False, fact=None, blank=None
    )


ORGANIZATION_SETTINGS = settings_of(OrganizationSettings)
# What the rules need before a contest may be published (FR-RULES-1, EU-INFO-1).
REQUIRED_FOR_PUBLISHING = ("legal_name", "postal_address", "contact_email")


def organization_of(organizer: Organizer) -> OrganizationSettings:
    return OrganizationSettings(
        **{name: getattr(organizer, name) for name in ORGANIZATION_SETTINGS}
    )


def organization_for(session: Session, organizer_id: int) -> OrganizationSettings:
    """The organization of the organizer ``organizer_id``; raises LookupError when gone."""
    organizer = session.get(Organizer, organizer_id)
    if organizer is None:
        raise LookupError(organizer_id)
    return organization_of(organizer)


def new_contest_settings(session: Session, organizer_id: int) -> ContestSettings:
    """A new contest's configuration: the platform's defaults, in the organization's time zone
    and language."""
    organization = organization_for(session, organizer_id)
    return ContestSettings(
        timezone=organization.default_timezone, language=organization.default_language
    )


def missing_for_publishing(organization: OrganizationSettings) -> tuple[str, ...]:
    """The identity fields the official rules need and the organization has not given."""
    return tuple(name for name in REQUIRED_FOR_PUBLISHING if not getattr(organization, name))


def update_organization(
    session: Session, organizer_id: int, organization: OrganizationSettings, now: datetime
) -> Organizer:
    """Saves the organization's settings, audited (which fields changed, not their values).

    Published contests keep the identity printed in their frozen rules versions; new versions
    and every page print the new one.
    """
    organizer = session.get(Organizer, organizer_id)
    if organizer is None:
        raise LookupError(organizer_id)
    changed = sorted(
        name
        for name in ORGANIZATION_SETTINGS
        if getattr(organizer, name) != getattr(organization, name)
    )
    for name in ORGANIZATION_SETTINGS:
        setattr(organizer, name, getattr(organization, name))
    session.add(organizer)
    session.add(
        AuditEvent(
            organizer_id=organizer_id,
            contest_id=None,
            action="organization.updated",
            detail={"fields": changed},
            created_at=now,
        )
    )
    session.commit()
    session.refresh(organizer)
    return organizer


def create_organizer(
    session: Session,
    email: str,
    password_hash: str,
    organization: OrganizationSettings,
    now: datetime,
) -> Organizer | None:
    """A new organizer account with its organization's settings; None when the address
    already has one."""
    if session.exec(select(Organizer).where(Organizer.email == email)).first() is not None:
        return None
    organizer = Organizer(
        email=email,
        password_hash=password_hash,
        created_at=now,
        **{name: getattr(organization, name) for name in ORGANIZATION_SETTINGS},
    )
    session.add(organizer)
    session.commit()
    session.refresh(organizer)
    return organizer
