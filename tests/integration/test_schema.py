"""The schema's version: Assay refuses to work on a database whose schema is missing or
not its own, says what to do, and `assay db upgrade` builds the same schema on SQLite and
PostgreSQL. Each test uses a database of its own: a new SQLite file, or a PostgreSQL
schema created and dropped here (the shared fixture database is never touched)."""

from __future__ import annotations

import gc
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from rich.console import Console
from sqlalchemy import Engine, UniqueConstraint, inspect, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from assay import cli
from assay.cli import app as cli_app
from assay.domain.audit import GENESIS_HASH
from assay.store import database
from assay.store.tables import metadata

POSTGRES_URL = os.environ.get("ASSAY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = [b.strip() for b in os.environ.get("ASSAY_TEST_DATABASES", "sqlite,postgresql").split(",") if b.strip()]
HEAD = database.head_revision()
ASSAY_TABLES = set(metadata.tables)


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps at the width it detects, which differs under xdist; fix it so output lines stay whole."""
    monkeypatch.setattr(cli, "console", Console(width=250))
    monkeypatch.setattr(cli, "err", Console(stderr=True, width=250))


@dataclass
class Fresh:
    name: str
    url: str  # selects the database (and, for PostgreSQL, the schema) on its own
    engine: Engine

    def tables(self) -> set[str]:
        return set(inspect(self.engine).get_table_names())


@contextmanager
def fresh_database(kind: str, tmp_path: Path) -> Iterator[Fresh]:
    """An empty database: no tables at all."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / f'fresh-{uuid.uuid4().hex[:8]}.db'}"
        engine = database.make_engine(url)
        try:
            yield Fresh(kind, url, engine)
        finally:
            engine.dispose()
        return
    schema = f"assay_fresh_{uuid.uuid4().hex[:12]}"
    admin = database.make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = database.make_engine(url.render_as_string(hide_password=False))
    try:
        yield Fresh(kind, url.render_as_string(hide_password=False), engine)
    finally:
        engine.dispose()
        gc.collect()  # engines the CLI made and dropped: close their pooled connections
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Fresh]:
    with fresh_database(request.param, tmp_path) as db:
        yield db


def run(db: Fresh, *args: str) -> Result:
    return CliRunner().invoke(cli_app, list(args), env={"ASSAY_DATABASE_URL": db.url, "ASSAY_NOW": None})


def flat(result: Result) -> str:
    return " ".join(result.output.split())


def where(db: Fresh) -> str:
    return db.engine.url.render_as_string(hide_password=True)


# -- no schema yet -----------------------------------------------------------------------------------

COMMANDS = [
    ["report"],
    ["review", "queue"],
    ["audit", "verify"],
    ["seller", "show", "1"],
    ["holder", "enroll", "Quorvex Sports Ltd", "--email", "bp@quorvex.example"],
    ["worker", "--once"],
]


def test_on_an_empty_database_every_command_but_db_upgrade_says_to_run_it(fresh):
    assert fresh.tables() == set()
    for command in COMMANDS:
        result = run(fresh, *command)
        assert result.exit_code == 2, (command, result.output, result.exception)
        assert isinstance(result.exception, SystemExit), (command, result.exception)
        out = flat(result)
        assert out.startswith("error:") and where(fresh) in out, out
        assert "no Assay schema yet: run `assay db upgrade`" in out, out
        assert result.stdout == ""  # the error is on stderr
    assert fresh.tables() == set()  # and none of them created anything behind the person's back

    result = run(fresh, "db", "current")
    assert result.exit_code == 2
    assert "schema none" in flat(result) and f"needs {HEAD}" in flat(result)


# -- an older schema -------------------------------------------------------------------------------

def test_a_database_at_an_older_revision_names_both_revisions_and_says_to_upgrade(fresh):
    database.upgrade(fresh.engine, "0001")  # a real older schema, as an earlier Assay left it
    for command in (["report"], ["audit", "verify"], ["review", "queue"]):
        result = run(fresh, *command)
        assert result.exit_code == 2, (command, result.output)
        assert isinstance(result.exception, SystemExit)
        out = flat(result)
        assert out.startswith("error:") and where(fresh) in out, out
        assert "schema revision 0001" in out and f"needs {HEAD}" in out, out
        assert out.endswith("run `assay db upgrade`"), out
    result = run(fresh, "db", "current")
    assert result.exit_code == 2
    assert "schema 0001" in flat(result) and f"needs {HEAD}" in flat(result)
    assert run(fresh, "db", "upgrade").exit_code == 0
    assert run(fresh, "report").exit_code == 0


