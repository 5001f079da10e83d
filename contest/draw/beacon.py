"""The public value mixed into a draw, announced before it exists (ALL-DRAW-COMMIT-1).

The seed of a draw mixes the organizer's committed secret, the frozen pool's digest and a
public value (``protocol.draw_seed``). Were that value typed in at draw time, whoever runs the
draw could try values until the person they want wins. So the value is *announced at
publication*, in the rules, by a source that nobody controls and that does not yet know it:

- ``drand``: a round of the League of Entropy's *quicknet* beacon. Rounds come every 3 seconds
  from a known genesis, so the round for the draw date is computed in advance; its value is
  the SHA-256 of the round's BLS signature, which anyone can check offline against the chain's
  public key (the ``drand-verify`` package). The platform fetches the round from the drand
  relays (``CONTEST_DRAND_URLS``), or the operator pastes its signature (offline installs:
  the signature is checked all the same).
- ``lottery``: the result of a named lottery draw held after the close (an offline install's
  choice); the rules name it, the draw waits for the draw date, the value is typed in.
- ``bailiff``: a value held by a named bailiff (commissaire de justice), revealed at the draw.

The announcement is stored with the contest at publication (``contest.draw_beacon``) and
written into the rules, whose version the record names; the record carries it with the
evidence (``DrawRecord.randomness``), so that ``contest verify-draw`` checks the round is the
one for the announced time and, for drand, the signature, with no network.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from contest.draw import protocol as core
from contest.outbound import OutboundRefused
from rules import Refusal

log = logging.getLogger(__name__)

SOURCES = ("drand", "lottery", "bailiff")
_SIGNATURE = re.compile(r"[0-9a-f]{96}")  # a BLS12-381 G1 point, compressed: 48 bytes


@dataclass(frozen=True)
class Chain:
    """A drand chain: what a round number means in time, and the key that signs it."""

    name: str
    hash: str
    public_key: str
    genesis: int  # Unix seconds of round 1
    period: int  # seconds between rounds
    scheme: str

    def round_at(self, moment: datetime) -> int:
        """The first round emitted at or after ``moment``: unknown to anyone before then."""
        elapsed = moment.timestamp() - self.genesis
        return max(1, math.ceil(elapsed / self.period) + 1)

    def round_time(self, round_number: int) -> datetime:
        """When round ``round_number`` is emitted."""
        return datetime.fromtimestamp(self.genesis + (round_number - 1) * self.period, UTC)


# The League of Entropy's quicknet chain (https://api.drand.sh/<hash>/info).
QUICKNET = Chain(
    name="quicknet",
    hash="52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971",
    public_key=(
        "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c"
        "8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb"
        "5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a"
    ),
    genesis=1692803367,
    period=3,
    scheme="bls-unchained-g1-rfc9380",
)
CHAINS = {QUICKNET.hash: QUICKNET}


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class Announcement:
    """What will be mixed into the draw, and from when it is known (``at``)."""

    source: str  # one of SOURCES
    at: datetime
    name: str = ""  # the lottery draw, or the bailiff
    round: int | None = None  # drand
    chain: str = ""  # drand: the chain's hash

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"source": self.source, "at": _rfc3339(self.at)}
        if self.source == "drand":
            data |= {"chain": self.chain, "round": self.round}
        else:
            data["name"] = self.name
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Announcement:
        """Raises ValueError for anything that is not an announcement."""
        source = data.get("source")
        if source not in SOURCES or not isinstance(data.get("at"), str):
            raise ValueError("not a randomness announcement")
        at = _moment(data["at"])
        if source == "drand":
            round_number, chain = data.get("round"), data.get("chain")
            if not isinstance(round_number, int) or chain not in CHAINS:
                raise ValueError("a drand announcement names a known chain and a round")
            return cls("drand", at, round=round_number, chain=chain)
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"a {source} announcement names its {source}")
        return cls(source, at, name=name)

    @classmethod
    def from_json(cls, text: str) -> Announcement:
        return cls.from_dict(json.loads(text))


def announce(source: str, name: str, draw_at: datetime | None) -> Announcement | None:
    """The announcement for a contest drawn at ``draw_at``; None while it cannot be made (no
    draw date, an unknown source, a lottery or bailiff not named)."""
    if draw_at is None or source not in SOURCES:
        return None
    if source == "drand":
        chain = QUICKNET
        round_number = chain.round_at(draw_at)
        return Announcement(
            "drand", chain.round_time(round_number), round=round_number, chain=chain.hash
        )
    if not name.strip():
        return None
    return Announcement(source, draw_at.astimezone(UTC).replace(microsecond=0), name=name.strip())


# --- At the draw ------------------------------------------------------------------------------


class RandomnessRefused(Refusal):
    """The announced public value cannot be used (yet); ``code`` says why."""


REFUSALS = {
    "too_early": (
        "La valeur publique annoncée n'existe pas encore : elle sera connue le {at} (UTC). "
        "Le tirage ne peut pas avoir lieu avant.",
        "The announced public value does not exist yet: it becomes known on {at} (UTC). The "
        "draw cannot run before then.",
    ),
    "missing": (
        "Saisissez la valeur annoncée dans le règlement ({what}).",
        "Enter the value the rules announce ({what}).",
    ),
    "unreachable": (
        "Le tour drand {round} n'a pas pu être obtenu auprès des relais drand. Collez sa "
        "signature (https://api.drand.sh/{chain}/public/{round}).",
        "drand round {round} could not be fetched from the drand relays. Paste its signature "
        "(https://api.drand.sh/{chain}/public/{round}).",
    ),
    "bad_signature": (
        "Cette signature n'est pas celle du tour drand {round} : la valeur annoncée ne peut "
        "pas être remplacée.",
        "This signature is not drand round {round}'s: the announced value cannot be replaced.",
    ),
}


def _refused(code: str, **params: object) -> RandomnessRefused:
    message_fr, message_en = REFUSALS[code]
    return RandomnessRefused(code, message_fr.format(**params), message_en.format(**params))


@dataclass(frozen=True)
class Revealed:
    """The public value to mix into the seed, and what the record keeps to prove it."""

    value: str
    source: str  # one sentence, for the record's ``public_value_source``
    evidence: dict[str, Any]  # the record's ``randomness``


def drand_randomness(chain: Chain, round_number: int, signature: str) -> str | None:
    """The round's randomness (SHA-256 of its signature) if ``signature`` is the chain's
    signature of that round, checked offline against its public key; None otherwise."""
    import drand_verify  # a compiled extension: loaded only when a drand draw is checked

    signature = signature.strip().lower()
    if not _SIGNATURE.fullmatch(signature) or round_number < 1:
        return None  # the extension panics on malformed hex rather than raising
    try:
        randomness: str = drand_verify.verify_bls_unchained_g1_rfc9380(
            round_number, signature, chain.public_key
        )
    except ValueError:
        return None
    assert randomness == hashlib.sha256(bytes.fromhex(signature)).hexdigest()
    return randomness


def fetch_signature(
    chain: Chain, round_number: int, relays: tuple[str, ...], client: Callable[[], httpx.Client]
) -> str | None:
    """Round ``round_number``'s signature from the first relay that answers, or None. What a
    relay says is never trusted: the caller verifies it."""
    for relay in relays:
        url = f"{relay.rstrip('/')}/{chain.hash}/public/{round_number}"
        try:
            with client() as http:
                answer = http.get(url, timeout=5.0)
            if answer.status_code == 200:
                signature = answer.json().get("signature")
                if isinstance(signature, str):
                    return signature
        except (httpx.HTTPError, OutboundRefused, ValueError, AttributeError) as exc:
            log.warning("drand relay %s: %s", relay, type(exc).__name__)
    return None


def reveal(
    announcement: Announcement,
    given: str,
    now: datetime,
    *,
    relays: tuple[str, ...] = (),
    client: Callable[[], httpx.Client] = httpx.Client,
) -> Revealed:
    """The announced value at ``now``: refuses (RandomnessRefused) before it exists, and a
    value that is not the announced one (a drand signature that does not verify)."""
    if now < announcement.at:
        raise _refused("too_early", at=_rfc3339(announcement.at).replace("T", " ")[:-1])
    given = given.strip()
    evidence = announcement.to_dict()
    if announcement.source != "drand":
        if not given:
            raise _refused("missing", what=announcement.name)
        return Revealed(given, f"{announcement.source}: {announcement.name}", evidence)
    chain = CHAINS[announcement.chain]
    assert announcement.round is not None
    signature = given or fetch_signature(chain, announcement.round, relays, client)
    if signature is None:
        raise _refused("unreachable", round=announcement.round, chain=chain.hash)
    randomness = drand_randomness(chain, announcement.round, signature)
    if randomness is None:
        raise _refused("bad_signature", round=announcement.round)
    evidence["signature"] = signature.strip().lower()
    source = f"drand {chain.name} round {announcement.round} ({_rfc3339(announcement.at)})"
    return Revealed(randomness, source, evidence)


# --- Checking a record -------------------------------------------------------------------------


def check_record(record: core.DrawRecord) -> tuple[core.Problem, ...]:
    """What is wrong with the record's public value against its announcement, offline: the
    value must come from the announced source, known only after the close and no later than
    the draw; a drand round must be the one for its announced time, its signature the chain's,
    the value its randomness. A record without an announcement has nothing to check here."""
    if record.randomness is None:
        return ()
    try:
        announcement = Announcement.from_dict(record.randomness)
        closed, drawn = _moment(record.closed_at), _moment(record.drawn_at)
    except (ValueError, TypeError) as exc:
        return (core.Problem("randomness", f"the announcement cannot be read: {exc}"),)
    problems = []
    if announcement.at < closed:
        problems.append(
            core.Problem("randomness", "the announced value was known before the contest closed")
        )
    if drawn < announcement.at:
        problems.append(
            core.Problem("randomness", "the draw ran before the announced value existed")
        )
    if announcement.source == "drand":
        chain = CHAINS[announcement.chain]
        assert announcement.round is not None
        if chain.round_time(announcement.round) != announcement.at:
            problems.append(
                core.Problem(
                    "randomness",
                    f"round {announcement.round} is not the drand round of "
                    f"{_rfc3339(announcement.at)}",
                )
            )
        signature = record.randomness.get("signature")
        randomness = (
            drand_randomness(chain, announcement.round, signature)
            if isinstance(signature, str)
            else None
        )
        if randomness is None:
            problems.append(
                core.Problem(
                    "randomness",
                    f"the signature is not drand {chain.name} round {announcement.round}'s",
                )
            )
        elif randomness != record.public_value:
            problems.append(
                core.Problem("public_value", "the public value is not the round's randomness")
            )
    elif not record.public_value.strip():
        problems.append(core.Problem("public_value", "no public value from the announced source"))
    return tuple(problems)
