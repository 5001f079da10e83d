"""Verifiable weighted draws: commit before, reveal after, and anyone can re-run them.

This module is the reference implementation of the algorithm specified byte for byte in
docs/draw.md (``A-ExpJ/HMAC-SHA256/v1``). It only uses the standard library, with no database
and no HTTP. The integration feeds it plain data and stores what it returns:

1. At publication: ``secret = new_secret()`` is kept private; ``commitment(secret)`` is shown.
2. At close: the eligible, confirmed entries go through ``PoolDigest`` sorted by ticket; its
   digest, count, total weight and Merkle root are published; each entrant sees ``receipt``.
3. At the draw: ``draw(entries, draw_seed(secret, digest, public_value), winners, alternates)``
   returns winners and alternates, and the integration stores a signed ``DrawRecord``.
4. Anyone can check it: ``verify_record(record, entries)`` recomputes everything.

One prize per person is the integration's job: it puts one entry per person in the pool.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import json
import math
import operator
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from itertools import islice
from typing import Any, TypeVar

FORMAT = "contest-draw-record/1"
ALGORITHM = "A-ExpJ/HMAC-SHA256/v1"
POOL_FORMAT = "contest-pool-tsv/1"
COMMIT_TAG = "contest-draw/commitment/v1"
SEED_TAG = "contest-draw/seed/v1"
MAX_WEIGHT = 10**9
MAX_TOTAL_WEIGHT = 2**53  # keeps every integer comparison exact in IEEE-754 doubles
KEY_TOLERANCE = 1e-9  # keys are compared to this relative tolerance, tickets exactly

_HEX64 = re.compile(r"[0-9a-f]{64}")
_TICKET = re.compile(r"[!-~]{1,128}")  # printable ASCII, no space, tab or newline
_EMPTY_ROOT = hashlib.sha256(b"").digest()


# --- Secret, commitment and seed -----------------------------------------------------------


def _netstring(value: str) -> bytes:
    data = value.encode("utf-8")
    return b"%d:%s," % (len(data), data)


def _check_hex64(value: str, what: str) -> None:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise ValueError(f"the {what} must be 64 lowercase hex digits")


def new_secret() -> str:
    """Return a new organizer secret: 32 bytes from ``secrets``, as 64 lowercase hex digits."""
    return secrets.token_hex(32)


def commitment(secret: str) -> str:
    """Return the SHA-256 commitment published before the draw.

    Raises ValueError if the secret is not 64 lowercase hex digits.
    """
    _check_hex64(secret, "secret")
    return hashlib.sha256(_netstring(COMMIT_TAG) + _netstring(secret)).hexdigest()


def draw_seed(secret: str, pool_digest: str, public_value: str = "") -> bytes:
    """Return the 32-byte seed derived from the secret, the pool digest and the public value.

    Raises ValueError if the secret or the digest is not 64 lowercase hex digits.
    """
    _check_hex64(secret, "secret")
    _check_hex64(pool_digest, "pool digest")
    parts = (SEED_TAG, secret, pool_digest, public_value)
    return hashlib.sha256(b"".join(_netstring(part) for part in parts)).digest()


# --- The pool: serialisation, digest, Merkle tree, receipts ---------------------------------


class PoolError(ValueError):
    """The pool is not canonical, so it cannot be digested or drawn."""


class InvalidEntry(PoolError):
    """A ticket is not 1-128 printable ASCII characters, or a weight is out of range."""


class EntryOutOfOrder(PoolError):
    """Tickets must be strictly increasing (sorted by bytes, no duplicates)."""


@dataclass(frozen=True, slots=True)
class PoolEntry:
    """An eligible, confirmed entry: its pseudonymous ticket and its chances (weight >= 1)."""

    ticket: str
    weight: int = 1


def pool_line(entry: PoolEntry) -> bytes:
    """Return the canonical line ``ticket TAB weight LF`` (ASCII).

    Raises InvalidEntry for a ticket that is not 1-128 printable non-space ASCII characters, or
    for a weight outside 1..MAX_WEIGHT.
    """
    ticket, weight = entry.ticket, entry.weight
    if not isinstance(ticket, str) or not _TICKET.fullmatch(ticket):
        raise InvalidEntry(f"ticket {ticket!r} is not 1-128 printable ASCII characters")
    if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= MAX_WEIGHT:
        raise InvalidEntry(f"ticket {ticket}: weight {weight!r} is not in 1..{MAX_WEIGHT}")
    return b"%s\t%d\n" % (ticket.encode("ascii"), weight)


def read_pool(lines: Iterable[bytes]) -> Iterator[PoolEntry]:
    """Parse a published pool file (opened in binary mode) back into entries.

    Raises InvalidEntry for any line that is not exactly canonical. Order is checked by the
    consumer (``PoolDigest`` or ``draw``).
    """
    for number, line in enumerate(lines, 1):
        ticket, _, weight = line.partition(b"\t")
        try:
            entry = PoolEntry(ticket.decode("ascii"), int(weight))
            canonical = pool_line(entry) == line
        except (UnicodeDecodeError, ValueError):
            canonical = False
        if not canonical:
            raise InvalidEntry(f"pool line {number} is not canonical 'ticket<TAB>weight<LF>'")
        yield entry


def _leaf_hash(line: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + line).digest()


def _node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


# The tree is hashed in perfect subtrees of this many leaves (a power of two), level by level.
SUBTREE_LEAVES = 1 << 12
assert SUBTREE_LEAVES & (SUBTREE_LEAVES - 1) == 0, "subtrees of a power of two leaves only"
_CANONICAL_LINES = re.compile("(?:\x00[!-~]{1,128}\t[1-9][0-9]{0,9}\n)*")


_NODE_PREFIX = hashlib.sha256(b"\x01")


def _next_level(nodes: list[bytes]) -> list[bytes]:
    """One level up: each pair hashed into its parent, an odd last node promoted unchanged."""
    parents = []
    for left, right in zip(nodes[::2], nodes[1::2], strict=False):  # odd: last left alone
        sha = _NODE_PREFIX.copy()  # cheaper than hashing a concatenation
        sha.update(left)
        sha.update(right)
        parents.append(sha.digest())
    if len(nodes) % 2:
        parents.append(nodes[-1])
    return parents


def subtree_hash(nodes: list[bytes]) -> bytes:
    """The Merkle Tree Hash (RFC 6962) of consecutive leaves, or of the consecutive subtrees
    of ``SUBTREE_LEAVES`` leaves (the last one possibly smaller) that cover them, built level by
    level. Pairing level by level and promoting an odd last node is MTH itself: MTH splits
    ``n`` leaves at the largest power of two below ``n``, which is always a pair boundary of
    every level below it (and a subtree boundary when ``n`` exceeds a subtree)."""
    if not nodes:
        return _EMPTY_ROOT
    while len(nodes) > 1:
        nodes = _next_level(nodes)
    return nodes[0]


def audit_path(nodes: list[bytes], index: int) -> list[bytes]:
    """The sibling hashes of node ``index`` from its level to the top of ``subtree_hash(nodes)``,
    skipping the levels where the node has no sibling (it is promoted): RFC 9162's path."""
    path = []
    while len(nodes) > 1:
        if index ^ 1 < len(nodes):
            path.append(nodes[index ^ 1])
        nodes, index = _next_level(nodes), index >> 1
    return path