def test_a_database_from_a_newer_assay_is_refused_clearly(fresh):
    assert run(fresh, "db", "upgrade").exit_code == 0
    with fresh.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    for command in (["db", "upgrade"], ["report"]):
        result = run(fresh, *command)
        assert result.exit_code == 2
        assert isinstance(result.exception, SystemExit), f"uncaught {result.exception!r}"
        assert "schema revision 0000, which this Assay" in flat(result) and "newer Assay" in flat(result)


# -- db upgrade ------------------------------------------------------------------------------------

def test_db_upgrade_creates_the_schema_and_is_idempotent(fresh):
    assert fresh.tables() == set()
    result = run(fresh, "db", "upgrade")
    assert result.exit_code == 0, (result.output, result.exception)
    assert flat(result) == f"{where(fresh)}: schema empty -> {HEAD}", flat(result)
    assert fresh.tables() == ASSAY_TABLES | {"alembic_version"}
    assert database.current_revision(fresh.engine) == HEAD
    with fresh.engine.connect() as connection:
        assert connection.execute(text("SELECT id, seq, hash FROM audit_head")).all() == [(1, 0, GENESIS_HASH)]

    result = run(fresh, "db", "upgrade")
    assert result.exit_code == 0, (result.output, result.exception)
    assert flat(result) == f"{where(fresh)}: schema {HEAD}, already current"
    assert fresh.tables() == ASSAY_TABLES | {"alembic_version"}
    with fresh.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_head")).scalar_one() == 1  # not seeded twice
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD]

    current = run(fresh, "db", "current")
    assert current.exit_code == 0 and f"schema {HEAD}" in flat(current)
    report = run(fresh, "report")
    assert report.exit_code == 0, report.output
    assert "notice items" in flat(report)
    verify = run(fresh, "audit", "verify")
    assert verify.exit_code == 0 and "audit log intact: 0 events" in flat(verify)


def _shape(engine: Engine) -> dict[str, dict[str, object]]:
    """What the migrations built, as the database itself reports it."""
    inspector = inspect(engine)
    shape = {}
    for table in inspector.get_table_names():
        shape[table] = {
            "columns": sorted((c["name"], c["nullable"]) for c in inspector.get_columns(table)),
            "primary key": sorted(inspector.get_pk_constraint(table)["constrained_columns"]),
            # PostgreSQL also lists each unique constraint's own index; those are compared as constraints.
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                              for i in inspector.get_indexes(table) if "duplicates_constraint" not in i),
            "unique": sorted((u["name"], tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)),
            "foreign keys": sorted((tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                                   for f in inspector.get_foreign_keys(table)),
        }
    return shape


@pytest.mark.skipif(not {"sqlite", "postgresql"} <= set(BACKENDS), reason="needs both SQLite and PostgreSQL")
def test_the_same_migrations_build_the_same_schema_on_sqlite_and_postgresql(tmp_path):
    shapes = {}
    for kind in ("sqlite", "postgresql"):
        with fresh_database(kind, tmp_path) as db:
            result = run(db, "db", "upgrade")
            assert result.exit_code == 0, (kind, result.output, result.exception)
            shapes[kind] = _shape(db.engine)
    sqlite, postgresql = shapes["sqlite"], shapes["postgresql"]

    assert set(sqlite) == set(postgresql) == ASSAY_TABLES | {"alembic_version"}
    for name, table in metadata.tables.items():
        assert [c for c, _ in sqlite[name]["columns"]] == sorted(table.columns.keys()), name
        assert sorted(sqlite[name]["primary key"]) == sorted(c.name for c in table.primary_key.columns), name
        assert {i for i, _, _ in sqlite[name]["indexes"]} == {i.name for i in table.indexes}, name
        assert sqlite[name]["foreign keys"] == sorted(
            (tuple(f.column_keys), f.referred_table.name, tuple(e.column.name for e in f.elements))
            for f in table.foreign_key_constraints), name
        assert {u for u, _ in sqlite[name]["unique"]} == {
            c.name for c in table.constraints if isinstance(c, UniqueConstraint)}, name
    for name in sorted(sqlite):
        for aspect in sqlite[name]:
            assert sqlite[name][aspect] == postgresql[name][aspect], (name, aspect)


def test_the_schema_head_known_without_alembic_is_the_newest_migration():
    # The start-up check compares the database with this constant, so that no command loads
    # Alembic to learn what the scripts say: a new migration must move it too.
    assert database.SCHEMA_HEAD == HEAD
