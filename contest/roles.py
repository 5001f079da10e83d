"""Who may do what in an organizer's workspace and API.

Three roles, each allowing what the one below allows: a viewer reads the dashboards; an editor
also runs contests (create, change, publish, draw), clients, referrals and lead exports; an
owner also manages the organization, its members, its shop and CRM connections and its API
tokens. The organizer's own account is an owner.
"""

from __future__ import annotations

from enum import StrEnum

from contest.i18n import N_
from rules import Refusal


class Role(StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"
    OWNER = "owner"

    def allows(self, needed: Role) -> bool:
        """True when this role may do what ``needed`` may."""
        return RANK[self] >= RANK[needed]


RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.OWNER: 2}
ROLES = (Role.OWNER, Role.EDITOR, Role.VIEWER)
LABELS = {
    Role.OWNER: N_("Owner"),
    Role.EDITOR: N_("Editor"),
    Role.VIEWER: N_("Viewer"),
}
DESCRIPTIONS = {
    Role.OWNER: N_("Everything, including members, connections and API tokens."),
    Role.EDITOR: N_("Contests, draws, clients, referrals and lead exports."),
    Role.VIEWER: N_("Dashboards and results, read only."),
}


def role_of(text: str) -> Role:
    """The role named ``text``; ValueError for any other text."""
    return Role(text)


def not_allowed(needed: Role) -> Refusal:
    """The refusal for someone whose role is below ``needed``."""
    return Refusal(
        "forbidden",
        f"Votre rôle ne permet pas cette action (rôle requis : {_FR[needed]}).",
        f"Your role does not allow this (needed: {needed.value}).",
    )


_FR = {Role.VIEWER: "lecteur", Role.EDITOR: "éditeur", Role.OWNER: "propriétaire"}
