"""The organizer's client list (FR-CLIENTS-1), imported from a CSV file and exported to one.

Client-only contests check that a person was a client before the contest was offered, against
the list the shop uploads here. An import streams: it reads the file row by row and writes in
batches, each batch its own transaction, so memory stays constant whatever the file's size. A
row with a problem is skipped and reported with its spreadsheet line (the header is line 1) and
a French and English message saying how to fix it; the other rows are written. An import
adds and updates, it never deletes: clients missing from the file are kept.

Counting: each row read ends up in exactly one of ``created``, ``updated``, ``unchanged``,
``duplicates`` or ``skipped``. Rows are compared with what is stored before writing, so an
unchanged row is not written at all (its ``updated_at`` keeps its value). An address repeated
within a batch (the same identity key, e.g. ``Ann@x.org`` and ``ann+shop@x.org``) is not an
error: the last row wins and each earlier one counts as a duplicate. Repeats further apart than
a batch are written in turn, the later as an update, with the same outcome: the last row wins.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from contest import tables
from contest.csvcells import safe_row, spreadsheet_value
from contest.people import EmailCleaner, InvalidEmail, email_key
from contest.storage import write_options

MAX_ROWS = 1_000_000
MAX_LINE = 64 * 1024  # characters (bytes for a binary file) in one line of the file
MAX_ERRORS = 1_000  # errors kept in the report; all are counted
MAX_ORDERS = 1_000_000_000
MAX_SEGMENTS = 50
MAX_SEGMENT_LENGTH = 64  # as Contest.segment
EXPORT_ROWS_PER_CHUNK = 1_000
COLUMNS = ("email", "client_since", "orders_count", "segments")
REQUIRED = ("email", "client_since")
# Header names, folded by _header_key (case, accents, spaces and punctuation ignored).
ALIASES = {
    **dict.fromkeys(
        ("email", "e_mail", "mail", "courriel", "email_address", "adresse_email")
        + ("adresse_e_mail", "adresse_mail", "adresse_electronique"),
        "email",
    ),
    **dict.fromkeys(
        ("client_since", "customer_since", "client_depuis", "date_client", "client_le")
        + ("first_order", "first_order_date", "premiere_commande", "date_premiere_commande"),
        "client_since",
    ),
    **dict.fromkeys(
        ("orders_count", "orders", "order_count", "commandes", "nb_commandes")
        + ("nombre_commandes", "nombre_de_commandes"),
        "orders_count",
    ),
    **dict.fromkeys(("segments", "segment", "tags", "etiquettes"), "segments"),
}
HEADER_FR = "email;client_since;orders_count;segments"
HEADER_EN = ",".join(COLUMNS)
_FRENCH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_OLDEST = datetime(1900, 1, 1, tzinfo=UTC)
_WHOLE_NUMBER = re.compile(r"[+-]?\d{1,12}")
_SEGMENT_SEPARATOR = re.compile(r"[|;]")

_client = tables.client
FIND_STORED = sa.select(
    _client.c.email_key, _client.c.client_since, _client.c.orders_count, _client.c.segments
).where(
    _client.c.organizer_id == sa.bindparam("organizer_id"),
    _client.c.email_key.in_(sa.bindparam("keys", expanding=True)),
)


@dataclass(frozen=True)
class RowError:
    """A skipped row: its spreadsheet line, the column as named in the file, what to fix."""

    line: int
    column: str | None
    message_fr: str
    message_en: str


@dataclass
class ImportReport:
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    skipped: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    fatal: tuple[str, str] | None = None  # (French, English): the file, not a row, is at fault


class _Client(NamedTuple):
    email_key: str
    client_since: datetime
    orders_count: int
    segments: list[str]


class _Fatal(Exception):
    def __init__(self, message_fr: str, message_en: str) -> None:
        super().__init__(message_en)
        self.messages = (message_fr, message_en)


class _CellProblem(ValueError):
    def __init__(self, message_fr: str, message_en: str) -> None:
        super().__init__(message_en)
        self.messages = (message_fr, message_en)


def import_clients(
    engine: Engine,
    organizer_id: int,
    source: IO[bytes] | IO[str] | Iterable[str],
    now: datetime,
    *,
    batch_size: int = 2000,
) -> ImportReport:
    """Adds or updates the organizer's clients from a CSV file; never touches other organizers.

    ``source`` is a binary file (UTF-8, BOM allowed), a text file or any iterable of lines.
    The first line must name the columns ``email`` and ``client_since`` (and optionally
    ``orders_count``, ``segments``; French names are welcome), separated by ``,`` or ``;``.
    Refused with ``fatal`` and nothing written: an empty file, a missing, unknown or repeated
    column, a file that is not UTF-8 (when the file can be read twice: seekable). Refused with
    ``fatal`` while reading, the rows before it written: a non-UTF-8 line of a stream, a line
    longer than 64 KiB, broken CSV quoting, more than 1,000,000 rows. A row is skipped and
    reported (:class:`RowError`) when its address is not valid, its date is unreadable, before
    1900 or after ``now`` (a date alone is midnight UTC, a naive time is UTC, ``01/05/2024`` is
    the 1st of May), its order count is not a whole number from 0 up, or its segments (split
    on ``|`` or ``;``) are more than 50 or longer than 64 characters. Blank rows are ignored;
    a cell the export prefixed with ``'`` (one a spreadsheet would run) is read without it.
    Raises ValueError for a naive ``now`` (the stored times are UTC) and NotImplementedError
    for a database other than SQLite or PostgreSQL (the upsert is written for those two).
    """
    if now.tzinfo is None or batch_size < 1:
        raise ValueError("now must be timezone-aware and batch_size at least 1")
    report = ImportReport()
    try:
        reader, columns = _open_csv(source)
    except _Fatal as refusal:
        report.fatal = refusal.messages
        return report
    with engine.connect().execution_options(**write_options()) as connection:
        upsert = _upsert_statement(connection.dialect.name)
        parse = _RowParser(columns, now)
        batch: dict[str, _Client] = {}
        line = 1
        try:
            for line, cells in enumerate(reader, start=2):
                if not any(cell.strip() for cell in cells):
                    continue
                if report.rows_read == MAX_ROWS:
                    limit = f"{MAX_ROWS:,}"
                    raise _Fatal(
                        f"Ligne {line} : le fichier dépasse {limit.replace(',', ' ')} clients, "
                        "découpez-le en plusieurs fichiers.",
                        f"Line {line}: the file has more than {limit} clients, split it into "
                        "several files.",
                    )
                report.rows_read += 1
                parsed = parse(cells, line)
                if isinstance(parsed, list):
                    report.skipped += 1
                    report.error_count += len(parsed)
                    report.errors.extend(parsed[: MAX_ERRORS - len(report.errors)])
                    continue
                if parsed.email_key in batch:
                    report.duplicates += 1
                batch[parsed.email_key] = parsed
                if len(batch) >= batch_size:
                    _write_batch(connection, upsert, organizer_id, batch, now, report)
                    batch.clear()
        except (_Fatal, csv.Error) as exc:
            fr, en = exc.messages if isinstance(exc, _Fatal) else _broken_csv(exc, line + 1)
            if report.rows_read:
                fr += " Les lignes précédentes ont été traitées (voir le décompte) ; réimporter "
                fr += "le fichier corrigé ne les dupliquera pas."
                en += " The lines before it were processed (see the counts); importing the "
                en += "corrected file again will not duplicate them."
            report.fatal = (fr, en)
        if batch:
            _write_batch(connection, upsert, organizer_id, batch, now, report)
    return report


def export_clients(connection: Connection, organizer_id: int) -> Iterator[str]:
    """The organizer's clients as CSV text chunks, streamed, that :func:`import_clients` reads back.

    The first chunk starts with a UTF-8 BOM (so that Excel reads accents right) and the header
    ``email,client_since,orders_count,segments``. ``email`` is the identity key stored, not
    the address as first typed; ``client_since`` is an ISO datetime in UTC; segments are joined
    by ``|``. A cell a spreadsheet would run as a formula is prefixed with ``'``, as in every
    CSV of the app (contest.csvcells), and the import takes the prefix off again, so that the
    file still reads back unchanged. Iterate while ``connection`` is open.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(COLUMNS)
    yield buffer.getvalue()
    query = (
        sa.select(*FIND_STORED.selected_columns)
        .where(_client.c.organizer_id == organizer_id)
        .order_by(_client.c.email_key)
    )
    result = connection.execute(query, execution_options={"yield_per": EXPORT_ROWS_PER_CHUNK})
    for rows in result.partitions():
        buffer.seek(0)
        buffer.truncate()
        for row in rows:
            since = row.client_since.astimezone(UTC).isoformat()
            segments = "|".join(row.segments or ())
            writer.writerow(safe_row((row.email_key, since, row.orders_count, segments)))
        yield buffer.getvalue()


