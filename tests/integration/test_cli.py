"""The `assay` command, driven as a person would from the shell (README, 'Driving a case
from the shell'), on SQLite and on PostgreSQL. Every command opens the database named by
ASSAY_DATABASE_URL, exactly as the installed console script does."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import Result
from rich.console import Console
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from assay import cli
from assay.cli import app as cli_app
from assay.domain.model import Listing, ListingStatus, Seller, SellerStatus
from assay.domain.notices import ItemState, Notice, NoticeItem
from assay.domain.policies import Policy
from assay.services.app import Assay

NOW = "2026-06-01T09:00:00+00:00"
LATER = "2030-01-01T00:00:00+00:00"  # far past every deadline of the case, before the right expires


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps at the width it detects, which differs under xdist; fix it so output lines stay whole."""
    monkeypatch.setattr(cli, "console", Console(width=250))
    monkeypatch.setattr(cli, "err", Console(stderr=True, width=250))


def cli_url(backend) -> str:
    """A URL that selects the backend's database on its own: for PostgreSQL the test schema
    travels in the URL as libpq `options`, which SQLAlchemy passes through to psycopg."""
    url = make_url(backend.url)
    if backend.connect_args.get("options"):
        url = url.update_query_dict({"options": backend.connect_args["options"]})
    return url.render_as_string(hide_password=False)


def run(url: str, *args: str, now: str | None = NOW) -> Result:
    env = {"ASSAY_DATABASE_URL": url, "ASSAY_NOW": now}
    return CliRunner().invoke(cli_app, list(args), env=env)


def flat(result: Result) -> str:
    """All the command wrote (stdout and stderr), whitespace normalised so rich's wrapping does not matter."""
    return " ".join(result.output.split())


def ok(result: Result) -> str:
    assert result.exit_code == 0, f"exit {result.exit_code}: {result.output}\n{result.exception!r}"
    return flat(result)


def failed_cleanly(result: Result, code: int = 1) -> str:
    """A refusal: the expected exit code, an error on stderr, and no stack trace."""
    assert result.exit_code == code, f"exit {result.exit_code}: {result.output}\n{result.exception!r}"
    assert isinstance(result.exception, SystemExit), f"uncaught {result.exception!r}"
    assert "Traceback" not in result.output
    assert result.stderr.strip().startswith("error:"), result.output
    return flat(result)


def number(pattern: str, output: str) -> int:
    found = re.search(pattern, output)
    assert found, f"{pattern!r} not in {output!r}"
    return int(found.group(1))


@pytest.fixture
def url(backend) -> str:
    return cli_url(backend)


@pytest.fixture
def assay(backend):
    engine = backend.engine()
    yield Assay(engine)
    engine.dispose()


def setup_case(url: str) -> dict[str, int]:
    """The README's first steps: a holder with a verified right, a seller and its listing."""
    ids = {}
    ids["holder"] = number(r"rights holder (\d+) enrolled", ok(run(
        url, "holder", "enroll", "Quorvex Sports Ltd", "--email", "bp@quorvex.example", "--good-faith")))
    ids["right"] = number(r"right (\d+) added, pending verification", ok(run(
        url, "right", "add", "--holder", str(ids["holder"]), "--mark", "QUORVEX", "--office", "EUIPO",
        "--number", "018000001", "--category", "footwear", "--class", "25", "--expires", "2034-06-30")))
    assert f"right {ids['right']} verified" in ok(run(url, "right", "verify", str(ids["right"]),
                                                      "--actor", "coalition:admin"))
    ids["seller"] = number(r"seller (\d+) saved", ok(run(
        url, "seller", "upsert", "--marketplace", "bazaar", "--id", "s-lux", "--store-name", "LuxDeals",
        "--phone", "+86 138 0013 8000")))
    ids["listing"] = number(r"listing (\d+) saved", ok(run(
        url, "listing", "upsert", "--marketplace", "bazaar", "--id", "L-1", "--seller", "s-lux",
        "--title", "QUORVEX replica AAA", "--category", "footwear", "--price", "19.90", "--currency", "USD")))
    return ids


NOTICE = ("--type", "counterfeit", "--explanation", "Replica of the Quorvex Stride 1", "--signature", "J. Doe")


