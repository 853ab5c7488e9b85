"""A fresh database for one benchmark run: a SQLite file, or a PostgreSQL schema of its own."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import text

from assay.store import database

POSTGRES = os.environ.get("ASSAY_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def fresh_database(kind: str, workdir: Path, name: str) -> str:
    """The URL of an empty database called `name`, dropping whatever an earlier run left."""
    if kind == "sqlite":
        return f"sqlite:///{workdir / name}.db"
    engine = database.make_engine(POSTGRES)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "bench_{name}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "bench_{name}"'))
    engine.dispose()
    return f"{POSTGRES}?options=-csearch_path%3Dbench_{name}"
