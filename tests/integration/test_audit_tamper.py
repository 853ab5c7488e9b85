"""Tampering with the audit log behind Assay's back, with plain SQL, shows in
`assay audit verify`: it exits non-zero and names the first bad sequence number."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import Result
from rich.console import Console
from sqlalchemy import Engine, delete, insert, select, text, update
from sqlalchemy.engine import make_url
from tests.integration.world import World, build_world
from typer.testing import CliRunner

from assay import cli
from assay.cli import app as cli_app
from assay.domain.audit import event_hash
from assay.store.tables import audit_events

COLUMNS = [c.name for c in audit_events.columns if c.name != "seq"]


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps at the width it detects, which differs under xdist; fix it so output lines stay whole."""
    monkeypatch.setattr(cli, "console", Console(width=250))
    monkeypatch.setattr(cli, "err", Console(stderr=True, width=250))


def cli_url(backend) -> str:
    url = make_url(backend.url)
    if backend.connect_args.get("options"):
        url = url.update_query_dict({"options": backend.connect_args["options"]})
    return url.render_as_string(hide_password=False)


def verify(backend) -> Result:
    return CliRunner().invoke(cli_app, ["audit", "verify"],
                              env={"ASSAY_DATABASE_URL": cli_url(backend), "ASSAY_NOW": None})


def flat(result: Result) -> str:
    return " ".join(result.output.split())


def tampered(result: Result, seq: int, *words: str) -> None:
    """Refused, naming exactly `seq` as the first bad event, and saying what kind of tampering it looks like."""
    assert result.exit_code == 1, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    prefix = f"TAMPERED: audit log broken at sequence number {seq}: "
    out = flat(result)
    assert out.startswith(prefix), out
    for word in words:
        assert word in out[len(prefix):], (word, out)


@pytest.fixture
def history(app, clock) -> int:
    """Some real history through the use cases: enrolment, a seller, listings, notices and decisions.
    Returns the number of events logged."""
    world = build_world(app)
    world.seller("lux", phone="+86 138 0013 8000")
    for ref in ("L1", "L2", "L3"):
        world.listing(ref, "lux")
    result = world.file("L1", "L2")
    clock.advance(timedelta(hours=3))
    world.review(result.item_ids[0], reason="Replica wording.")
    world.review(result.item_ids[1], remove=False, reason="Genuine goods.")
    with app.engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM audit_events")).scalar_one()
        head = connection.execute(text("SELECT seq FROM audit_head")).scalar_one()
    assert count == head >= 15
    return count


@pytest.fixture
def db(backend) -> Engine:
    engine = backend.engine()
    yield engine
    engine.dispose()


def _row(engine: Engine, seq: int) -> dict[str, object]:
    with engine.connect() as connection:
        return dict(connection.execute(select(audit_events).where(audit_events.c.seq == seq)).one()._mapping)


def test_the_intact_log_verifies_and_counts_its_events(backend, history):
    result = verify(backend)
    assert result.exit_code == 0, result.output
    assert flat(result) == f"audit log intact: {history} events, chain verified"


# (a) an edit ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("change", [
    {"reason": "nothing to see here"},
    {"actor": "reviewer:someone-else"},
    {"after": {"state": "declined"}},
])
def test_an_edited_row_is_named(backend, db, history, change):
    seq = history // 2
    before = _row(db, seq)
    assert any(before[k] != v for k, v in change.items()), "the edit must change something"
    with db.begin() as connection:
        connection.execute(update(audit_events).where(audit_events.c.seq == seq).values(**change))
    tampered(verify(backend), seq, "edited")


def test_an_edit_in_raw_sql_is_named(backend, db, history):
    with db.begin() as connection:
        connection.execute(text("UPDATE audit_events SET reason = 'no reason', actor = 'admin' WHERE seq = 3"))
    tampered(verify(backend), 3, "edited")


def test_every_column_is_covered_by_the_hash_and_undoing_the_edit_restores_the_chain(backend, db, history):
    seq = history - 2
    original = _row(db, seq)
    edits = {
        "at": original["at"] - timedelta(seconds=1), "actor": "someone", "action": "item.decline",
        "entity_type": "listing", "entity_id": "424242", "before": {"state": "forged"},
        "after": {"state": "forged"}, "reason": "forged", "request_id": "forged-request",
    }
    assert set(edits) == set(COLUMNS) - {"prev_hash", "hash"}
    for column, value in edits.items():
        assert original[column] != value, column
        with db.begin() as connection:
            connection.execute(update(audit_events).where(audit_events.c.seq == seq).values({column: value}))
        tampered(verify(backend), seq, "edited")
        with db.begin() as connection:
            connection.execute(update(audit_events).where(audit_events.c.seq == seq)
                               .values({column: original[column]}))
        assert verify(backend).exit_code == 0, column


