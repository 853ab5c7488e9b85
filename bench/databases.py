"""A fresh database for one benchmark run: a SQLite file, or a PostgreSQL schema of its own."""

from __future__ import annotations

import atexit
import os
from pathlib import Path

from sqlalchemy import text

from assay.store import database

POSTGRES = os.environ.get("ASSAY_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def fresh_database(kind: str, workdir: Path, name: str) -> str:
    """The URL of an empty database called `name`, for this run alone: on PostgreSQL a schema
    named after the process too (two runs at once must not drop each other's), dropped when
    the run ends."""
    if kind == "sqlite":
        return f"sqlite:///{workdir / name}.db"
    schema = f"bench_{name}_{os.getpid()}"
    _run(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE', f'CREATE SCHEMA "{schema}"')
    atexit.register(_run, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    return f"{POSTGRES}?options=-csearch_path%3D{schema}"


def _run(*statements: str) -> None:
    engine = database.make_engine(POSTGRES)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()