class PoolDigest:
    """Freezes a pool in one streaming pass: digest, count, total weight and Merkle root.

    Feed the entries sorted by ticket, one by one (``add``) or in batches (``add_batch``,
    much faster). ``add`` raises EntryOutOfOrder for an unsorted or duplicate ticket, and
    InvalidEntry for a bad ticket, a weight outside 1..MAX_WEIGHT, or a total weight above
    MAX_TOTAL_WEIGHT. The Merkle tree is hashed in perfect subtrees of ``SUBTREE_LEAVES``
    leaves; memory holds one subtree's leaf hashes and 32 bytes per subtree (their roots,
    kept for proofs: ``subtree_roots``).
    """

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self._leaves: list[bytes] = []  # the leaf hashes of the subtree being filled
        self._weights: list[int] = []  # and their weights
        self._roots: list[bytes] = []  # of the complete subtrees
        self._subtree_weights: list[int] = []
        self._last: str | None = None
        self.count = 0
        self.total_weight = 0

    def add(self, entry: PoolEntry) -> None:
        line = pool_line(entry)
        if self._last is not None and entry.ticket <= self._last:
            raise EntryOutOfOrder(f"ticket {entry.ticket} comes after {self._last}")
        if self.total_weight + entry.weight > MAX_TOTAL_WEIGHT:
            raise InvalidEntry(f"the total weight exceeds {MAX_TOTAL_WEIGHT}")
        self._last = entry.ticket
        self._sha.update(line)
        self._leaves.append(_leaf_hash(line))
        self._weights.append(entry.weight)
        self.count += 1
        self.total_weight += entry.weight
        if len(self._leaves) == SUBTREE_LEAVES:
            self._close_subtrees()

    def add_all(self, entries: Iterable[PoolEntry]) -> PoolDigest:
        for entry in entries:
            self.add(entry)
        return self

    def add_batch(self, tickets: Sequence[str], weights: Sequence[int]) -> bytes:
        """Adds the entries ``zip(tickets, weights)`` in order, as ``add`` would one by one
        (with the same refusals), and returns their pool lines: the pool file's next bytes.

        The lines are checked with one regular expression over the batch, and hashed in one
        comprehension; a batch that fails a check goes through ``add`` entry by entry, which
        names the first offending entry.
        """
        if len(tickets) != len(weights):
            raise ValueError("as many weights as tickets are needed")
        if not tickets:
            return b""
        pairs = zip(tickets, weights, strict=True)  # lengths checked above
        lines = (  # NUL (the leaf prefix), then the line; a ticket not a string: checked below
            [f"\x00{ticket}\t{weight}\n" for ticket, weight in pairs]
            if all(type(ticket) is str for ticket in tickets)
            else []
        )
        text = "".join(lines)
        if not (
            lines
            and text.count("\n") == len(lines)  # no ticket holding a line of its own
            and _CANONICAL_LINES.fullmatch(text)
            and all(type(weight) is int for weight in weights)
            and max(weights) <= MAX_WEIGHT
            and (self._last is None or tickets[0] > self._last)
            and all(map(operator.lt, tickets, islice(tickets, 1, None)))
            and self.total_weight + sum(weights) <= MAX_TOTAL_WEIGHT
        ):
            entries = map(PoolEntry, tickets, weights)
            return b"".join(self._add_checked(entry) for entry in entries)
        data = text.replace("\x00", "").encode("ascii")
        sha = hashlib.sha256
        self._sha.update(data)
        self._leaves += [sha(line.encode("ascii")).digest() for line in lines]
        self._weights += weights
        self._last = tickets[-1]
        self.count += len(tickets)
        self.total_weight += sum(weights)
        if len(self._leaves) >= SUBTREE_LEAVES:
            self._close_subtrees()
        return data

    def _add_checked(self, entry: PoolEntry) -> bytes:
        self.add(entry)
        return pool_line(entry)

    def _close_subtrees(self) -> None:
        while len(self._leaves) >= SUBTREE_LEAVES:
            self._roots.append(subtree_hash(self._leaves[:SUBTREE_LEAVES]))
            self._subtree_weights.append(sum(self._weights[:SUBTREE_LEAVES]))
            del self._leaves[:SUBTREE_LEAVES], self._weights[:SUBTREE_LEAVES]

    @property
    def subtree_roots(self) -> list[bytes]:
        """The roots of the pool's consecutive subtrees of ``SUBTREE_LEAVES`` leaves, the
        last one possibly smaller: the tree above them is ``subtree_hash`` of this list."""
        tail = [subtree_hash(self._leaves)] if self._leaves else []
        return self._roots + tail

    @property
    def subtree_weights(self) -> list[int]:
        """The total weight of each subtree of ``subtree_roots``."""
        return self._subtree_weights + ([sum(self._weights)] if self._weights else [])

    @property
    def digest(self) -> str:
        """SHA-256 (hex) of the canonical serialisation: the published pool file's sha256sum."""
        return self._sha.hexdigest()

    @property
    def merkle_root(self) -> str:
        return subtree_hash(self.subtree_roots).hex()