# --- Reading the file --------------------------------------------------------------------


def _open_csv(source: Any) -> tuple[Iterator[list[str]], dict[int, tuple[str, str]]]:
    """The row reader past the header, and each used cell index -> (column, name as written)."""
    lines = _text_lines(source)
    first = next(lines, None)
    if first is None or not first.strip():
        raise _Fatal(
            f"La première ligne est vide : elle doit nommer les colonnes, par exemple {HEADER_FR}",
            f"The first line is empty: it must name the columns, for example {HEADER_EN}",
        )
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise _Fatal(*_broken_csv(exc, 1)) from exc
    return reader, _read_header(header)


def _text_lines(source: Any) -> Iterator[str]:
    """The file's lines as text, BOM removed; a line that is not UTF-8 or too long stops it."""
    for number, line in enumerate(_raw_lines(source), start=1):
        ended = line.endswith(b"\n") if isinstance(line, bytes) else line.endswith("\n")
        if len(line) > MAX_LINE or (len(line) == MAX_LINE and not ended):
            raise _Fatal(
                f"Ligne {number} : plus de {MAX_LINE} caractères. Vérifiez que le fichier est "
                "bien un CSV, une ligne par client.",
                f"Line {number}: more than {MAX_LINE} characters. Check that the file is a "
                "CSV file, one line per client.",
            )
        if isinstance(line, bytes):
            if number == 1:
                _refuse_non_utf8_ahead(source)
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError:
                raise _not_utf8(number) from None
        yield line.removeprefix("\ufeff") if number == 1 else line


