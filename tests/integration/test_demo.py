"""`assay demo --no-serve`: the story plays on a fresh database, its outcomes are real rows,
it can be rerun, and it never replaces someone's data unless told to."""

from __future__ import annotations

import gc
import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from assay import cli
from assay.api.app import create_app
from assay.api.settings import Settings
from assay.cli import app as cli_app
from assay.demo.accounts import create_demo_accounts
from assay.demo.world import LISTINGS, MARKETPLACE, SELLERS
from assay.domain.model import ListingStatus, Seller, SellerStatus
from assay.services.app import Assay
from assay.store import database

POSTGRES_URL = os.environ.get("ASSAY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = [b.strip() for b in os.environ.get("ASSAY_TEST_DATABASES", "sqlite,postgresql").split(",") if b.strip()]
needs_sqlite = pytest.mark.skipif("sqlite" not in BACKENDS, reason="SQLite not selected")
FIGURES = ("notice items", "listings removed", "storefronts closed", "take-down rate", "median time to takedown",
           "reversals")


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps at the width it detects, which differs under xdist; fix it so output lines stay whole."""
    monkeypatch.setattr(cli, "console", Console(width=250))
    monkeypatch.setattr(cli, "err", Console(stderr=True, width=250))


def run(url: str, *args: str) -> Result:
    return CliRunner().invoke(cli_app, list(args), env={"ASSAY_DATABASE_URL": url, "ASSAY_NOW": None})


def flat(result: Result) -> str:
    return " ".join(result.output.split())


def demo(url: str, *extra: str) -> Result:
    # One place per process, so that two runs print the same story word for word.
    snapshot = Path(tempfile.gettempdir()) / f"assay-demo-snapshot-{os.getpid()}"
    try:
        return run(url, "demo", "--no-serve", "--snapshot", str(snapshot), *extra)
    finally:
        shutil.rmtree(snapshot, ignore_errors=True)


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("rights_holders", "sellers", "listings", "notice_items", "audit_events")}


def figures(output: str) -> dict[str, str]:
    """The summary table's rows, figure -> value."""
    found = dict(re.findall(r"│ ([a-z -]+?) +│ ([^│]+?) +│", output))
    assert set(FIGURES) <= set(found), output
    return found


def events_logged(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM audit_events")).scalar_one()


def check_outcomes(engine: Engine, output: str) -> None:
    """What the story says happened is what the database holds."""
    app = Assay(engine)
    with app.uow() as uow:
        seller = lambda ref: uow.repo.seller_by_ref(MARKETPLACE, ref)  # noqa: E731
        listing = lambda ref: uow.repo.listing_by_ref(MARKETPLACE, ref)  # noqa: E731

        lux, brandhouse, factory = seller("s-luxdeals"), seller("s-brandhouse"), seller("s-factory-direct")
        assert (lux.store_name, lux.status, lux.is_banned) == ("LuxDeals Outlet", SellerStatus.CLOSED, True)
        assert "repeat infringer" in lux.ban_reason
        assert (brandhouse.store_name, brandhouse.status, brandhouse.is_banned) == \
            ("Brand House Direct", SellerStatus.CLOSED, True)
        assert "linked to banned seller s-luxdeals" in brandhouse.ban_reason
        assert factory.is_banned and "s-luxdeals" in factory.ban_reason
        assert seller("s-luxe-new").is_banned  # the ring's new account, banned on arrival
        for honest in ("s-northstar-sports", "s-second-life", "s-glowhub", "s-quickship"):
            assert seller(honest).status is not SellerStatus.CLOSED and not seller(honest).is_banned, honest

        assert listing("L-1003").status is ListingStatus.REINSTATED  # the counter-notice nobody answered
        assert listing("L-2003").status is ListingStatus.ACTIVE  # genuine second-hand: declined
        assert listing("L-1001").status is ListingStatus.ACTIVE  # the authorised dealer
        for ref in ("L-1004", "L-1005", "L-1007", "L-1010", "L-2001", "L-2002"):
            assert listing(ref).status is ListingStatus.REMOVED, ref

        closed = sum(1 for s in uow.repo.all(Seller) if s.status is SellerStatus.CLOSED)
        removed = uow.session.execute(text("SELECT count(*) FROM listings WHERE status = 'removed'")).scalar_one()
        items = uow.session.execute(text("SELECT count(*) FROM notice_items")).scalar_one()

    shown = figures(output)
    assert shown["storefronts closed"] == str(closed)
    assert closed >= 4  # the cast's ring of three and its newcomer, and the generated rings' banned members
    assert shown["listings removed"] == str(removed)
    assert shown["notice items"] == str(items)
    assert shown["reversals"] == "1"
    assert re.fullmatch(r"\d+%", shown["take-down rate"]) and shown["take-down rate"] != "0%"
    assert shown["median time to takedown"] != "n/a"
    assert f"audit log: {events_logged(engine)} events, chain intact" in " ".join(output.split())


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'demo.db'}"


@needs_sqlite
def test_the_demo_plays_on_a_fresh_sqlite_file(sqlite_url, tmp_path):
    assert not (tmp_path / "demo.db").exists()
    result = demo(sqlite_url)
    assert result.exit_code == 0, (result.output, result.exception)
    out = flat(result)
    for figure in FIGURES:
        assert figure in out, figure
    assert "chain intact" in out
    assert "Closed and banned: LuxDeals Outlet" in out and "Closed and banned: Brand House Direct" in out
    assert "the worker reinstates 1 listing (L-1003)" in out
    engine = database.make_engine(sqlite_url)
    try:
        assert database.current_revision(engine) == database.head_revision()
        check_outcomes(engine, result.output)
    finally:
        engine.dispose()
    verify = run(sqlite_url, "audit", "verify")
    assert verify.exit_code == 0 and "chain verified" in flat(verify)


def readme_api_walkthrough() -> tuple[dict, dict, dict, str]:
    """The request bodies of the README's API walkthrough, in its order: signing in, the
    marketplace's listing, the notice; and the notice's Idempotency-Key."""
    text = (Path(__file__).parents[2] / "README.md").read_text()
    section = text[text.index("## The API"):]
    section = section[:section.index("\n## ", 1)] if "\n## " in section[1:] else section
    sign_in, listing, notice = (json.loads(" ".join(body.split()))
                                for body in re.findall(r"-d '(\{.*?\})'", section, re.S))
    return sign_in, listing, notice, re.search(r"Idempotency-Key: ([\w-]+)", section).group(1)


@needs_sqlite
def test_the_readme_api_walkthrough_works_on_the_demo(sqlite_url):
    """What a new user pastes from the README after `make demo` does what the README says."""
    assert demo(sqlite_url).exit_code == 0
    engine = database.make_engine(sqlite_url)
    assay = Assay(engine)
    settings = Settings(_env_file=None, environment="test", secret_key="readme-walkthrough-secret-key")
    try:
        _, token = create_demo_accounts(assay, token_key=settings.token_key)
        sign_in, listing, notice, key = readme_api_walkthrough()
        with TestClient(create_app(settings, assay)) as client:
            signed_in = client.post("/v1/auth/token", json=sign_in)
            assert signed_in.status_code == 201, signed_in.text
            market = {"Authorization": f"Bearer {signed_in.json()['token']}"}
            pushed = client.put("/v1/marketplace/listings", headers=market, json=listing)
            assert pushed.status_code == 200 and pushed.json()["rejected"] == [], pushed.text
            brand = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
            assert client.get("/v1/rights", headers=brand).json()["items"][0]["id"] == notice["right_ids"][0]
            filed = client.post("/v1/notices", headers=brand, json=notice)
            assert filed.status_code == 201, filed.text
            assert filed.json()["lane"] in ("expedited", "standard") and len(filed.json()["item_ids"]) == 1
            again = client.post("/v1/notices", headers=brand, json=notice)
            assert again.json() == filed.json()  # replayed, not filed twice
    finally:
        engine.dispose()


@needs_sqlite
def test_running_the_demo_again_replaces_its_own_world(sqlite_url):
    first = demo(sqlite_url)
    assert first.exit_code == 0, first.output
    engine = database.make_engine(sqlite_url)
    try:
        after_first = table_counts(engine)
        second = demo(sqlite_url)
        assert second.exit_code == 0, (second.output, second.exception)
        assert second.output == first.output  # the same story, the same figures: nothing piled up
        assert table_counts(engine) == after_first
        assert after_first["sellers"] > len(SELLERS) + 20 + 1  # the cast, Quorvex's past cases, the newcomer
        assert after_first["listings"] > len(LISTINGS) + 20  # and the generated marketplace
        check_outcomes(engine, second.output)
    finally:
        engine.dispose()


def _real_data(url: str) -> None:
    for args in (["db", "upgrade"],
                 ["holder", "enroll", "Acme Footwear", "--email", "legal@acme.example"]):
        result = run(url, *args)
        assert result.exit_code == 0, result.output


@needs_sqlite
def test_the_demo_refuses_a_database_holding_other_data_unless_reset(sqlite_url):
    _real_data(sqlite_url)
    result = demo(sqlite_url)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    out = flat(result)
    assert out.startswith("error:") and sqlite_url in out, out
    assert "holds data that is not the demo's" in out and "--reset" in out, out
    engine = database.make_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT name FROM rights_holders")).scalars().all() == ["Acme Footwear"]
            assert connection.execute(text("SELECT count(*) FROM settings")).scalar_one() == 0

        reset = demo(sqlite_url, "--reset")
        assert reset.exit_code == 0, (reset.output, reset.exception)
        assert "chain intact" in flat(reset)
        with engine.connect() as connection:
            names = connection.execute(text("SELECT name FROM rights_holders ORDER BY id")).scalars().all()
        assert {"Quorvex Sports Ltd", "Maison Tessaline SA"} <= set(names) and "Acme Footwear" not in names
        check_outcomes(engine, reset.output)
    finally:
        engine.dispose()
    assert demo(sqlite_url).exit_code == 0  # now it is the demo's own again


@needs_sqlite
def test_the_demo_refuses_a_database_holding_sellers_and_listings_but_no_rights_holder(sqlite_url):
    for args in (["db", "upgrade"],
                 ["seller", "upsert", "--marketplace", "bazaar", "--id", "s-real", "--store-name", "Real Shop"],
                 ["listing", "upsert", "--marketplace", "bazaar", "--id", "R-1", "--seller", "s-real", "--title",
                  "Real shoes", "--category", "footwear", "--price", "80.00", "--currency", "EUR"]):
        assert run(sqlite_url, *args).exit_code == 0
    result = demo(sqlite_url)
    assert result.exit_code == 1, "the demo replaced a marketplace's sellers and listings without --reset"
    engine = database.make_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT store_name FROM sellers")).scalars().all() == ["Real Shop"]
    finally:
        engine.dispose()


@pytest.fixture
def postgres_url() -> Iterator[tuple[str, Engine]]:
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL not selected")
    schema = f"assay_demo_{uuid.uuid4().hex[:12]}"
    admin = database.make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    url_text = url.render_as_string(hide_password=False)
    engine = database.make_engine(url_text)
    try:
        yield url_text, engine
    finally:
        engine.dispose()
        gc.collect()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def test_the_demo_plays_on_postgresql(postgres_url):
    url, engine = postgres_url
    result = demo(url)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "chain intact" in flat(result)
    assert database.current_revision(engine) == database.head_revision()
    check_outcomes(engine, result.output)
    verify = run(url, "audit", "verify")
    assert verify.exit_code == 0, verify.output
    assert f"audit log intact: {events_logged(engine)} events" in flat(verify)
    again = demo(url)
    assert again.exit_code == 0, (again.output, again.exception)
    assert again.output == result.output