def file_notice(url: str, ids: dict[str, int], *extra: str, listing: str = "bazaar:L-1") -> Result:
    return run(url, "notice", "file", "--holder", str(ids["holder"]), "--right", str(ids["right"]),
               "--listing", listing, *NOTICE, *extra)


def _listing(assay: Assay, ref: str = "L-1") -> Listing:
    with assay.uow() as uow:
        listing = uow.repo.listing_by_ref("bazaar", ref)
        assert listing is not None
        return listing


def _item(assay: Assay, item_id: int) -> NoticeItem:
    with assay.uow() as uow:
        return uow.repo.get(NoticeItem, item_id)


# -- the whole case ----------------------------------------------------------------------------------

def test_the_readme_case_end_to_end_from_the_shell(backend, url, assay):
    out = ok(run(url, "db", "upgrade"))
    assert "already current" in out  # the fixture's database is migrated already
    ids = setup_case(url)
    with assay.uow() as uow:
        seller = uow.repo.get(Seller, ids["seller"])
        assert (seller.seller_ref, seller.store_name, seller.status) == ("s-lux", "LuxDeals", SellerStatus.ACTIVE)
    assert _listing(assay).id == ids["listing"]
    assert _listing(assay).status is ListingStatus.ACTIVE

    out = ok(file_notice(url, ids, "--good-faith", "--accurate"))
    notice_id = number(r"notice (\d+) filed in the standard lane", out)
    item_id = number(r"queued for review: \[(\d+)\]", out)
    assert "removed at once: none" in out  # a new filer has no record: a person decides

    out = ok(run(url, "review", "queue"))
    due = (datetime.fromisoformat(NOW) + Policy().windows.review).isoformat(timespec="minutes")
    row = re.search(rf"│ {item_id} +│ {notice_id} +│ {ids['listing']} +│ in_review +│ {re.escape(due)} ", out)
    assert row, out

    out = ok(run(url, "review", "decide", str(item_id), "--remove", "--reason", "Replica wording, a tenth of the MSRP"))
    assert f"item {item_id}: removed" in out
    assert _listing(assay).status is ListingStatus.REMOVED
    assert f"│ {item_id} " not in ok(run(url, "review", "queue"))  # decided: off the queue

    out = ok(run(url, "counter-notice", str(item_id), "--seller", str(ids["seller"]),
                 "--statement", "Bought from an authorised dealer, receipt attached", "--signature", "Chen Wei"))
    assert f"item {item_id}: contested" in out

    # Before the rights holder's reply deadline the worker leaves the listing down ...
    out = ok(run(url, "worker", "--once", now="2026-06-02T09:00:00+00:00"))
    assert "reinstated 0" in out
    assert _listing(assay).status is ListingStatus.REMOVED
    # ... and once ASSAY_NOW is far past it, the silent rights holder loses: the listing goes back up.
    out = ok(run(url, "worker", "--once", now=LATER))
    assert "reinstated 1" in out and "failed" not in out
    assert _listing(assay).status is ListingStatus.REINSTATED
    assert _item(assay, item_id).state is ItemState.REINSTATED
    assert "reinstated 0" in ok(run(url, "worker", "--once", now=LATER))  # nothing left to do

    out = ok(run(url, "seller", "show", str(ids["seller"]), now=LATER))
    assert "LuxDeals (s-lux): active" in out
    assert "strikes: 0 standing of 1" in out  # the reversed removal withdrew its strike
    assert out.count("Decision:") == 3
    assert "Decision: listing removed (listing L-1, 'QUORVEX replica AAA'" in out
    assert "Reviewer's note: Replica wording, a tenth of the MSRP" in out
    assert "Infringement of trademark 'QUORVEX', EUIPO registration 018000001" in out
    assert "Decision: seller warned" in out
    assert "Decision: listing reinstated (listing L-1" in out
    assert "did not answer your counter-notice" in out
    assert out.index("listing removed") < out.index("listing reinstated")

    out = ok(run(url, "audit", "trail", "notice_item", str(item_id)))
    actions = ["item.filed", "item.queue_for_review", "item.remove", "item.counter_notice", "item.lapse"]
    positions = [out.index(f" {action} ") for action in actions]
    assert positions == sorted(positions), out
    assert "Bought from an authorised dealer" in out and " worker " in out
    out = ok(run(url, "audit", "trail", "listing", str(ids["listing"])))
    assert [a for a in ("listing.created", "listing.removed", "listing.reinstated") if a in out] == \
        ["listing.created", "listing.removed", "listing.reinstated"]

    with assay.engine.connect() as connection:
        events = connection.execute(text("SELECT count(*) FROM audit_events")).scalar_one()
    assert events > 10
    out = ok(run(url, "audit", "verify"))
    assert f"audit log intact: {events} events" in out

    out = ok(run(url, "notice", "show", str(notice_id)))
    assert re.search(rf"│ {item_id} +│ {ids['listing']} +│ reinstated ", out), out


