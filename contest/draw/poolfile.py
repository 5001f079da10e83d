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

import hashlib
import queue
import tempfile
import threading
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
    """Collects the pool file's bytes as the pool is frozen, gzip-compressed on disk.

    Compressed at level 1: the tickets are random, so a higher level saves little (a few
    percent) and costs twice the time of the whole freeze's hashing. Compressed by a thread
    of its own, a few writes behind: zlib works outside the GIL, so the compression overlaps
    the hashing of the next entries instead of adding to it."""

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile()
        self._compressor = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip
        self._pending: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._compress, name="pool-file", daemon=True)
        self._thread.start()
        self.lines = 0

    def _compress(self) -> None:
        while (data := self._pending.get()) is not None:
            if self._failure is None:
                try:
                    self._file.write(self._compressor.compress(data))
                except BaseException as exc:  # a full disk: raised by ``parts``
                    self._failure = exc

    def write(self, data: bytes) -> None:
        """Appends pool lines (whole lines)."""
        self._pending.put(data)
        self.lines += data.count(b"\n")

    def _finish(self) -> None:
        if self._thread.is_alive():
            self._pending.put(None)
            self._thread.join()

    def discard(self) -> None:
        """Drops what is left of the file (once stored, or when another process froze the
        pool meanwhile); harmless twice."""
        self._finish()
        self._file.close()

    def parts(self) -> Iterator[bytes]:
        """The gzip bytes in parts of ``PART_BYTES``; call once, after the iteration."""
        self._finish()
        if self._failure is not None:
            raise self._failure
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


class PoolReader:
    """Reads the stored pool file back in blocks of lines, hashing it on the way: once the
    blocks are read (``finish`` reads what is left), ``digest`` and ``lines`` say whether it
    is the file frozen at the close."""

    def __init__(self, engine: Engine, contest_id: int) -> None:
        self._chunks = read(engine, contest_id)
        self._sha = hashlib.sha256()
        self.lines = 0

    def blocks(self, size: int) -> Iterator[list[bytes]]:
        """The file's lines, without their newline, in lists of ``size`` (the last one
        shorter); a last line without its newline is given as it is (the digest tells)."""
        pending: list[bytes] = []
        rest = b""
        for chunk in self._chunks:
            self._sha.update(chunk)
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            self.lines += len(lines)
            pending += lines
            if len(pending) >= size:
                whole = len(pending) - len(pending) % size
                for start in range(0, whole, size):
                    yield pending[start : start + size]
                pending = pending[whole:]
        if rest:
            self.lines += 1
            pending.append(rest)
        if pending:
            yield pending

    def finish(self) -> None:
        """Reads (and hashes) the rest of the file, when the blocks were not all read."""
        for chunk in self._chunks:
            self._sha.update(chunk)
            self.lines += chunk.count(b"\n")

    @property
    def digest(self) -> str:
        return self._sha.hexdigest()


def _lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    rest = b""
    for chunk in chunks:
        lines = (rest + chunk).splitlines(keepends=True)
        rest = lines.pop() if lines and not lines[-1].endswith(b"\n") else b""
        yield from lines
    if rest:
        yield rest  # not canonical: read_pool refuses it
