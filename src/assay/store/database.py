"""Engines, the schema's version, and the unit of work.

Alembic is loaded only to migrate, or to explain a schema that is not this version's: with
what it brings (Mako, Pygments) it is a tenth of a command's start-up, and a database at
`SCHEMA_HEAD` needs none of it."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from alembic.config import Config

DEFAULT_DATABASE_URL = "sqlite:///assay.db"
MIGRATIONS = Path(__file__).parent / "migrations"
SCHEMA_HEAD = "0008"  # the newest migration's revision (a test holds it to the scripts')


def database_url() -> str:
    return os.environ.get("ASSAY_DATABASE_URL") or DEFAULT_DATABASE_URL


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    url = url or database_url()
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _tune_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _tune_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling is turned off so that every transaction starts
    # with BEGIN IMMEDIATE: writers queue for the lock instead of failing half-way.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    check_upgradable(engine)
    command.upgrade(alembic_config(engine), revision)


@functools.cache
def _revisions() -> tuple[str, frozenset[str]]:
    """The head and every known revision: read from the migration scripts once per process."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(None))  # type: ignore[arg-type]
    return script.get_current_head(), frozenset(r.revision for r in script.walk_revisions())


def head_revision() -> str:
    return _revisions()[0]


def current_revision(engine: Engine) -> str | None:
    """The revision Alembic recorded in the database (its `alembic_version` table), if any."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(versions) > 1:
        raise SchemaOutOfDate(f"the database has several schema revisions at once ({', '.join(sorted(versions))})")
    return versions[0] if versions else None


class SchemaOutOfDate(Exception):
    pass


def known_revision(revision: str) -> bool:
    return revision in _revisions()[1]


def check_upgradable(engine: Engine) -> None:
    """A database at a revision this Assay does not know was written by a newer Assay (or by hand)."""
    current = current_revision(engine)
    if current is not None and not known_revision(current):
        where = engine.url.render_as_string(hide_password=True)
        raise SchemaOutOfDate(
            f"the database {where} is at schema revision {current}, which this Assay (up to {head_revision()}) "
            "does not know: it was written by a newer Assay; upgrade Assay, or use another database"
        )


def require_current_schema(engine: Engine) -> None:
    """Refuse to work on a database whose schema is not this version's, and say what to do."""
    current = current_revision(engine)
    if current == SCHEMA_HEAD:
        return
    head = head_revision()
    where = engine.url.render_as_string(hide_password=True)
    if current is None:
        raise SchemaOutOfDate(f"the database {where} has no Assay schema yet: run `assay db upgrade`")
    check_upgradable(engine)
    if current != head:
        raise SchemaOutOfDate(
            f"the database {where} is at schema revision {current}, this Assay needs {head}: run `assay db upgrade`"
        )