def test_seller_upsert_again_updates_the_same_seller(url, assay):
    first = number(r"seller (\d+) saved", ok(run(url, "seller", "upsert", "--marketplace", "bazaar",
                                                 "--id", "s-x", "--store-name", "Old name")))
    again = number(r"seller (\d+) saved", ok(run(url, "seller", "upsert", "--marketplace", "bazaar",
                                                 "--id", "s-x", "--store-name", "New name")))
    assert again == first
    with assay.uow() as uow:
        assert [s.store_name for s in uow.repo.all(Seller)] == ["New name"]


# -- bad input: a clear error, exit 1, no stack trace ------------------------------------------------------

def test_a_notice_without_good_faith_is_kept_as_incomplete_naming_what_is_missing(url, assay):
    ids = setup_case(url)
    result = file_notice(url, ids, "--accurate")
    out = flat(result)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 1
    notice_id = number(r"notice (\d+) is incomplete and was not acted on:", out)
    assert "- good_faith: state in good faith that the use is not authorised" in out
    assert "accurate:" not in out and "signature:" not in out  # only what is really missing
    assert "filed in the" not in out
    # Nothing happened to the listing, and nobody is asked to review an incomplete notice.
    assert _listing(assay).status is ListingStatus.ACTIVE
    assert "│" not in ok(run(url, "review", "queue")).split("┩", 1)[1]
    with assay.uow() as uow:
        notice = uow.repo.get(Notice, notice_id)
        assert notice.incomplete_reasons == ["good_faith: state in good faith that the use is not authorised"]
        assert [item.state for item in notice.items] == [ItemState.INCOMPLETE]
    assert "incomplete: good_faith:" in ok(run(url, "notice", "show", str(notice_id)))


def test_a_notice_missing_several_elements_lists_each(url):
    ids = setup_case(url)
    out = flat(run(url, "notice", "file", "--holder", str(ids["holder"]), "--right", str(ids["right"]),
                   "--listing", "bazaar:L-1", "--type", "counterfeit", "--explanation", "fake", "--signature", " "))
    assert "is incomplete" in out
    for field in ("explanation:", "good_faith:", "accurate:", "signature:"):
        assert f"- {field}" in out, field


def test_an_incomplete_notice_exits_1(url):
    ids = setup_case(url)
    result = file_notice(url, ids, "--accurate")
    assert "good_faith" in flat(result)
    assert result.exit_code == 1


def test_a_notice_naming_an_unknown_listing_is_refused(url, assay):
    ids = setup_case(url)
    out = failed_cleanly(file_notice(url, ids, "--good-faith", "--accurate", listing="bazaar:L-404"))
    assert "the request is not valid" in out
    assert "listing bazaar:L-404: not found (name it by Assay id or as marketplace:listing_id)" in out
    with assay.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Notice)) == 0


def test_a_notice_naming_one_unknown_and_one_real_listing_goes_ahead_and_reports_the_unknown(url, assay):
    ids = setup_case(url)
    result = run(url, "notice", "file", "--holder", str(ids["holder"]), "--right", str(ids["right"]),
                 "--listing", "bazaar:L-404", "--listing", "bazaar:L-1", *NOTICE, "--good-faith", "--accurate")
    out = ok(result)
    assert "filed in the standard lane" in out
    assert "rejected listing bazaar:L-404: not found" in out
    with assay.uow() as uow:
        [item] = uow.repo.all(NoticeItem)
        assert item.listing_id == ids["listing"] and item.state is ItemState.IN_REVIEW


def test_deciding_an_unknown_item_says_it_is_not_found(url):
    setup_case(url)
    out = failed_cleanly(run(url, "review", "decide", "999", "--remove", "--reason", "checked"))
    assert "notice item 999 not found" in out


