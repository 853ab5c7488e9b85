"""Fixtures: every integration test runs once on SQLite and once on PostgreSQL.

The schema is migrated once per backend and worker (Alembic, as in production);
each test then starts from an empty copy: a copied SQLite file, or truncated
PostgreSQL tables in a schema of the worker's own."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from assay.services.app import Assay
from assay.services.clock import ManualClock
from assay.store import database
from assay.store.tables import metadata

POSTGRES_URL = os.environ.get("ASSAY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = [b.strip() for b in os.environ.get("ASSAY_TEST_DATABASES", "sqlite,postgresql").split(",") if b.strip()]
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)


@dataclass
class Backend:
    name: str
    url: str
    connect_args: dict[str, str]

    @property
    def standalone_url(self) -> str:
        """One URL that also selects the schema, for a CLI run or a child process."""
        if not self.connect_args:
            return self.url
        from urllib.parse import quote

        return f"{self.url}?options={quote(self.connect_args['options'])}"

    def engine(self) -> Engine:
        return database.make_engine(self.url, connect_args=self.connect_args) if self.connect_args \
            else database.make_engine(self.url)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = database.make_engine(f"sqlite:///{path}")
    database.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[Backend]:
    schema = f"assay_test_{_worker()}_{os.getpid()}"  # concurrent runs must not share a schema
    admin = database.make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    backend = Backend("postgresql", POSTGRES_URL, {"options": f"-csearch_path={schema}"})
    engine = backend.engine()
    database.upgrade(engine)
    engine.dispose()
    yield backend
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def empty_database(request: pytest.FixtureRequest, directory: Path) -> Backend:
    """A migrated, empty database of the requested backend: a copy of the SQLite template in
    `directory`, or the worker's PostgreSQL schema with every table emptied."""
    if request.param == "sqlite":
        target = directory / "assay.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return Backend("sqlite", f"sqlite:///{target}", {})
    backend = request.getfixturevalue("postgres_schema")
    engine = backend.engine()
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        connection.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :h)"), {"h": "0" * 64})
    engine.dispose()
    return backend


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """A migrated, empty database on each backend."""
    return empty_database(request, tmp_path)


@pytest.fixture
def engine(backend: Backend) -> Iterator[Engine]:
    engine = backend.engine()
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def app(engine: Engine, clock: ManualClock) -> Assay:
    return Assay(engine, clock=clock)
