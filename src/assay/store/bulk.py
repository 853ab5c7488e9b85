"""Many new rows at once, for bulk loads.

SQLAlchemy's executemany processes every parameter of every row through its compiled
statement, and psycopg sends it as one statement per row; for a batch of thousands of
rows that is most of a load's time. Here the values go through the columns' own bind
processors (so they are stored exactly as SQLAlchemy would store them) and then straight
to the driver: PostgreSQL's COPY, or one executemany on the sqlite3 cursor. Both run on
the connection's own transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import JSON, Column, Connection, Dialect, Engine, Table


def insert_many(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows that all name the same columns (every column they need: no defaults apply)."""
    if not rows:
        return
    dialect = connection.dialect
    names = list(rows[0])
    processors = [(i, _empty_once(p)) for i, name in enumerate(names) if (p := _processor(table.c[name], dialect))]
    values = []
    for row in rows:
        value = [row[name] for name in names]
        for i, process in processors:
            value[i] = process(value[i])
        values.append(value)
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    driver = connection.connection.driver_connection
    if dialect.name == "postgresql":
        with driver.cursor() as cursor, cursor.copy(f"COPY {quote(table.name)} ({columns}) FROM STDIN") as copy:
            for value in values:
                copy.write_row(value)
        return
    cursor = driver.cursor()
    try:
        cursor.executemany(f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({', '.join('?' * len(names))})",
                           values)
    finally:
        cursor.close()


def _processor(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """How SQLAlchemy would turn a value of the column into what the driver receives. Except for
    JSON on PostgreSQL: SQLAlchemy hands psycopg a wrapper that it serialises with json.dumps at
    every row; COPY takes the same text, serialised here once for all empty values."""
    if dialect.name == "postgresql" and isinstance(column.type, JSON):
        return lambda value: None if value is None else json.dumps(value)
    return column.type.dialect_impl(dialect).bind_processor(dialect)


def _empty_once(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`process`, computed once for each type of empty value: a listing without photos is
    common, and JSON-encoding its empty lists again and again is not free."""
    empty: dict[type, Any] = {}

    def processed(value: Any) -> Any:
        if value:
            return process(value)
        kind = type(value)
        if kind not in empty:
            empty[kind] = process(value)
        return empty[kind]

    return processed


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
            before = driver.execute("PRAGMA synchronous").fetchone()[0]
            driver.execute("PRAGMA synchronous=NORMAL")
        else:
            connection.exec_driver_sql("SET synchronous_commit TO off")
            connection.commit()
        try:
            yield connection
        finally:
            if connection.in_transaction():
                connection.rollback()
            if sqlite:
                driver.execute(f"PRAGMA synchronous={int(before)}")
            else:
                connection.exec_driver_sql("RESET synchronous_commit")
                connection.commit()
