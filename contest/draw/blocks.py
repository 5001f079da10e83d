"""The frozen pool read back in blocks: the draw and the proofs of a large pool, fast.

``protocol.draw`` and ``protocol.inclusion_proofs`` are the reference: one entry at a time,
each one checked. The pool file of a frozen pool was checked once, when it was frozen
(``PoolDigest``), and its digest is known; so the database side reads it back in blocks of
``SUBTREE_LEAVES`` lines, one Merkle subtree each, and:

- :func:`draw` takes the same A-ExpJ steps with the same uniforms as ``protocol.draw``, so it
  gives the same winners, but a jump that goes past a whole block is taken with the block's
  total weight, and one that lands inside a block is found by bisecting the block's running
  sums (integers: exact) rather than by stepping entry by entry;
- :func:`prove` proves the placements from the subtree roots and the leaves of the
  placements' blocks only (kept by the draw, at most ``HELD_BLOCKS`` of them).

The lines are not checked here: the caller checks that the blocks are the frozen pool file
(its digest) before it uses the result. ``tests/contest/test_draw_core.py`` checks that both
give what the reference gives.
"""

from __future__ import annotations

import hashlib
import heapq
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from itertools import accumulate

from contest.draw import protocol as core

HELD_BLOCKS = 64  # blocks of placements kept for their proofs (about 15 MB at most)


@dataclass(frozen=True)
class Block:
    """``SUBTREE_LEAVES`` consecutive pool lines (fewer for the last block), each
    ``ticket TAB weight`` without its newline, and their total weight when known."""

    lines: list[bytes]
    weight: int | None = None


@dataclass(frozen=True)
class BlockDraw:
    """The draw, and the lines of the blocks that hold its placements (by block number), or
    None when there were more than ``HELD_BLOCKS`` of them."""

    result: core.DrawResult
    held: dict[int, list[bytes]] | None


def _weights(lines: list[bytes]) -> list[int]:
    return [int(line[line.index(b"\t") + 1 :]) for line in lines]


def _ticket(line: bytes) -> str:
    return line[: line.index(b"\t")].decode("ascii")


def draw(blocks: Iterable[Block], seed: bytes, winners: int, alternates: int = 0) -> BlockDraw:
    """``protocol.draw`` over the pool's blocks, in order (see the module docstring).

    Raises ValueError for a seed that is not 32 bytes, winners < 1 or alternates < 0, or a
    line without a decimal weight; InvalidEntry for a total weight above MAX_TOTAL_WEIGHT.
    """
    if len(seed) != 32 or winners < 1 or alternates < 0:
        raise ValueError("a draw needs a 32-byte seed, winners >= 1 and alternates >= 0")
    size, stream = winners + alternates, core.uniforms(seed)
    log, log1p, expm1, ceil = math.log, math.log1p, math.expm1, math.ceil
    reservoir: list[tuple[float, int, str, int]] = []  # min-heap of (key, -index, ticket, weight)
    members: Counter[int] = Counter()  # block number -> placements it holds
    block_of: dict[int, int] = {}  # pool index of a placement -> its block number
    held: dict[int, list[bytes]] | None = {}
    count = total = need = reached = 0  # need 0: the next jump is still to be drawn
    threshold = 0.0

    def hold(number: int, lines: list[bytes], index: int, evicted: int | None) -> None:
        nonlocal held
        if evicted is not None:
            gone = block_of.pop(evicted)
            members[gone] -= 1
            if not members[gone]:
                del members[gone]
                if held is not None:
                    del held[gone]
        block_of[index] = number
        members[number] += 1
        if held is not None:
            held[number] = lines
            if len(held) > HELD_BLOCKS:
                held = None

    for number, block in enumerate(blocks):
        lines, base, at = block.lines, count, 0
        count += len(lines)
        weights = None if block.weight is not None else _weights(lines)
        if len(reservoir) < size:  # the first m entries fill the reservoir
            weights = weights or _weights(lines)
            while at < len(lines) and len(reservoir) < size:
                weight = weights[at]
                key = log(next(stream)) / weight
                heapq.heappush(reservoir, (key, -(base + at), _ticket(lines[at]), weight))
                hold(number, lines, base + at, None)
                at += 1
        block_weight = sum(weights) if weights is not None else block.weight or 0
        total += block_weight
        sums: list[int] | None = None
        while at < len(lines) and len(reservoir) == size:  # jumps
            if not need:
                threshold = reservoir[0][0]
                need, reached = ceil(log(next(stream)) / threshold), 0
            if sums is None and at:
                weights = weights or _weights(lines)
                sums = list(accumulate(weights))
            before = sums[at - 1] if sums is not None and at else 0
            if reached + block_weight - before < need:  # the jump goes past this block
                reached += block_weight - before
                break
            if sums is None:
                weights = weights or _weights(lines)
                sums = list(accumulate(weights))
            assert weights is not None
            landed = bisect_left(sums, need - reached + before, at)
            weight = weights[landed]
            key = log1p(expm1(threshold * weight) * next(stream)) / weight
            entry = (key, -(base + landed), _ticket(lines[landed]), weight)
            evicted = heapq.heapreplace(reservoir, entry)
            hold(number, lines, base + landed, -evicted[1])
            need, at = 0, landed + 1
    result = core.reservoir_result(reservoir, winners, count, total)
    return BlockDraw(result, None if held is None else {n: held[n] for n in sorted(members)})


def leaf_hashes(lines: list[bytes]) -> list[bytes]:
    """The Merkle leaf hashes of a block's lines (given without their newline)."""
    sha = hashlib.sha256
    return [sha(b"\x00" + line + b"\n").digest() for line in lines]


def prove(
    result: core.DrawResult, roots: list[bytes], held: Mapping[int, list[bytes]], size: int
) -> core.DrawResult:
    """The result with each placement's inclusion proof, from the pool's subtree roots and
    the lines of the blocks that hold the placements (blocks of ``SUBTREE_LEAVES`` lines)."""
    placements = result.winners + result.alternates
    leaves = {number: leaf_hashes(lines) for number, lines in held.items()}
    proofs = core.subtree_proofs(roots, leaves, size, [p.index for p in placements])

    def proven(p: core.Placement) -> core.Placement:
        return replace(p, proof=proofs[p.index].path)

    return replace(
        result,
        winners=tuple(map(proven, result.winners)),
        alternates=tuple(map(proven, result.alternates)),
    )
