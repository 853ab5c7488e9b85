"""Prepare a database for the demo and play the story on it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, inspect, select, text

from assay.demo.generator import generate
from assay.demo.story import START, play
from assay.domain.errors import DomainError
from assay.services.app import Assay
from assay.services.clock import ManualClock
from assay.services.ingest import Ingest
from assay.services.reports import Summary
from assay.store import database
from assay.store.tables import metadata

DEMO_MARK = ("world", "demo")
BOOKKEEPING = {"audit_head", "settings"}  # rows every migrated database has


DEMO_LISTINGS = 2000
DEMO_SEED = 2026


def run_demo(engine: Engine, *, snapshot: Path, reset: bool = False,
             say: Callable[[str], None] | None = None) -> Summary:
    """A generated marketplace, ingested as a marketplace would hand it over, then the story
    played on top of it by its cast of brands and sellers."""
    prepare(engine, reset=reset)
    clock = ManualClock(START)
    app = Assay(engine, clock=clock)
    generated = generate(snapshot, listings=DEMO_LISTINGS, seed=DEMO_SEED, labels=snapshot / "labels.jsonl")
    loaded = Ingest(app, snapshot, actor="marketplace:feed").run()
    if say:
        say(f"Marketplace: {generated.listings:,} listings by {generated.files['sellers.jsonl']} sellers for "
            f"{generated.files['brands.jsonl']} brands, generated into {snapshot} and ingested "
            f"({loaded.counts['listings'].created:,} new; {loaded.banned} sellers banned for links to banned rings; "
            f"detection suggested {loaded.suggested} listings to their brands).")
    story = play(app, clock, say)
    assert story.summary is not None
    return story.summary


def prepare(engine: Engine, *, reset: bool) -> None:
    """Start from an empty schema. A database that holds anything but an earlier demo is
    left alone unless `reset` says otherwise: the demo never eats real data by surprise."""
    if database.current_revision(engine) is not None:
        with Assay(engine).uow() as uow:
            holds_demo = uow.repo.setting(DEMO_MARK[0]) == DEMO_MARK[1]
            empty = not any(uow.session.execute(select(table).limit(1)).first()
                            for table in metadata.sorted_tables if table.name not in BOOKKEEPING)
        if not (holds_demo or empty or reset):
            where = engine.url.render_as_string(hide_password=True)
            raise DomainError(f"{where} holds data that is not the demo's; use another ASSAY_DATABASE_URL, "
                              "or pass --reset to replace it")
    drop_everything(engine)
    database.upgrade(engine)
    with Assay(engine).uow("demo") as uow:  # marked first, so an interrupted demo can be rerun
        uow.repo.set_setting(*DEMO_MARK)
        uow.commit()


def drop_everything(engine: Engine) -> None:
    metadata.drop_all(engine)
    if "alembic_version" in inspect(engine).get_table_names():
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE alembic_version"))