def test_an_edit_whose_hash_is_recomputed_breaks_the_link_to_the_next_event(backend, db, history):
    seq = history // 2
    row = _row(db, seq)
    row.update(reason="rewritten")
    forged = event_hash(**{k: v for k, v in row.items() if k != "hash"})
    with db.begin() as connection:
        connection.execute(update(audit_events).where(audit_events.c.seq == seq).values(reason="rewritten",
                                                                                       hash=forged))
    tampered(verify(backend), seq + 1, "does not follow")


def test_an_edit_of_the_last_event_with_its_hash_recomputed_is_caught_by_the_head(backend, db, history):
    row = _row(db, history)
    row.update(actor="nobody")
    forged = event_hash(**{k: v for k, v in row.items() if k != "hash"})
    with db.begin() as connection:
        connection.execute(update(audit_events).where(audit_events.c.seq == history).values(actor="nobody",
                                                                                           hash=forged))
    tampered(verify(backend), history, "not the one recorded")


# (b), (c) deletions --------------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["first", "middle"])
def test_a_deleted_row_is_named(backend, db, history, where):
    seq = 1 if where == "first" else history // 2
    with db.begin() as connection:
        connection.execute(delete(audit_events).where(audit_events.c.seq == seq))
    tampered(verify(backend), seq, "missing", "deleted")


def test_several_deleted_rows_name_the_first(backend, db, history):
    with db.begin() as connection:
        connection.execute(text("DELETE FROM audit_events WHERE seq IN (:a, :b, :c)"), {"a": 4, "b": 5, "c": 9})
    tampered(verify(backend), 4, "missing", "deleted")


def test_a_deleted_last_row_is_caught_by_the_head(backend, db, history):
    with db.begin() as connection:
        connection.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": history})
    tampered(verify(backend), history, f"ends at {history - 1}", f"{history} events were recorded", "deleted")


def test_the_whole_tail_deleted_is_caught_by_the_head(backend, db, history):
    with db.begin() as connection:
        connection.execute(text("DELETE FROM audit_events WHERE seq > 5"))
    tampered(verify(backend), 6, "ends at 5", f"{history} events were recorded", "deleted")


# (d) reordering ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("first", "second"), [(3, 8), (6, 7)])
def test_two_rows_swapped_are_named_at_the_first(backend, db, history, first, second):
    """The contents of two rows trade places, every column but the sequence number."""
    a, b = _row(db, first), _row(db, second)
    with db.begin() as connection:
        connection.execute(update(audit_events).where(audit_events.c.seq == first).values(**{k: b[k] for k in COLUMNS}))
        connection.execute(update(audit_events).where(audit_events.c.seq == second).values(**{k: a[k] for k in COLUMNS}))
    tampered(verify(backend), first, "does not follow")


def test_two_rows_renumbered_into_each_others_place_are_named(backend, db, history):
    with db.begin() as connection:
        connection.execute(text("UPDATE audit_events SET seq = -1 WHERE seq = 4"))
        connection.execute(text("UPDATE audit_events SET seq = 4 WHERE seq = 10"))
        connection.execute(text("UPDATE audit_events SET seq = 10 WHERE seq = -1"))
    tampered(verify(backend), 4, "does not follow")


# (e) an insertion ----------------------------------------------------------------------------------

def test_a_well_forged_row_appended_at_the_end_is_caught_by_the_head(backend, db, history):
    last = _row(db, history)
    fields = dict(seq=history + 1, at=last["at"] + timedelta(minutes=1), actor="reviewer", action="item.remove",
                  entity_type="notice_item", entity_id="1", before={"state": "declined"},
                  after={"state": "removed"}, reason="forged", request_id=None, prev_hash=last["hash"])
    with db.begin() as connection:
        connection.execute(insert(audit_events).values(**fields, hash=event_hash(**fields)))
    tampered(verify(backend), history + 1, f"only {history} events were recorded", "added outside Assay")


def test_a_crude_row_appended_at_the_end_is_named(backend, db, history):
    last = _row(db, history)
    with db.begin() as connection:
        connection.execute(insert(audit_events).values(
            seq=history + 1, at=last["at"], actor="x", action="x", entity_type="x", entity_id="x",
            before=None, after=None, reason=None, request_id=None, prev_hash="f" * 64, hash="e" * 64))
    result = verify(backend)
    assert result.exit_code == 1
    assert f"broken at sequence number {history + 1}:" in flat(result)


def test_verifying_changes_nothing_and_new_events_still_chain_on(backend, app, db, history):
    assert flat(verify(backend)) == f"audit log intact: {history} events, chain verified"
    assert flat(verify(backend)) == f"audit log intact: {history} events, chain verified"
    World(app).seller("another")
    with db.connect() as connection:
        now = connection.execute(text("SELECT count(*) FROM audit_events")).scalar_one()
    assert now > history
    result = verify(backend)
    assert result.exit_code == 0
    assert flat(result) == f"audit log intact: {now} events, chain verified"