def test_deciding_an_item_twice_is_refused(url, assay):
    ids = setup_case(url)
    item_id = number(r"queued for review: \[(\d+)\]", ok(file_notice(url, ids, "--good-faith", "--accurate")))
    ok(run(url, "review", "decide", str(item_id), "--remove", "--reason", "Replica"))
    out = failed_cleanly(run(url, "review", "decide", str(item_id), "--decline", "--reason", "changed my mind"))
    assert f"item {item_id} in state 'removed' cannot" in out
    assert _listing(assay).status is ListingStatus.REMOVED


def test_a_counter_notice_from_another_seller_is_refused(url, assay):
    ids = setup_case(url)
    other = number(r"seller (\d+) saved", ok(run(url, "seller", "upsert", "--marketplace", "bazaar",
                                                 "--id", "s-other", "--store-name", "Other")))
    item_id = number(r"queued for review: \[(\d+)\]", ok(file_notice(url, ids, "--good-faith", "--accurate")))
    ok(run(url, "review", "decide", str(item_id), "--remove", "--reason", "Replica"))
    failed_cleanly(run(url, "counter-notice", str(item_id), "--seller", str(other),
                       "--statement", "Not mine but I object", "--signature", "X"))
    assert _item(assay, item_id).state is ItemState.REMOVED


def test_brand_register_with_a_file_that_is_not_json_is_refused(url, assay, tmp_path):
    ids = setup_case(url)
    record = tmp_path / "brand.txt"
    record.write_text("name: Quorvex\nmarks: [QUORVEX]\n", encoding="utf-8")
    out = failed_cleanly(run(url, "brand", "register", str(record), "--holder", str(ids["holder"])))
    assert "the request is not valid" in out
    assert f"{record}: not JSON (Expecting value: line 1 column 1" in out
    with assay.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM brands")).scalar_one() == 0


def test_brand_register_says_the_file_is_not_json(url, tmp_path):
    ids = setup_case(url)
    record = tmp_path / "brand.txt"
    record.write_text("name: Quorvex\n", encoding="utf-8")
    out = failed_cleanly(run(url, "brand", "register", str(record), "--holder", str(ids["holder"])))
    assert "JSON" in out


def test_brand_register_with_json_that_is_not_an_object_or_a_missing_file_is_refused(url, tmp_path):
    ids = setup_case(url)
    array = tmp_path / "brands.json"
    array.write_text(json.dumps([{"brand_id": "quorvex"}]), encoding="utf-8")
    out = failed_cleanly(run(url, "brand", "register", str(array), "--holder", str(ids["holder"])))
    assert f"{array}: expected a JSON object" in out
    missing = tmp_path / "nowhere.json"
    out = failed_cleanly(run(url, "brand", "register", str(missing), "--holder", str(ids["holder"])))
    assert str(missing) in out and "No such file" in out


def test_brand_register_with_a_good_record_registers_the_brand(url, assay, tmp_path):
    ids = setup_case(url)
    record = tmp_path / "quorvex.json"
    record.write_text(json.dumps({"brand_id": "quorvex", "name": "Quorvex", "marks": ["QUORVEX"],
                                  "categories": ["footwear"], "products": [], "authorized_sellers": []}),
                      encoding="utf-8")
    brand_id = number(r"brand (\d+) registered", ok(run(url, "brand", "register", str(record),
                                                        "--holder", str(ids["holder"]))))
    with assay.engine.connect() as connection:
        assert connection.execute(text("SELECT brand_ref, name FROM brands WHERE id = :i"),
                                  {"i": brand_id}).one() == ("quorvex", "Quorvex")


def test_the_installed_console_script_reports_errors_without_a_stack_trace(tmp_path):
    """The real `assay` executable in a real process: stderr carries the message, not a traceback."""
    script = Path(sys.executable).with_name("assay")
    env = {"ASSAY_DATABASE_URL": f"sqlite:///{tmp_path / 'shell.db'}", "PATH": str(script.parent), "COLUMNS": "200"}
    upgrade = subprocess.run([str(script), "db", "upgrade"], env=env, capture_output=True, text=True, timeout=60)
    assert upgrade.returncode == 0, upgrade.stderr
    decide = subprocess.run([str(script), "review", "decide", "7", "--remove", "--reason", "x"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert decide.returncode == 1
    assert decide.stderr.startswith("error:") and "notice item 7 not found" in decide.stderr
    assert "Traceback" not in decide.stdout + decide.stderr