def _raw_lines(source: Any) -> Iterator[str | bytes]:
    readline = getattr(source, "readline", None)
    if readline is None:
        yield from source
        return
    while line := readline(MAX_LINE):
        yield line


def _refuse_non_utf8_ahead(source: Any) -> None:
    """Reads the rest of a seekable binary file once, so that a non-UTF-8 file writes nothing."""
    seekable = getattr(source, "seekable", None)
    if seekable is None or not seekable():
        return
    start, line = source.tell(), 2
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := source.read(1 << 16):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise _not_utf8(line + exc.object.count(b"\n", 0, exc.start)) from None
            line += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise _not_utf8(line) from None
    finally:
        source.seek(start)


def _not_utf8(line: int) -> _Fatal:
    return _Fatal(
        f"Le fichier n'est pas encodé en UTF-8 (ligne {line}). Dans Excel : Fichier > "
        "Enregistrer sous > « CSV UTF-8 (délimité par des virgules) », puis importez ce fichier.",
        f"The file is not UTF-8 encoded (line {line}). In Excel: File > Save As > "
        '"CSV UTF-8 (Comma delimited)", then import that file.',
    )


def _broken_csv(exc: csv.Error, line: int) -> tuple[str, str]:
    return (
        f"Ligne {line} : CSV illisible ({exc}). Vérifiez les guillemets : une cellule ouverte "
        'par " doit être fermée par ".',
        f'Line {line}: unreadable CSV ({exc}). Check the quotes: a cell opened with " must be '
        'closed with ".',
    )


def _header_key(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "_", folded).strip("_")