def receipt(ticket: str, weight: int) -> str:
    """The entrant's receipt: the hex Merkle leaf hash of their pool line."""
    return _leaf_hash(pool_line(PoolEntry(ticket, weight))).hex()


def find_receipt(receipt_hex: str, entries: Iterable[PoolEntry]) -> PoolEntry | None:
    """Return the entry of the published pool whose receipt this is, or None if absent."""
    for entry in entries:
        if _leaf_hash(pool_line(entry)).hex() == receipt_hex:
            return entry
    return None


@dataclass(frozen=True)
class MerkleProof:
    """RFC 9162 inclusion proof: leaf index, tree size, sibling hashes from the leaf upwards."""

    index: int
    size: int
    path: tuple[str, ...]


def inclusion_proofs(
    entries: Iterable[PoolEntry], indices: Iterable[int]
) -> dict[int, MerkleProof]:
    """Proofs for several leaves in one pass over the pool: O(n) time; the memory of one
    subtree of ``SUBTREE_LEAVES`` leaf hashes per proven subtree.

    Raises IndexError for an index outside the pool, InvalidEntry for a malformed entry.
    """
    wanted_indices = sorted(set(indices))
    wanted = {index // SUBTREE_LEAVES for index in wanted_indices}
    roots: list[bytes] = []
    kept: dict[int, list[bytes]] = {}
    leaves: list[bytes] = []
    size = 0
    for entry in entries:
        leaves.append(_leaf_hash(pool_line(entry)))
        size += 1
        if len(leaves) == SUBTREE_LEAVES:
            roots.append(_close(leaves, len(roots), wanted, kept))
            leaves = []
    if leaves:
        roots.append(_close(leaves, len(roots), wanted, kept))
    return subtree_proofs(roots, kept, size, wanted_indices)


def _close(
    leaves: list[bytes], number: int, wanted: set[int], kept: dict[int, list[bytes]]
) -> bytes:
    if number in wanted:
        kept[number] = leaves
    return subtree_hash(leaves)


def subtree_proofs(
    roots: list[bytes], leaves: Mapping[int, list[bytes]], size: int, indices: Iterable[int]
) -> dict[int, MerkleProof]:
    """Inclusion proofs from the roots of a pool's subtrees (``PoolDigest.subtree_roots``) and
    the leaf hashes of the subtrees that hold the proven leaves (``leaves[subtree number]``).

    Raises IndexError for an index outside the pool of ``size`` leaves.
    """
    proofs = {}
    for index in sorted(set(indices)):
        if not 0 <= index < size:
            raise IndexError(f"leaf {index} is outside a pool of {size}")
        number, at = divmod(index, SUBTREE_LEAVES)
        path = audit_path(leaves[number], at) + audit_path(roots, number)
        proofs[index] = MerkleProof(index, size, tuple(node.hex() for node in path))
    return proofs


def inclusion_proof(entries: Iterable[PoolEntry], index: int) -> MerkleProof:
    """The proof for one leaf, re-streaming the pool (see ``inclusion_proofs``)."""
    return inclusion_proofs(entries, [index])[index]


def receipt_in_tree(receipt_hex: str, root: str, proof: MerkleProof) -> bool:
    """True if the receipt (a leaf hash) is leaf ``proof.index`` of the tree with this root."""
    try:
        node, path = bytes.fromhex(receipt_hex), [bytes.fromhex(p) for p in proof.path]
    except ValueError:
        return False
    if len(node) != 32 or any(len(p) != 32 for p in path):
        return False
    index, last = proof.index, proof.size - 1
    if not 0 <= index <= last:
        return False
    for sibling in path:  # RFC 9162, section 2.1.3.2
        if last == 0:
            return False
        if index & 1 or index == last:
            node = _node_hash(sibling, node)
            while not index & 1 and index:
                index, last = index >> 1, last >> 1
        else:
            node = _node_hash(node, sibling)
        index, last = index >> 1, last >> 1
    return last == 0 and node.hex() == root  # public values: no need for constant time


def verify_inclusion(root: str, leaf_line: bytes, proof: MerkleProof) -> bool:
    """True if this canonical pool line is leaf ``proof.index`` of the tree with this root."""
    return receipt_in_tree(_leaf_hash(leaf_line).hex(), root, proof)


# --- The draw -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """A drawn entry: rank (1 = first prize, or first alternate), pool position and key."""

    rank: int
    ticket: str
    weight: int
    index: int
    key: float
    proof: tuple[str, ...] | None = None


@dataclass(frozen=True)
class DrawResult:
    winners: tuple[Placement, ...]
    alternates: tuple[Placement, ...]
    count: int
    total_weight: int


def uniforms(seed: bytes) -> Iterator[float]:
    """U(j) = (2 * (first 8 bytes of HMAC-SHA256(seed, j as uint64 BE) >> 12) + 1) / 2**53."""
    j = 0
    while True:
        block = hmac.digest(seed, j.to_bytes(8, "big"), "sha256")
        yield ((int.from_bytes(block[:8], "big") >> 12) * 2 + 1) / 2**53
        j += 1


def _refuse(previous: str, entry: PoolEntry) -> None:
    pool_line(entry)  # raises InvalidEntry for a bad weight
    raise EntryOutOfOrder(f"ticket {entry.ticket!r} comes after {previous!r}")


def draw(
    entries: Iterable[PoolEntry], seed: bytes, winners: int, alternates: int = 0
) -> DrawResult:
    """Draw ``winners`` then ``alternates`` distinct entries, weighted by chances, in one pass.

    Efraimidis-Spirakis A-ExpJ: the same distribution as keeping the largest keys
    ``log(u) / weight``, but only O(m log(n/m)) random numbers, m = winners + alternates.
    Memory is O(m). Entries must come sorted by ticket (the frozen pool's order): raises
    EntryOutOfOrder otherwise, InvalidEntry for a weight below 1, ValueError for a seed that is
    not 32 bytes or for winners < 1 or alternates < 0. Tickets are not validated here;
    ``PoolDigest`` does it when the pool is frozen.
    """
    if len(seed) != 32 or winners < 1 or alternates < 0:
        raise ValueError("a draw needs a 32-byte seed, winners >= 1 and alternates >= 0")
    size, stream, log = winners + alternates, uniforms(seed), math.log
    reservoir: list[tuple[float, int, str, int]] = []  # min-heap of (key, -index, ticket, weight)
    entries, previous, index, total = iter(entries), "", -1, 0
    for index, entry in enumerate(entries):  # the first m entries fill the reservoir
        ticket, weight = entry.ticket, entry.weight
        if ticket <= previous or weight < 1:
            _refuse(previous, entry)
        previous, total = ticket, total + weight
        heapq.heappush(reservoir, (log(next(stream)) / weight, -index, ticket, weight))
        if index + 1 == size:
            break
    else:
        return reservoir_result(reservoir, winners, index + 1, total)
    log1p, expm1, ceil = math.log1p, math.expm1, math.ceil
    while True:  # then jump over the entries that cannot beat the smallest key
        threshold = reservoir[0][0]
        need, reached, first = ceil(log(next(stream)) / threshold), 0, index + 1
        for index, entry in enumerate(entries, first):  # noqa: B007 (index is used below)
            ticket, weight = entry.ticket, entry.weight
            if ticket <= previous or weight < 1:
                _refuse(previous, entry)
            previous, reached = ticket, reached + weight
            if reached >= need:
                break
        else:
            return reservoir_result(reservoir, winners, index + 1, total + reached)
        total += reached
        key = log1p(expm1(threshold * weight) * next(stream)) / weight
        heapq.heapreplace(reservoir, (key, -index, ticket, weight))


def reservoir_result(
    reservoir: list[tuple[float, int, str, int]], winners: int, count: int, total: int
) -> DrawResult:
    """The draw's result from its final reservoir of (key, -index, ticket, weight): ranked by
    key, largest first (on a tie, the smaller index first). Raises InvalidEntry for a total
    weight above MAX_TOTAL_WEIGHT."""
    if total > MAX_TOTAL_WEIGHT:
        raise InvalidEntry(f"the total weight exceeds {MAX_TOTAL_WEIGHT}")
    ranked = sorted(reservoir, reverse=True)  # largest key first; on a tie, lower index first

    def place(items: list[tuple[float, int, str, int]]) -> tuple[Placement, ...]:
        return tuple(Placement(r, t, w, -i, k) for r, (k, i, t, w) in enumerate(items, 1))

    return DrawResult(place(ranked[:winners]), place(ranked[winners:]), count, total)


TIE_BREAK_TAG = "contest-draw/tie-break/v1"


def tie_break(seed: bytes, ticket: str) -> str:
    """An entry's place among equals in a ranking: HMAC-SHA256(seed, tag NUL ticket), hex."""
    message = TIE_BREAK_TAG.encode() + b"\x00" + ticket.encode()
    return hmac.new(seed, message, hashlib.sha256).hexdigest()


def rank(
    entries: Iterable[PoolEntry],
    seed: bytes,
    truth: int,
    estimates: Mapping[str, int],
    winners: int,
    alternates: int = 0,
) -> DrawResult:
    """A ranking by the tie-breaker question: the estimates closest to ``truth`` win, then
    the alternates; equal distances are ordered by :func:`tie_break` (the draw's seed), so
    nobody chooses among ex aequo. Chances (weights) do not count in a ranking. Entries must
    come sorted by ticket; raises PoolError for an entry without an estimate."""
    if len(seed) != 32 or winners < 1 or alternates < 0:
        raise ValueError("a ranking needs a 32-byte seed, winners >= 1 and alternates >= 0")
    scored: list[tuple[int, str, int, PoolEntry]] = []
    previous, total = "", 0
    for index, entry in enumerate(entries):
        if entry.ticket <= previous or entry.weight < 1:
            _refuse(previous, entry)
        previous, total = entry.ticket, total + entry.weight
        estimate = estimates.get(entry.ticket)
        if estimate is None:
            raise PoolError(f"ticket {entry.ticket!r} has no answer to the tie-breaker")
        scored.append((abs(estimate - truth), tie_break(seed, entry.ticket), index, entry))
    scored.sort()
    chosen = scored[: winners + alternates]

    def place(items: list[tuple[int, str, int, PoolEntry]]) -> tuple[Placement, ...]:
        return tuple(
            Placement(r, e.ticket, e.weight, i, float(distance))
            for r, (distance, _, i, e) in enumerate(items, 1)
        )

    return DrawResult(place(chosen[:winners]), place(chosen[winners:]), len(scored), total)


def attach_proofs(result: DrawResult, entries: Iterable[PoolEntry]) -> DrawResult:
    """Add each placement's Merkle inclusion path, for a record that omits the entry list."""
    placements = result.winners + result.alternates
    proofs = inclusion_proofs(entries, [p.index for p in placements])

    def prove(p: Placement) -> Placement:
        return replace(p, proof=proofs[p.index].path)

    return replace(
        result,
        winners=tuple(map(prove, result.winners)),
        alternates=tuple(map(prove, result.alternates)),
    )


# --- The draw record and its verification ---------------------------------------------------


class RecordFormatError(ValueError):
    """The JSON is not a draw record this version understands."""


@dataclass(frozen=True)
class Prize:
    rank: int
    description: str


@dataclass(frozen=True)
class PoolSummary:
    count: int
    total_weight: int
    digest: str
    merkle_root: str
    entries: tuple[PoolEntry, ...] | None = None  # None: published apart (pool file or proofs)

    @classmethod
    def of(cls, pool: PoolDigest, entries: Iterable[PoolEntry] | None = None) -> PoolSummary:
        listed = None if entries is None else tuple(entries)
        return cls(pool.count, pool.total_weight, pool.digest, pool.merkle_root, listed)


@dataclass(frozen=True)
class Signature:
    key_id: str
    value: str
    alg: str = "HMAC-SHA256"


@dataclass(frozen=True)
class DrawRecord:
    """The draw record (proces-verbal). Dates are RFC 3339 UTC strings, e.g. ...T10:00:00Z."""

    contest_id: int
    contest_slug: str
    rules_version: str
    operator: str
    closed_at: str
    drawn_at: str
    commitment: str
    secret: str
    public_value: str
    public_value_source: str
    pool: PoolSummary
    exclusions: Mapping[str, int]
    prizes: tuple[Prize, ...]
    alternates_requested: int
    winners: tuple[Placement, ...]
    alternates: tuple[Placement, ...]
    anomalies: tuple[str, ...] = ()
    signature: Signature | None = None
    algorithm: str = ALGORITHM
    format: str = FORMAT
    # The public value's announcement and its evidence (contest.draw.beacon); absent from
    # records of contests published before values were announced.
    randomness: Mapping[str, Any] | None = None
    # A ranking by the tie-breaker question instead of a weighted draw: {"truth": the value
    # to come closest to, "estimates": {ticket: answer}} (:func:`rank`); absent for a draw.
    ranking: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        pool = self.pool
        entries = pool.entries
        data: dict[str, Any] = {
            "format": self.format,
            "algorithm": self.algorithm,
            "contest": {"id": self.contest_id, "slug": self.contest_slug},
            "rules_version": self.rules_version,
            "operator": self.operator,
            "closed_at": self.closed_at,
            "drawn_at": self.drawn_at,
            "commitment": self.commitment,
            "secret": self.secret,
            "public_value": self.public_value,
            "public_value_source": self.public_value_source,
            "pool": {
                "serialisation": POOL_FORMAT,
                "count": pool.count,
                "total_weight": pool.total_weight,
                "digest": pool.digest,
                "merkle_root": pool.merkle_root,
                "entries": None
                if entries is None
                else [{"ticket": e.ticket, "weight": e.weight} for e in entries],
            },
            "exclusions": dict(self.exclusions),
            "prizes": [{"rank": p.rank, "description": p.description} for p in self.prizes],
            "alternates_requested": self.alternates_requested,
            "winners": [_placement_dict(p) for p in self.winners],
            "alternates": [_placement_dict(p) for p in self.alternates],
            "anomalies": list(self.anomalies),
            "signature": None if self.signature is None else asdict(self.signature),
        }
        if self.randomness is not None:
            data["randomness"] = dict(self.randomness)
        if self.ranking is not None:
            data["ranking"] = dict(self.ranking)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> DrawRecord:
        """Parse a record; raises RecordFormatError for anything malformed or missing."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise RecordFormatError(f"not JSON: {exc}") from None
        return cls.from_dict(_want(data, dict, "record"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DrawRecord:
        contest, pool = _get(data, "contest", dict), _get(data, "pool", dict)
        listed = pool.get("entries")
        entries = None
        if listed is not None:
            items = [_want(e, dict, "pool.entries[]") for e in _want(listed, list, "entries")]
            entries = tuple(
                PoolEntry(_get(e, "ticket", str), _get(e, "weight", int)) for e in items
            )
        if _get(pool, "serialisation", str) != POOL_FORMAT:
            raise RecordFormatError(f"pool.serialisation is not {POOL_FORMAT}")
        exclusions = _get(data, "exclusions", dict)
        signature = data.get("signature")
        randomness = data.get("randomness")
        ranking = data.get("ranking")
        return cls(
            contest_id=_get(contest, "id", int),
            contest_slug=_get(contest, "slug", str),
            rules_version=_get(data, "rules_version", str),
            operator=_get(data, "operator", str),
            closed_at=_get(data, "closed_at", str),
            drawn_at=_get(data, "drawn_at", str),
            commitment=_get(data, "commitment", str),
            secret=_get(data, "secret", str),
            public_value=_get(data, "public_value", str),
            public_value_source=_get(data, "public_value_source", str),
            pool=PoolSummary(
                _get(pool, "count", int),
                _get(pool, "total_weight", int),
                _get(pool, "digest", str),
                _get(pool, "merkle_root", str),
                entries,
            ),
            exclusions={str(k): _want(v, int, "exclusions") for k, v in exclusions.items()},
            prizes=tuple(
                Prize(_get(p, "rank", int), _get(p, "description", str))
                for p in _items(data, "prizes")
            ),
            alternates_requested=_get(data, "alternates_requested", int),
            winners=tuple(_placement(p) for p in _items(data, "winners")),
            alternates=tuple(_placement(p) for p in _items(data, "alternates")),
            anomalies=tuple(_want(a, str, "anomalies") for a in _get(data, "anomalies", list)),
            signature=None
            if signature is None
            else Signature(
                _get(signature, "key_id", str),
                _get(signature, "value", str),
                _get(signature, "alg", str),
            ),
            algorithm=_get(data, "algorithm", str),
            format=_get(data, "format", str),
            randomness=None if randomness is None else _want(randomness, dict, "randomness"),
            ranking=None if ranking is None else _want(ranking, dict, "ranking"),
        )

    def signed_bytes(self) -> bytes:
        """Canonical JSON (RFC 8785 for this content) of the record without its signature."""
        data = self.to_dict()
        del data["signature"]
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def sign(self, key: bytes, key_id: str) -> DrawRecord:
        """Return a copy signed with HMAC-SHA256 under the server's record key."""
        value = hmac.new(key, self.signed_bytes(), "sha256").hexdigest()
        return replace(self, signature=Signature(key_id, value))

    def signature_valid(self, key: bytes) -> bool:
        """True if the record is unchanged since it was signed with this key."""
        if self.signature is None or self.signature.alg != "HMAC-SHA256":
            return False
        expected = hmac.new(key, self.signed_bytes(), "sha256").hexdigest()
        return hmac.compare_digest(expected.encode(), self.signature.value.encode())


_T = TypeVar("_T")


def _want(value: Any, kind: type[_T], where: str) -> _T:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RecordFormatError(f"{where}: expected {kind.__name__}")
    return value


def _get(data: Mapping[str, Any], key: str, kind: type[_T]) -> _T:
    return _want(data.get(key), kind, key)


def _items(data: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    return [_want(item, dict, f"{key}[]") for item in _get(data, key, list)]


def _placement_dict(p: Placement) -> dict[str, Any]:
    data: dict[str, Any] = {"rank": p.rank, "ticket": p.ticket, "weight": p.weight}
    data |= {"index": p.index, "key": repr(p.key)}
    if p.proof is not None:
        data["proof"] = list(p.proof)
    return data


def _placement(data: Mapping[str, Any]) -> Placement:
    try:
        key = float(_get(data, "key", str))
    except ValueError:
        raise RecordFormatError("key: expected a decimal number in a string") from None
    proof = data.get("proof")
    return Placement(
        _get(data, "rank", int),
        _get(data, "ticket", str),
        _get(data, "weight", int),
        _get(data, "index", int),
        key,
        None
        if proof is None
        else tuple(_want(h, str, "proof") for h in _want(proof, list, "proof")),
    )


@dataclass(frozen=True)
class Problem:
    """One failed check: ``code`` names the part (e.g. ``commitment``, ``winners``)."""

    code: str
    detail: str


@dataclass(frozen=True)
class Verification:
    problems: tuple[Problem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_record(record: DrawRecord, entries: Iterable[PoolEntry] | None = None) -> Verification:
    """Recompute the draw from the record alone (or with the separately published pool).

    Checks the commitment, the prizes, the pool's count, total weight, digest and Merkle root,
    the seed, winners and alternates, and any inclusion proofs. Needs no key: the signature is
    checked apart with ``DrawRecord.signature_valid``. An empty problem list means it matches.
    """
    problems: list[Problem] = []

    def problem(code: str, detail: str) -> None:
        problems.append(Problem(code, detail))

    if record.format != FORMAT or record.algorithm != ALGORITHM:
        problem("format", f"expected {FORMAT} with {ALGORITHM}")
        return Verification(tuple(problems))
    if not _HEX64.fullmatch(record.secret):
        problem("secret", "the revealed secret is not 64 lowercase hex digits")
    elif commitment(record.secret) != record.commitment:
        problem("commitment", "sha256 of the revealed secret is not the published commitment")
    if [p.rank for p in record.prizes] != list(range(1, len(record.prizes) + 1)):
        problem("prizes", "prize ranks are not 1, 2, 3...")
    if not record.prizes or record.alternates_requested < 0:
        problem("prizes", "no prize, or a negative number of alternates: nothing to re-run")
        return Verification(tuple(problems))
    pool = record.pool
    for p in record.winners + record.alternates:
        if p.proof is not None and not _proven(p, pool):
            problem("proof", f"ticket {p.ticket}: the inclusion proof fails")
    source = pool.entries if entries is None else entries
    if source is None:
        problem("pool.entries", "no entry list: the draw cannot be re-run")
        return Verification(tuple(problems))
    if not _HEX64.fullmatch(record.secret) or not _HEX64.fullmatch(pool.digest):
        problem("seed", "the seed cannot be derived from a malformed secret or digest")
        return Verification(tuple(problems))
    frozen = PoolDigest()

    def freeze(stream: Iterable[PoolEntry]) -> Iterator[PoolEntry]:
        for entry in stream:
            frozen.add(entry)
            yield entry

    seed = draw_seed(record.secret, pool.digest, record.public_value)
    try:
        if record.ranking is not None:
            truth, estimates = _ranking_of(record.ranking)
            result = rank(
                freeze(source), seed, truth, estimates, len(record.prizes),
                record.alternates_requested,
            )  # fmt: skip
        else:
            result = draw(freeze(source), seed, len(record.prizes), record.alternates_requested)
    except PoolError as exc:
        problem("pool.entries", str(exc))
        return Verification(tuple(problems))
    for name, claimed, actual in (
        ("pool.count", pool.count, frozen.count),
        ("pool.total_weight", pool.total_weight, frozen.total_weight),
        ("pool.digest", pool.digest, frozen.digest),
        ("pool.merkle_root", pool.merkle_root, frozen.merkle_root),
    ):
        if claimed != actual:
            problem(name, f"recorded {claimed}, recomputed {actual}")
    for name, claimed_list, actual_list in (
        ("winners", record.winners, result.winners),
        ("alternates", record.alternates, result.alternates),
    ):
        detail = _compare(claimed_list, actual_list)
        if detail:
            problem(name, detail)
    return Verification(tuple(problems))


def _ranking_of(ranking: Mapping[str, Any]) -> tuple[int, dict[str, int]]:
    """(truth, estimates) of a record's ranking; raises PoolError when malformed."""
    truth, estimates = ranking.get("truth"), ranking.get("estimates")
    if not isinstance(truth, int) or not isinstance(estimates, dict):
        raise PoolError("the ranking needs an integer truth and the estimates by ticket")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in estimates.values()):
        raise PoolError("every estimate of the ranking must be an integer")
    return truth, {str(k): v for k, v in estimates.items()}


def _proven(placement: Placement, pool: PoolSummary) -> bool:
    try:
        line = pool_line(PoolEntry(placement.ticket, placement.weight))
    except InvalidEntry:
        return False
    proof = MerkleProof(placement.index, pool.count, placement.proof or ())
    return verify_inclusion(pool.merkle_root, line, proof)


def _compare(claimed: tuple[Placement, ...], actual: tuple[Placement, ...]) -> str:
    if len(claimed) != len(actual):
        return f"recorded {len(claimed)}, recomputed {len(actual)}"
    for c, a in zip(claimed, actual, strict=True):
        if (c.rank, c.ticket, c.weight, c.index) != (a.rank, a.ticket, a.weight, a.index):
            return f"rank {c.rank}: recorded {c.ticket} (x{c.weight}), recomputed {a.ticket}"
        if not math.isclose(c.key, a.key, rel_tol=KEY_TOLERANCE):
            return f"rank {c.rank}: recorded key {c.key!r}, recomputed {a.key!r}"
    return ""
