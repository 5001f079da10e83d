"""The pool file of a contest (``contest-pool-tsv/1``, see docs/draw.md), frozen at its close.

The pool is written once, when the contest closes (``drawing.freeze_pool``, in constant memory
through a temporary file), and stored in the database in gzip parts, so that every app process
serves the same bytes and no shared disk is needed. It is published at ``/c/{slug}/pool.tsv``
from then on, and the draw reads exactly it. A record lists its pool up to
``drawing.POOL_LISTING_LIMIT`` entries; past that it carries only the pool's digest and Merkle
root, and anyone can run ``contest verify-draw record.json --pool pool.tsv``. It holds tickets
and weights only: no personal data.
"""

from __future__ import annotations

import tempfile
import zlib
from collections.abc import Iterable, Iterator
from typing import IO

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from contest import tables
from contest.draw import protocol as core

PART_BYTES = 1 << 20  # one stored part: about a mebibyte of gzip


class PoolFile:
    """Collects the pool lines an iteration passes through, gzip-compressed on disk."""

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile()
        self._compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip
        self.lines = 0

    def tee(self, entries: Iterable[core.PoolEntry]) -> Iterator[core.PoolEntry]:
        """Yields ``entries`` unchanged, writing each one's pool line on the way."""
        buffer: list[bytes] = []
        for entry in entries:
            buffer.append(core.pool_line(entry))
            if len(buffer) >= 4096:
                self._file.write(self._compressor.compress(b"".join(buffer)))
                buffer.clear()
            self.lines += 1
            yield entry
        self._file.write(self._compressor.compress(b"".join(buffer)))

    def discard(self) -> None:
        """Drops what is left of the file (once stored, or when another process froze the
        pool meanwhile); harmless twice."""
        self._file.close()

    def parts(self) -> Iterator[bytes]:
        """The gzip bytes in parts of ``PART_BYTES``; call once, after the iteration."""
        self._file.write(self._compressor.flush())
        self._file.seek(0)
        while part := self._file.read(PART_BYTES):
            yield part
        self._file.close()


def store(connection: Connection, contest_id: int, pool_file: PoolFile) -> None:
    """Writes the file's parts, in the caller's transaction (the one storing the record)."""
    chunk = tables.drawpoolchunk
    for seq, part in enumerate(pool_file.parts()):
        connection.execute(sa.insert(chunk).values(contest_id=contest_id, seq=seq, data=part))


def published(engine: Engine, contest_id: int) -> bool:
    chunk = tables.drawpoolchunk
    with engine.connect() as connection:
        found = connection.execute(
            sa.select(chunk.c.seq).where(chunk.c.contest_id == contest_id).limit(1)
        ).first()
    return found is not None


def read(engine: Engine, contest_id: int) -> Iterator[bytes]:
    """The pool file's text, decompressed part by part (one part in memory at a time)."""
    chunk = tables.drawpoolchunk
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    seq = 0
    while True:
        with engine.connect() as connection:
            data = connection.execute(
                sa.select(chunk.c.data).where(chunk.c.contest_id == contest_id, chunk.c.seq == seq)
            ).scalar()
        if data is None:
            break
        yield decompressor.decompress(data)
        seq += 1
    yield decompressor.flush()


def entries(engine: Engine, contest_id: int) -> Iterator[core.PoolEntry]:
    """The stored pool's entries, in order, read back from its parts (constant memory)."""
    return core.read_pool(_lines(read(engine, contest_id)))


def _lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    rest = b""
    for chunk in chunks:
        lines = (rest + chunk).splitlines(keepends=True)
        rest = lines.pop() if lines and not lines[-1].endswith(b"\n") else b""
        yield from lines
    if rest:
        yield rest  # not canonical: read_pool refuses it