def _read_header(header: list[str]) -> dict[int, tuple[str, str]]:
    if any("@" in cell for cell in header):
        raise _Fatal(
            "La première ligne contient une adresse : elle doit nommer les colonnes. Ajoutez "
            f"en tête du fichier la ligne {HEADER_FR}",
            "The first line holds an address: it must name the columns. Add this line at the "
            f"top of the file: {HEADER_EN}",
        )
    columns: dict[int, tuple[str, str]] = {}
    for index, name in enumerate(header):
        name = name.strip()
        if not name:
            continue
        column = ALIASES.get(_header_key(name))
        if column is None:
            raise _Fatal(
                f"Colonne inconnue « {_shown(name)} » : supprimez-la ou renommez-la. Colonnes "
                "reconnues : email, client_since, orders_count, segments.",
                f'Unknown column "{_shown(name)}": delete or rename it. Known columns: '
                "email, client_since, orders_count, segments.",
            )
        if any(known == column for known, _ in columns.values()):
            raise _Fatal(
                f"La colonne « {column} » apparaît deux fois dans la première ligne : "
                "gardez-en une seule.",
                f'The column "{column}" appears twice in the first line: keep only one.',
            )
        columns[index] = (column, name)
    missing = [c for c in REQUIRED if all(known != c for known, _ in columns.values())]
    if missing:
        raise _Fatal(
            f"Colonne obligatoire absente de la première ligne : {', '.join(missing)}. Elle "
            f"doit nommer les colonnes, par exemple {HEADER_FR}",
            f"Required column missing from the first line: {', '.join(missing)}. It must name "
            f"the columns, for example {HEADER_EN}",
        )
    return columns


# --- Checking a row ----------------------------------------------------------------------


class _RowParser:
    """Checks the rows of one file: each cell of a named column as :func:`spreadsheet_value`
    reads it, stripped; a value outside the named columns is an error, then each column's
    check in the order of ``COLUMNS`` (all of a row's errors are reported)."""

    def __init__(self, columns: dict[int, tuple[str, str]], now: datetime) -> None:
        self._columns = {index: column for index, (column, _) in columns.items()}
        self._names = {column: name for column, name in columns.values()}
        clean = EmailCleaner()  # each domain checked once per file
        self._checks: tuple[tuple[str, Callable[[str], Any]], ...] = (
            ("email", lambda text: _check_email(text, clean)),
            ("client_since", lambda text: _check_since(text, now)),
            ("orders_count", _check_orders),
            ("segments", _check_segments),
        )

    def __call__(self, cells: list[str], line: int) -> _Client | list[RowError]:
        values = dict.fromkeys(COLUMNS, "")
        errors: list[RowError] = []
        columns = self._columns
        for index, cell in enumerate(cells):
            column = columns.get(index)
            if column is not None:  # as written, when the file is one of our exports
                cell = cell.strip()
                values[column] = spreadsheet_value(cell) if cell[:1] == "'" else cell
            elif cell.strip():
                errors.append(
                    RowError(
                        line,
                        None,
                        f"Valeur « {_shown(cell)} » hors des colonnes nommées dans la première "
                        "ligne : supprimez-la, ou mettez entre guillemets une cellule qui "
                        "contient le séparateur.",
                        f'Value "{_shown(cell)}" outside the columns named in the first line: '
                        "delete it, or quote a cell that contains the separator.",
                    )
                )
        parsed: list[Any] = []
        for column, check in self._checks:
            try:
                parsed.append(check(values[column]))
            except _CellProblem as problem:
                errors.append(self._error(line, column, problem))
        return errors if errors else _Client(*parsed)

    def _error(self, line: int, column: str, problem: _CellProblem) -> RowError:
        return RowError(line, self._names.get(column, column), *problem.messages)


def _shown(value: str) -> str:
    value = value.strip()
    return value if len(value) <= 60 else value[:59] + "…"


def _check_email(text: str, clean: Callable[[str], str]) -> str:
    if not text:
        raise _CellProblem(
            "L'adresse e-mail est vide : indiquez l'adresse du client ou supprimez la ligne.",
            "The e-mail address is empty: enter the client's address or delete the line.",
        )
    try:
        return email_key(clean(text))
    except InvalidEmail:
        raise _CellProblem(
            f"« {_shown(text)} » n'est pas une adresse e-mail valide : corrigez-la "
            "(forme nom@domaine.fr) ou supprimez la ligne.",
            f'"{_shown(text)}" is not a valid e-mail address: correct it (form '
            "name@domain.com) or delete the line.",
        ) from None


