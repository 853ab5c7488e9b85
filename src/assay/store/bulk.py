"""Many new rows at once: bulk loads, and the rows of a notice filed in bulk.

SQLAlchemy's executemany processes every parameter of every row through its compiled
statement, and psycopg sends it as one statement per row; for a batch of thousands of
rows that is most of a load's time. Here the values go through the columns' own bind
processors (so they are stored exactly as SQLAlchemy would store them) and then straight
to the driver: PostgreSQL's COPY, or one executemany on the sqlite3 cursor. Both run on
the connection's own transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import timezone
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import JSON, Column, Connection, DateTime, Dialect, Engine, Numeric, Table
from sqlalchemy.exc import DBAPIError

from assay.store.types import Money, UTCDateTime


def insert_rows(
    connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]] | Sequence[NamedTuple], *,
    json_text: Collection[str] = (),
) -> None:
    """Insert rows that all name the same columns (every column they need: no defaults apply):
    mappings, or named tuples (cheaper to make by the thousand) whose fields are the columns.
    Those named in `json_text` hold JSON already serialised. A row that breaks a constraint
    raises SQLAlchemy's error for it (IntegrityError...), as a statement through it would."""
    if not rows:
        return
    dialect = connection.dialect
    named = isinstance(rows[0], tuple)
    names = list(rows[0]._fields if named else rows[0])  # type: ignore[union-attr]
    processors = [(i, process) for i, name in enumerate(names)
                  if name not in json_text and (process := _processor(table.c[name], dialect))]
    values: Sequence[Sequence[Any]]
    if named:
        values = rows  # type: ignore[assignment]
    else:
        values = list(map(itemgetter(*names), rows)) if len(names) > 1 else [(row[names[0]],) for row in rows]
    if processors:  # column by column: one call of `map` per column instead of a Python loop per value
        columns = list(zip(*values, strict=True))
        for i, process in processors:
            columns[i] = tuple(map(process, columns[i]))
        values = list(zip(*columns, strict=True))
    quote = dialect.identifier_preparer.quote
    into = f"{quote(table.name)} ({', '.join(quote(name) for name in names)})"
    driver = connection.connection.driver_connection
    statement = f"COPY {into} FROM STDIN" if dialect.name == "postgresql" else \
        f"INSERT INTO {into} VALUES ({', '.join('?' * len(names))})"
    try:
        if dialect.name == "postgresql":
            with driver.cursor() as cursor, cursor.copy(statement) as copy:
                for value in values:
                    copy.write_row(value)
        else:
            cursor = driver.cursor()
            try:
                cursor.executemany(statement, values)
            finally:
                cursor.close()
    except dialect.loaded_dbapi.Error as error:
        # as SQLAlchemy raises the driver's errors, so that a lost race reads as an IntegrityError
        raise DBAPIError.instance(statement, None, error, dialect.loaded_dbapi.Error) from error


SEEN_ONCE = (DateTime, Numeric, UTCDateTime, Money)  # a listing's time of creation, its price


def _processor(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """How SQLAlchemy would turn a value of the column into what the driver receives, remembered
    for the values that repeat: JSON's empty values and nothing, any other hashable value (a
    state, a flag) but times and amounts, which seldom repeat in a batch. JSON on PostgreSQL is serialised here as SQLAlchemy would (json.dumps;
    nothing as JSON null), rather than handed to psycopg in a wrapper it serialises row by row."""
    if dialect.name == "postgresql" and isinstance(column.type, JSON):
        return _remember_empty(json.dumps)
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return None
    if dialect.name == "sqlite" and isinstance(column.type, UTCDateTime):
        return _sqlite_utc(process)
    if isinstance(column.type, JSON):
        return _remember_empty(process)
    if isinstance(column.type, SEEN_ONCE):
        return process
    converted: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        if value not in converted:
            converted[value] = process(value)
        return converted[value]

    return convert


def _sqlite_utc(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`process` for a UTCDateTime on SQLite, with a shortcut for times already in UTC (a feed's
    mostly are): the text SQLAlchemy's DATETIME would store, in one call rather than through a
    format of seven fields (a fifth of the cost; the tests hold it to SQLAlchemy's)."""

    def processed(value: Any) -> Any:
        if value is not None and value.tzinfo is timezone.utc:
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")
        return process(value)

    return processed


def _remember_empty(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`process`, computed once for each kind of empty value (nothing, [], {}): a listing without
    photos is common, and serialising its empty lists again and again is not free."""
    empty: dict[type, Any] = {}

    def processed(value: Any) -> Any:
        if value:
            return process(value)
        kind = type(value)
        if kind not in empty:
            empty[kind] = process(value)
        return empty[kind]

    return processed


# SQLite, for the load's connection: commits that do not wait for the disk; a page cache of 64 MB
# (the default 2 MB, against a million listings' indexes, sent every other page back to the
# operating system); and the write-ahead log copied into the database every 64 MB rather than
# every 4 MB, each copy being a wait for the disk.
SQLITE_LOAD_PRAGMAS = {"synchronous": "1", "cache_size": "-65536", "wal_autocheckpoint": "16384"}


@contextmanager
def bulk_load(engine: Engine) -> Iterator[Connection]:
    """A connection for a bulk load that commits in batches with its own checkpoint. Commits
    do not wait for the disk (SQLite in WAL mode with synchronous=NORMAL, PostgreSQL with
    synchronous_commit off): a crash of the load itself loses nothing, and a power loss or a
    server crash loses at most the last few batches, never consistency, and since each
    checkpoint commits with its batch, the load resumes from the last one that survived."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # on the driver's connection: SQLAlchemy's would open a transaction, where this cannot change
            driver = connection.connection.driver_connection
            before = {name: driver.execute(f"PRAGMA {name}").fetchone()[0] for name in SQLITE_LOAD_PRAGMAS}
            for name, value in SQLITE_LOAD_PRAGMAS.items():
                driver.execute(f"PRAGMA {name}={value}")
        else:
            connection.exec_driver_sql("SET synchronous_commit TO off")
            connection.commit()
        try:
            yield connection
        finally:
            if connection.in_transaction():
                connection.rollback()
            if sqlite:
                for name, value in before.items():
                    driver.execute(f"PRAGMA {name}={int(value)}")
            else:
                connection.exec_driver_sql("RESET synchronous_commit")
                connection.commit()