def _check_since(text: str, now: datetime) -> datetime:
    if not text:
        raise _CellProblem(
            "La date est vide : indiquez depuis quand la personne est cliente, par exemple "
            "01/05/2024 ou 2024-05-01.",
            "The date is empty: enter since when the person is a client, for example "
            "2024-05-01 or 01/05/2024 (day/month/year).",
        )
    french = _FRENCH_DATE.fullmatch(text)
    try:
        if french:
            day, month, year, hour, minute, second = (int(n or 0) for n in french.groups())
            value = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        else:
            value = datetime.fromisoformat(text)
    except ValueError:
        raise _CellProblem(
            f"« {_shown(text)} » n'est pas une date reconnue : écrivez-la 01/05/2024 "
            "(jour/mois/année) ou 2024-05-01, avec l'heure si besoin (2024-05-01T14:30).",
            f'"{_shown(text)}" is not a date: write it 2024-05-01 or 01/05/2024 '
            "(day/month/year), with the time if needed (2024-05-01T14:30).",
        ) from None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if value > now:
        raise _CellProblem(
            f"La date « {_shown(text)} » est dans le futur : indiquez le jour où la personne "
            "est devenue cliente (01/05/2024 se lit jour/mois/année).",
            f'The date "{_shown(text)}" is in the future: enter the day the person became a '
            "client (01/05/2024 reads day/month/year).",
        )
    if value < _OLDEST:
        raise _CellProblem(
            f"La date « {_shown(text)} » est antérieure à 1900 : vérifiez l'année (4 chiffres).",
            f'The date "{_shown(text)}" is before 1900: check the year (4 digits).',
        )
    return value


def _check_orders(text: str) -> int:
    if not text:
        return 0
    if not _WHOLE_NUMBER.fullmatch(text):
        raise _CellProblem(
            f"« {_shown(text)} » n'est pas un nombre de commandes : écrivez un nombre entier "
            "(par exemple 3), ou laissez la cellule vide pour 0.",
            f'"{_shown(text)}" is not a number of orders: write a whole number (for example '
            "3), or leave the cell empty for 0.",
        )
    value = int(text)
    if value < 0:
        raise _CellProblem(
            f"Le nombre de commandes ne peut pas être négatif ({value}) : écrivez 0 ou plus.",
            f"The number of orders cannot be negative ({value}): write 0 or more.",
        )
    if value > MAX_ORDERS:
        raise _CellProblem(
            f"{value} commandes : nombre trop grand, vérifiez la cellule.",
            f"{value} orders: too large a number, check the cell.",
        )
    return value


def _check_segments(text: str) -> list[str]:
    if not text:
        return []
    segments = list(dict.fromkeys(s.strip() for s in _SEGMENT_SEPARATOR.split(text) if s.strip()))
    if len(segments) > MAX_SEGMENTS:
        raise _CellProblem(
            f"{len(segments)} segments : gardez-en au plus {MAX_SEGMENTS}, séparés par | ou ;.",
            f"{len(segments)} segments: keep at most {MAX_SEGMENTS}, separated by | or ;.",
        )
    for segment in segments:
        if len(segment) > MAX_SEGMENT_LENGTH:
            raise _CellProblem(
                f"Le segment « {_shown(segment)} » dépasse {MAX_SEGMENT_LENGTH} caractères : "
                "raccourcissez-le (plusieurs segments se séparent par | ou ;).",
                f'The segment "{_shown(segment)}" is longer than {MAX_SEGMENT_LENGTH} '
                "characters: shorten it (several segments are separated by | or ;).",
            )
    return segments


# --- Writing -----------------------------------------------------------------------------


INSERT_VERSION = sa.insert(tables.clientversion)


def _upsert_statement(dialect: str) -> Any:
    if dialect not in ("sqlite", "postgresql"):
        raise NotImplementedError(f"client import needs SQLite or PostgreSQL, not {dialect}")
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(_client)
    changed = ("client_since", "orders_count", "segments", "updated_at")
    return statement.on_conflict_do_update(
        index_elements=[_client.c.organizer_id, _client.c.email_key],
        set_={name: statement.excluded[name] for name in changed},
    )


def _write_batch(
    connection: Connection,
    upsert: Any,
    organizer_id: int,
    batch: dict[str, _Client],
    now: datetime,
    report: ImportReport,
) -> None:
    """One transaction: compares with what is stored, then upserts the new and changed rows
    and appends a version for each (the client table says what is known now, the versions
    what was known when)."""
    with connection.begin():
        stored = {
            row.email_key: (row.client_since, row.orders_count, list(row.segments or ()))
            for row in connection.execute(
                FIND_STORED, {"organizer_id": organizer_id, "keys": list(batch)}
            )
        }
        writes: list[_Client] = []
        for client in batch.values():
            before = stored.get(client.email_key)
            if before == tuple(client[1:]):
                report.unchanged += 1
                continue
            if before is None:
                report.created += 1
            else:
                report.updated += 1
            writes.append(client)
        if not writes:
            return
        if connection.dialect.name == "sqlite":
            _write_sqlite(connection, upsert, organizer_id, writes, now)
            return
        connection.execute(
            upsert,
            [{"organizer_id": organizer_id, "updated_at": now, **c._asdict()} for c in writes],
        )
        # The history: what the shop said, and when we learned it (contest.eligibility).
        connection.execute(
            INSERT_VERSION,
            [{"organizer_id": organizer_id, "learned_at": now, **c._asdict()} for c in writes],
        )


def _write_sqlite(
    connection: Connection, upsert: Any, organizer_id: int, writes: list[_Client], now: datetime
) -> None:
    """:func:`_write_batch`'s two statements through the driver's ``executemany``, in the same
    transaction, with the values as SQLAlchemy stores them in SQLite (naive UTC times with
    microseconds, JSON text), to spare its per-value type processing on large files."""
    columns = ("organizer_id", "email_key", "client_since", "orders_count", "segments")
    stored_now = _sqlite_time(now)
    rows = [
        (
            organizer_id,
            client.email_key,
            _sqlite_time(client.client_since),
            client.orders_count,
            json.dumps(client.segments) if client.segments else "[]",
            stored_now,
        )
        for client in writes
    ]
    connection.exec_driver_sql(_driver_sql(upsert, (*columns, "updated_at")), rows)
    # The history: what the shop said, and when we learned it (contest.eligibility).
    connection.exec_driver_sql(_driver_sql(INSERT_VERSION, (*columns, "learned_at")), rows)


def _driver_sql(statement: Any, columns: tuple[str, ...]) -> str:
    """``statement`` as SQLite's driver takes it, its parameters in the order of ``columns``."""
    compiled = statement.compile(dialect=sqlite.dialect(), column_keys=list(columns))
    if tuple(compiled.positiontup or ()) != columns:  # pragma: no cover - a changed statement
        raise AssertionError(f"unexpected parameter order {compiled.positiontup}")
    return str(compiled)


def _sqlite_time(value: datetime) -> str:
    """A time as SQLAlchemy's ``DateTime`` stores it in SQLite, in UTC (contest.columns)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def client_count(connection: Connection, organizer_id: int) -> int:
    """How many clients the organizer's list holds."""
    client = tables.client
    return int(
        connection.execute(
            sa.select(sa.func.count()).where(client.c.organizer_id == organizer_id)
        ).scalar_one()
    )


def client_page(connection: Connection, organizer_id: int, limit: int, offset: int) -> list[Any]:
    """``limit`` of the organizer's clients from ``offset``, by address: ``email_key``,
    ``client_since``, ``orders_count``, ``segments``."""
    query = (
        sa.select(*FIND_STORED.selected_columns)
        .where(_client.c.organizer_id == organizer_id)
        .order_by(_client.c.email_key)
        .limit(limit)
        .offset(offset)
    )
    return list(connection.execute(query).all())
