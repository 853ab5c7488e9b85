"""Random sequences of the real use cases against a real database, with the invariants
of the takedown process checked after every step (a Hypothesis state machine).

The world is built once per test through the use cases, on an empty migrated database:
three rights holders (`fast` has earned the expedited lane, `slow` and `rival` have not)
and a fixed pool of listings of a few sellers, some of them linked by trader identity.
Each Hypothesis example then starts from a fresh copy of that world: its own SQLite file,
or the world's rows put back into PostgreSQL's emptied tables.

The rules file notices, decide reviews, withdraw, counter-notice, reply, decide appeals,
move the clock and run the deadline pass. Most of the time a rule picks an item in a
state where its step makes sense; sometimes it tries an illegal step on purpose and
checks that the step is refused with a DomainError and that nothing changed. After every
step the invariants below (`@invariant`) must hold.

ASSAY_STATEFUL_EXAMPLES and ASSAY_STATEFUL_STEPS raise the effort for a longer hunt.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import Engine, delete, func, insert, select, text
from tests.conftest import T0
from tests.integration.world import MARKET, World, earn_expedited_lane, enrolled_holder

from assay.domain.audit import ChainBreak
from assay.domain.errors import DomainError, FilingSuspended, IllegalTransition, NotPermitted, ValidationFailed
from assay.domain.model import Listing, ListingStatus, RightsHolder, Seller, SellerStatus, TrademarkRight
from assay.domain.notices import TRANSITIONS, InfringementType, ItemState, Lane, Notice, NoticeItem, Step
from assay.domain.policies import Policy, Strike
from assay.services import notices, redress
from assay.services.app import Assay
from assay.services.clock import ManualClock
from assay.services.deadlines import process_due
from assay.store import database
from assay.store.audit_log import verify_log
from assay.store.tables import audit_events, metadata, seller_identity_keys

MAX_EXAMPLES = int(os.environ.get("ASSAY_STATEFUL_EXAMPLES", "30"))
STEPS = int(os.environ.get("ASSAY_STATEFUL_STEPS", "30"))

# Sellers of the pool. lux and twin share a phone number (written differently), twin and
# ring a payment account, lux and cousin an e-mail address: closing lux bans all four.
# solo is linked to nobody.
SELLERS: dict[str, dict[str, str]] = {
    "lux": {"phone": "+86 138 0013 8000", "email": "topdeals.shop+lux@gmail.com"},
    "twin": {"phone": "0086-13800138000", "payment_account": "CN-ACC-77881"},
    "ring": {"payment_account": "CN-ACC-77881"},
    "cousin": {"email": "TopDeals.Shop@googlemail.com"},
    "solo": {"phone": "+86 139 9999 0000"},
}
LISTINGS: dict[str, str] = {
    "L0": "lux", "L1": "lux", "L2": "lux", "T0": "twin", "T1": "twin", "R0": "ring", "C0": "cousin",
    "S0": "solo", "S1": "solo",
}
# The holder with the fast lane files more often: its removals are what strikes sellers out.
HOLDERS = ("fast", "fast", "slow", "rival")
# The thresholds for sanctions on sellers and filers are lowered so that a run of thirty
# steps reaches closures, linked bans, restrictions, warnings and suspensions; the
# windows and lifetimes are the defaults.
POLICY = replace(Policy(), close_at_counterfeit_strikes=2, close_at_strikes=3,
                 warn_after_unfounded=1, suspend_after_warning=1)
# The fast holder's past: notices filed and removed before the examples start. Twenty
# leave its record room for a reversal or two before it loses the fast lane.
PAST_NOTICES = 20
# Half the notices name listings of one seller, so that strikes pile up and bans happen.
REFS = st.one_of(
    st.lists(st.sampled_from(sorted(LISTINGS)), min_size=1, max_size=3),
    st.sampled_from(sorted(SELLERS)).flatmap(
        lambda seller: st.lists(st.sampled_from([r for r, s in LISTINGS.items() if s == seller]),
                                min_size=1, max_size=3)),
)
KINDS = [InfringementType.COUNTERFEIT, InfringementType.COUNTERFEIT, InfringementType.TRADEMARK_MISUSE,
         InfringementType.DESIGN, InfringementType.IMAGE_COPYRIGHT]

STATEMENT = "The goods are genuine, bought from the brand's own distributor."
REPLY = "The listing uses our mark on goods we never made or sold."

# The steps of the lifecycle each use case takes, with the states the step may start from.
STEP_FROM: dict[Step, frozenset[ItemState]] = {}
for (_state, _step), _after in TRANSITIONS.items():
    STEP_FROM.setdefault(_step, frozenset())
    STEP_FROM[_step] = STEP_FROM[_step] | {_state}
REVIEWABLE = STEP_FROM[Step.REMOVE]          # in_review
COUNTERABLE = STEP_FROM[Step.COUNTER_NOTICE]  # removed
REPLIABLE = STEP_FROM[Step.MAINTAIN]         # contested
APPEALABLE = STEP_FROM[Step.UPHOLD]          # in_appeal


# -- a fresh database for each Hypothesis example ---------------------------------------

def build_world(app: Assay) -> None:
    """The world every example starts from, built through the use cases: three rights
    holders, of which `fast` has earned the expedited lane with ten reviewed notices that
    stood and filed ten more in that lane, and the pool of sellers and listings."""
    world = World(app)
    world.holder, world.right = enrolled_holder(app, "Quorvex Sports Ltd", number="018000001")
    earn_expedited_lane(world)
    for n in range(10, PAST_NOTICES):  # and goes on to file in the fast lane
        world.seller(f"past-{n}", email=f"past{n}@mail.example")
        world.listing(f"P-{n}", f"past-{n}")
        assert world.file(f"P-{n}").lane is Lane.EXPEDITED
    enrolled_holder(app, "Slowpoke Apparel GmbH", mark="SLOWPOKE", number="018000002")
    enrolled_holder(app, "Rival Brands SA", mark="RIVALE", number="018000003")
    for ref, identity in SELLERS.items():
        world.seller(ref, **identity)
    for ref, seller in LISTINGS.items():
        world.listing(ref, seller)


HOLDER_NAMES = {"fast": "Quorvex Sports Ltd", "slow": "Slowpoke Apparel GmbH", "rival": "Rival Brands SA"}


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy a database in WAL mode through SQLite's backup API, so nothing in the WAL is lost."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


class _PostgresWorld:
    """The built world's rows, put back into the (emptied) tables for each example: much
    faster than truncating and building the world through the use cases again."""

    def __init__(self, engine: Engine) -> None:
        self.tables = list(metadata.sorted_tables)
        with engine.connect() as connection:
            self.rows = {t.name: [dict(r._mapping) for r in connection.execute(select(t))] for t in self.tables}
            self.sequences: list[tuple[str, Any]] = []
            for table in self.tables:
                for column in table.primary_key.columns:
                    sequence = connection.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                                 {"t": f'"{table.name}"', "c": column.name})
                    if sequence:
                        self.sequences.append((sequence, column))

    def restore(self, engine: Engine) -> None:
        with engine.begin() as connection:
            for table in reversed(self.tables):
                connection.execute(delete(table))
            for table in self.tables:
                if self.rows[table.name]:
                    connection.execute(insert(table), self.rows[table.name])
            for sequence, column in self.sequences:
                top = connection.scalar(select(func.max(column)))
                connection.execute(text("SELECT setval(:s, :v, :called)"),
                                   {"s": sequence, "v": top or 1, "called": top is not None})


@pytest.fixture
def fresh_app(request: pytest.FixtureRequest, app: Assay, clock: ManualClock,
              tmp_path: Path) -> Iterator[Callable[[], Assay]]:
    """A factory: each call hands out an Assay on a database holding just the built world,
    with the clock back at T0. The world is built through the use cases once, on an empty
    database (a copy of the migrated SQLite template, or PostgreSQL tables truncated as the
    `backend` fixture does); every later call restores it: a new copy of the world's SQLite
    file (a file in WAL mode is never overwritten under an engine), or the world's rows put
    back into PostgreSQL's tables."""
    backend = request.getfixturevalue("backend")
    engines: list[Engine] = []
    counter = iter(range(1_000_000))
    built: dict[str, Any] = {}

    def make() -> Assay:
        clock.set(T0)
        if backend.name == "sqlite":
            while engines:
                engines.pop().dispose()
            if "file" not in built:
                built["file"] = tmp_path / "world.db"
                shutil.copy(request.getfixturevalue("sqlite_template"), built["file"])
                engine = database.make_engine(f"sqlite:///{built['file']}")
                build_world(Assay(engine, clock=clock, policy=POLICY))
                engine.dispose()
                clock.set(T0)
            target = tmp_path / f"example-{next(counter)}.db"
            _sqlite_copy(built["file"], target)
            engines.append(database.make_engine(f"sqlite:///{target}"))
            return Assay(engines[-1], clock=clock, policy=POLICY)
        if "rows" not in built:  # the `backend` fixture handed the tables over empty
            build_world(Assay(app.engine, clock=clock, policy=POLICY))
            built["rows"] = _PostgresWorld(app.engine)
            clock.set(T0)
        else:
            built["rows"].restore(app.engine)
        return Assay(app.engine, clock=clock, policy=POLICY)

    yield make
    for engine in engines:
        engine.dispose()


# -- the model -------------------------------------------------------------------------

@dataclass
class ModelItem:
    id: int
    notice_id: int
    holder: int
    seller_id: int
    listing_id: int
    state: ItemState
    transitions: int  # successful lifecycle steps seen on this item (filing counts one)

    def __str__(self) -> str:
        return f"item {self.id} ({self.state.value}, notice {self.notice_id})"


@dataclass(frozen=True)
class Snapshot:
    """Everything a refused step must leave as it was."""

    items: dict[int, tuple[str, bool]]
    listings: dict[int, str]
    sellers: dict[int, tuple[str, bool, int]]
    strikes: dict[int, Any]
    holders: dict[int, tuple[Any, Any]]
    audit_events: int


@dataclass
class View:
    """The database as the invariants read it, once per step."""

    items: dict[int, NoticeItem]
    strikes: list[Strike]
    listings: dict[int, Listing]
    sellers: dict[int, Seller]
    keys: dict[int, set[tuple[str, str]]]
    item_events: dict[int, list[tuple[str, Any, Any]]]
    chain: tuple[int, ChainBreak | None]
    now: Any


class TakedownMachine(RuleBasedStateMachine):
    def __init__(self, make_app: Callable[[], Assay]) -> None:
        super().__init__()
        self.app = make_app()
        self.clock: ManualClock = self.app.clock  # type: ignore[assignment]
        self.policy = self.app.policy
        self.items: dict[int, ModelItem] = {}
        self.notices: dict[int, int] = {}  # notice id -> holder id
        self._view: View | None = None
        self._load_world()

    # -- the world -------------------------------------------------------------------
    def _load_world(self) -> None:
        with self.app.uow() as uow:
            self.holders = {key: uow.repo.first(RightsHolder, name=name).id  # type: ignore[union-attr]
                            for key, name in HOLDER_NAMES.items()}
            self.rights = {h: uow.repo.first(TrademarkRight, holder_id=h).id  # type: ignore[union-attr]
                           for h in self.holders.values()}
            self.seller_ids = {s.seller_ref: s.id for s in uow.repo.all(Seller)}  # with the fast holder's past
            # The fast holder's past notices are part of the world: their items may be withdrawn,
            # contested, appealed like any other.
            for item in uow.repo.all(NoticeItem):
                assert item.state is ItemState.REMOVED
                # Reviewed: queued, then removed; expedited: removed at once.
                steps = 1 if uow.repo.get(Notice, item.notice_id).lane is Lane.EXPEDITED else 2  # type: ignore[arg-type]
                self.items[item.id] = ModelItem(item.id, item.notice_id, item.holder_id, item.seller_id,  # type: ignore[arg-type]
                                                item.listing_id, item.state, transitions=steps)
                self.notices[item.notice_id] = item.holder_id  # type: ignore[index]
        assert len(self.items) == PAST_NOTICES and set(SELLERS) <= set(self.seller_ids)
        self.past_items, self.past_notices = set(self.items), set(self.notices)
        self.world = World(self.app)

    # -- reading the database ----------------------------------------------------------
    def snapshot(self) -> Snapshot:
        with self.app.uow() as uow:
            return Snapshot(
                items={i.id: (i.state.value, i.overdue) for i in uow.repo.all(NoticeItem)},
                listings={x.id: x.status.value for x in uow.repo.all(Listing)},
                sellers={s.id: (s.status.value, s.is_banned, s.sanction_level) for s in uow.repo.all(Seller)},
                strikes={s.id: s.revoked_at for s in uow.repo.all(Strike)},
                holders={h.id: (h.warned_at, h.suspended_until) for h in uow.repo.all(RightsHolder)},
                audit_events=uow.session.scalar(select(func.count()).select_from(audit_events)),
            )

    def view(self) -> View:
        if self._view is None:
            with self.app.uow() as uow:
                keys: dict[int, set[tuple[str, str]]] = {}
                for seller_id, kind, value in uow.session.execute(
                        select(seller_identity_keys.c.seller_id, seller_identity_keys.c.kind,
                               seller_identity_keys.c.value)):
                    keys.setdefault(seller_id, set()).add((kind, value))
                events: dict[int, list[tuple[str, Any, Any]]] = {}
                for entity_id, action, before, after in uow.session.execute(
                        select(audit_events.c.entity_id, audit_events.c.action, audit_events.c.before,
                               audit_events.c.after)
                        .where(audit_events.c.entity_type == "notice_item").order_by(audit_events.c.seq)):
                    events.setdefault(int(entity_id), []).append((action, before, after))
                self._view = View(
                    items={i.id: i for i in uow.repo.all(NoticeItem)},
                    strikes=uow.repo.all(Strike),
                    listings={x.id: x for x in uow.repo.all(Listing)},
                    sellers={s.id: s for s in uow.repo.all(Seller)},
                    keys=keys,
                    item_events=events,
                    chain=verify_log(uow.session),
                    now=uow.now,
                )
        return self._view

    def item(self, item_id: int) -> NoticeItem:
        with self.app.uow() as uow:
            return uow.repo.get(NoticeItem, item_id)

    # -- recording what happened ---------------------------------------------------------
    def sync(self, expected: dict[int, ItemState], new: dict[int, ItemState] | None = None) -> None:
        """Read every item back: exactly the `expected` items changed state, to the expected
        state, and the `new` ones appeared. Every change is one lifecycle transition."""
        self._view = None
        new = new or {}
        with self.app.uow() as uow:
            found = {i.id: i for i in uow.repo.all(NoticeItem)}
        assert set(found) == set(self.items) | set(new), "items appeared or vanished unexpectedly"
        changed = {}
        for item_id, model in self.items.items():
            state = found[item_id].state
            if state is not model.state:
                # Invariant 1 is also checked here, where the change is seen first.
                assert not model.state.is_terminal, (
                    f"item {item_id} left terminal state {model.state.value} for {state.value}")
                changed[item_id] = state
                event(f"transition {model.state.value} -> {state.value}")
                model.state = state
                model.transitions += 1
        assert changed == expected, f"state changes {_fmt(changed)}, expected {_fmt(expected)}"
        for item_id, state in new.items():
            item = found[item_id]
            assert item.state is state, f"new item {item_id} is {item.state.value}, expected {state.value}"
            event(f"transition filed -> {state.value}")
            self.items[item_id] = ModelItem(item_id, item.notice_id, item.holder_id, item.seller_id,  # type: ignore[arg-type]
                                            item.listing_id, item.state, transitions=1)
            self.notices[item.notice_id] = item.holder_id  # type: ignore[index]

    def refused(self, attempt: Callable[[], object], *, what: str,
                expect: type[DomainError] = DomainError) -> None:
        """Run a use case that has to be refused: with a DomainError of the expected kind,
        leaving the database exactly as it was."""
        before = self.snapshot()
        try:
            attempt()
        except DomainError as refusal:
            event(f"refused: {type(refusal).__name__}")
            assert isinstance(refusal, expect), (
                f"{what}: refused with {type(refusal).__name__} ({refusal}), expected {expect.__name__}")
            after = self.snapshot()
            assert after == before, f"{what}: the refused step changed the database: {_diff(before, after)}"
            self._view = None
            return
        after = self.snapshot()
        raise AssertionError(f"{what}: an illegal step was accepted; it changed {_diff(before, after) or 'nothing'}")

    def any_in(self, states: frozenset[ItemState]) -> bool:
        return any(m.state in states for m in self.items.values())

    def pick(self, data: st.DataObject, states: frozenset[ItemState], *, inside: bool, label: str) -> ModelItem | None:
        """An item in (or, with `inside=False`, not in) one of `states`."""
        candidates = [i for i, m in self.items.items() if (m.state in states) == inside]
        chosen = self.choose(data, candidates, self.past_items, label)
        return None if chosen is None else self.items[chosen]

    def choose(self, data: st.DataObject, ids: list[int], past: set[int], label: str) -> int | None:
        """One of `ids` (items or notices). Those of the world's past are chosen one time in
        four only: contesting them wrecks the fast holder's record, and with it the fast lane."""
        recent = sorted(i for i in ids if i not in past)
        if not ids:
            return None
        pool = sorted(ids) if not recent or data.draw(st.integers(0, 3), label="from the past") == 3 else recent
        return data.draw(st.sampled_from(pool), label=label)

    # -- rules -------------------------------------------------------------------------------
    @rule(holder=st.sampled_from(HOLDERS),
          refs=REFS,
          kind=st.sampled_from(KINDS), incomplete=st.integers(0, 9))
    def file_notice(self, holder: str, refs: list[str], kind: InfringementType,
                    incomplete: int) -> None:
        holder_id = self.holders[holder]
        # Deliberately broken filings: an unsigned notice is kept as incomplete.
        overrides: dict[str, object] = {"signature": "  "} if incomplete == 9 else {}
        with self.app.uow() as uow:
            suspended = uow.repo.get(RightsHolder, holder_id).is_suspended(uow.now)
            accepted = []
            for ref in refs:
                listing = uow.repo.listing_by_ref(MARKET, ref)
                assert listing is not None
                if listing.id in accepted or listing.status is ListingStatus.REMOVED:
                    continue
                if uow.repo.open_item(holder_id, listing.id) is not None:  # type: ignore[arg-type]
                    continue
                accepted.append(listing.id)
        if suspended or not accepted:
            self.refused(lambda: self.world.file(*refs, holder=holder_id, right=self.rights[holder_id],
                                                 kind=kind, **overrides),
                         expect=FilingSuspended if suspended else ValidationFailed,
                         what=f"{holder} files {refs} ({'suspended' if suspended else 'no listing can be named'})")
            self.sync({})
            return
        result = self.world.file(*refs, holder=holder_id, right=self.rights[holder_id], kind=kind, **overrides)
        assert len(result.item_ids) == len(accepted) and len(result.rejected) == len(refs) - len(accepted)
        if overrides:
            assert any(r.startswith("signature") for r in result.incomplete_reasons)
        if result.incomplete_reasons:
            state = ItemState.INCOMPLETE
        elif result.lane is Lane.EXPEDITED:
            state = ItemState.REMOVED
        else:
            state = ItemState.IN_REVIEW
        self.sync({}, new={item_id: state for item_id in result.item_ids})
        assert [self.items[i].listing_id for i in result.item_ids] == accepted

    # A rule runs only when some item is in a state its step can start from: the rule then
    # takes that step mostly, and sometimes tries it on an item in another state.
    @precondition(lambda self: self.any_in(REVIEWABLE))
    @rule(data=st.data(), legal=st.integers(0, 9))
    def review_remove(self, data: st.DataObject, legal: int) -> None:
        self._decide_review(data, legal, remove=True, unfounded=False)

    @precondition(lambda self: self.any_in(REVIEWABLE))
    @rule(data=st.data(), legal=st.integers(0, 9), unfounded=st.booleans())
    def review_decline(self, data: st.DataObject, legal: int, unfounded: bool) -> None:
        self._decide_review(data, legal, remove=False, unfounded=unfounded)

    def _decide_review(self, data: st.DataObject, legal: int, *, remove: bool, unfounded: bool) -> None:
        model = self.pick(data, REVIEWABLE, inside=legal < 8, label="item")
        if model is None:
            return
        if legal < 8:
            if legal == 7:  # a decision without reasons, or both removed and unfounded
                bad = dict(reason="  ") if data.draw(st.booleans(), label="no reason") else \
                    dict(reason="Checked.", manifestly_unfounded=True, remove=True)
                self.refused(lambda: self._review(model.id, **{"remove": remove, **bad}), expect=ValidationFailed,
                             what=f"review {bad} of {model}")
                self.sync({})
                return
            self._review(model.id, remove=remove, reason="Checked the listing.", manifestly_unfounded=unfounded)
            self.sync({model.id: ItemState.REMOVED if remove else ItemState.DECLINED})
            if unfounded:
                assert self.item(model.id).manifestly_unfounded
            return
        self.refused(lambda: self._review(model.id, remove=remove, reason="Checked.", manifestly_unfounded=unfounded),
                     expect=IllegalTransition, what=f"review (remove={remove}) of {model}")
        self.sync({})

    def _review(self, item_id: int, **kw: Any) -> None:
        with self.app.uow("reviewer") as uow:
            notices.decide_review(uow, item_id, **kw)

    @precondition(lambda self: bool(self.notices))
    @rule(data=st.data(), legal=st.integers(0, 9), whole=st.booleans())
    def withdraw(self, data: st.DataObject, legal: int, whole: bool) -> None:
        notice_id = self.choose(data, list(self.notices), self.past_notices, "notice")
        assert notice_id is not None
        holder_id = self.notices[notice_id]
        items = sorted(i for i, m in self.items.items() if m.notice_id == notice_id)
        open_items = [i for i in items if not self.items[i].state.is_terminal]
        if legal >= 8:  # another rights holder tries to withdraw this notice
            other = data.draw(st.sampled_from(sorted(set(self.holders.values()) - {holder_id})), label="other")
            self.refused(lambda: self._withdraw(notice_id, other, None if whole else items), expect=NotPermitted,
                         what=f"holder {other} withdraws notice {notice_id} of holder {holder_id}")
            self.sync({})
            return
        if whole:
            chosen = None
            targets = open_items
        else:
            chosen = data.draw(st.lists(st.sampled_from(items), min_size=1, unique=True), label="items")
            targets = chosen if all(i in open_items for i in chosen) else []
        if not targets:  # nothing open to withdraw, or a closed item named
            self.refused(lambda: self._withdraw(notice_id, holder_id, chosen), expect=DomainError,
                         what=f"withdraw items {chosen} of notice {notice_id}, open: {open_items}")
            self.sync({})
            return
        withdrawn = self._withdraw(notice_id, holder_id, chosen)
        assert sorted(withdrawn) == sorted(targets)
        self.sync({i: TRANSITIONS[(self.items[i].state, Step.WITHDRAW)] for i in targets})

    def _withdraw(self, notice_id: int, holder_id: int, item_ids: list[int] | None) -> list[int]:
        with self.app.uow(f"holder:{holder_id}") as uow:
            return notices.withdraw(uow, notice_id, holder_id=holder_id, item_ids=item_ids)

    @precondition(lambda self: self.any_in(COUNTERABLE))
    @rule(data=st.data(), legal=st.integers(0, 9))
    def counter_notice(self, data: st.DataObject, legal: int) -> None:
        model = self.pick(data, COUNTERABLE, inside=legal < 9, label="item")
        if model is None:
            return
        if legal == 9:  # wrong state
            self.refused(lambda: self._counter(model.id, model.seller_id), expect=IllegalTransition,
                         what=f"counter-notice on {model}")
            self.sync({})
        elif legal == 8:  # someone else's listing
            other = data.draw(st.sampled_from(sorted(set(self.seller_ids.values()) - {model.seller_id})), label="other")
            self.refused(lambda: self._counter(model.id, other), expect=NotPermitted,
                         what=f"counter-notice by seller {other} on {model}")
            self.sync({})
        elif legal == 7:  # too short to say anything
            self.refused(lambda: self._counter(model.id, model.seller_id, statement="It is genuine."),
                         expect=ValidationFailed, what=f"a short counter-notice on {model}")
            self.sync({})
        else:
            item = self.item(model.id)
            late = item.counter_notice_until is not None and self.clock.now() > item.counter_notice_until
            if late:
                self.refused(lambda: self._counter(model.id, model.seller_id), what=f"a late counter-notice on {model}")
                self.sync({})
            else:
                self._counter(model.id, model.seller_id)
                self.sync({model.id: ItemState.CONTESTED})

    def _counter(self, item_id: int, seller_id: int, statement: str = STATEMENT) -> None:
        with self.app.uow(f"seller:{seller_id}") as uow:
            redress.counter_notice(uow, item_id, seller_id=seller_id, statement=statement, signature="A. Seller")

    @precondition(lambda self: self.any_in(REPLIABLE))
    @rule(data=st.data(), legal=st.integers(0, 9), maintain=st.booleans())
    def reply(self, data: st.DataObject, legal: int, maintain: bool) -> None:
        model = self.pick(data, REPLIABLE, inside=legal < 9, label="item")
        if model is None:
            return
        if legal == 9:
            self.refused(lambda: self._reply(model.id, model.holder, maintain), expect=IllegalTransition,
                         what=f"reply (maintain={maintain}) on {model}")
            self.sync({})
        elif legal == 8:
            other = data.draw(st.sampled_from(sorted(set(self.holders.values()) - {model.holder})), label="other")
            self.refused(lambda: self._reply(model.id, other, maintain), expect=NotPermitted,
                         what=f"reply by holder {other} on {model}")
            self.sync({})
        elif legal == 7 and maintain:
            self.refused(lambda: self._reply(model.id, model.holder, True, statement="We object."),
                         expect=ValidationFailed, what=f"a short reply on {model}")
            self.sync({})
        elif maintain:
            item = self.item(model.id)
            if item.reply_due_at is not None and self.clock.now() > item.reply_due_at:
                self.refused(lambda: self._reply(model.id, model.holder, True), what=f"a late reply on {model}")
                self.sync({})
            else:
                assert self._reply(model.id, model.holder, True) is ItemState.IN_APPEAL
                self.sync({model.id: ItemState.IN_APPEAL})
        else:
            assert self._reply(model.id, model.holder, False) is ItemState.REINSTATED
            self.sync({model.id: ItemState.REINSTATED})

    def _reply(self, item_id: int, holder_id: int, maintain: bool, statement: str = REPLY) -> ItemState:
        with self.app.uow(f"holder:{holder_id}") as uow:
            return redress.reply(uow, item_id, holder_id=holder_id, maintain=maintain, statement=statement)

    @precondition(lambda self: self.any_in(APPEALABLE))
    @rule(data=st.data(), legal=st.integers(0, 9), uphold=st.booleans())
    def decide_appeal(self, data: st.DataObject, legal: int, uphold: bool) -> None:
        model = self.pick(data, APPEALABLE, inside=legal < 8, label="item")
        if model is None:
            return
        if legal >= 8:
            self.refused(lambda: self._appeal(model.id, uphold), expect=IllegalTransition,
                         what=f"appeal decision (uphold={uphold}) on {model}")
            self.sync({})
        elif legal == 7:
            self.refused(lambda: self._appeal(model.id, uphold, reason=" "), expect=ValidationFailed,
                         what=f"appeal decision without reasons on {model}")
            self.sync({})
        else:
            state = self._appeal(model.id, uphold)
            assert state is (ItemState.UPHELD if uphold else ItemState.REINSTATED)
            self.sync({model.id: state})

    def _appeal(self, item_id: int, uphold: bool, reason: str = "Weighed both statements.") -> ItemState:
        with self.app.uow("reviewer") as uow:
            return redress.decide_appeal(uow, item_id, uphold=uphold, reason=reason)

    @rule(by=st.one_of(
        st.integers(1, 600).map(lambda n: timedelta(minutes=n)),
        st.integers(1, 96).map(lambda n: timedelta(hours=n)),
        st.integers(1, 30).map(lambda n: timedelta(days=n)),
        st.integers(1, 400).map(lambda n: timedelta(days=n)),
    ))
    def advance_clock(self, by: timedelta) -> None:
        self.clock.advance(by)
        self.sync({})

    @rule()
    def run_deadlines(self) -> None:
        with self.app.uow() as uow:
            now = uow.now
            items = uow.repo.all(NoticeItem)
        lapsing = {i.id: ItemState.REINSTATED for i in items if i.reply_lapsed(now)}
        overdue = {i.id for i in items if not i.overdue and i.is_overdue(now)}
        result = process_due(lambda: self.app.uow("worker"))
        assert result.failed == 0
        if overdue:
            event("deadlines: flagged overdue")
        assert result.reinstated == len(lapsing)
        assert result.flagged_overdue == len(overdue)
        self.sync(lapsing)  # type: ignore[arg-type]
        with self.app.uow() as uow:
            for item_id in overdue:
                assert uow.repo.get(NoticeItem, item_id).overdue

    # -- invariants -------------------------------------------------------------------------
    @invariant()
    def terminal_states_are_final(self) -> None:
        for item_id, item in self.view().items.items():
            model = self.items[item_id]
            if model.state.is_terminal:
                assert item.state is model.state, f"item {item_id} left terminal state {model.state.value}"

    @invariant()
    def standing_strikes_match_standing_removals(self) -> None:
        view = self.view()
        standing = Counter(s.seller_id for s in view.strikes if s.is_standing(view.now, self.policy))
        removals = Counter(
            i.seller_id for i in view.items.values()
            if i.state.keeps_listing_down and i.removed_at is not None
            and view.now - i.removed_at < self.policy.strike_lifetime
        )
        for seller_id in view.sellers:
            assert standing[seller_id] == removals[seller_id], (
                f"seller {seller_id} has {standing[seller_id]} standing strikes but "
                f"{removals[seller_id]} standing removals")

    @invariant()
    def every_transition_has_one_audit_event(self) -> None:
        view = self.view()
        for item_id, model in self.items.items():
            steps = [(a, b, c) for a, b, c in view.item_events.get(item_id, [])
                     if a not in ("item.filed", "item.overdue")]
            assert len(steps) == model.transitions, (
                f"item {item_id}: {len(steps)} audit events for {model.transitions} transitions")
            # The events also chain: filed -> ... -> the state the item is in, each by its step.
            state = ItemState.FILED
            for action, before, after in steps:
                assert before == {"state": state.value}, f"item {item_id}: {action} from {before}, was {state}"
                step = Step(action.removeprefix("item."))
                state = TRANSITIONS[(state, step)]
                assert after == {"state": state.value}, f"item {item_id}: {action} to {after}, expected {state}"
            assert state is model.state, f"item {item_id}: the audit trail ends in {state}, item is {model.state}"

    @invariant()
    def audit_chain_verifies(self) -> None:
        counted, problem = self.view().chain
        assert problem is None, str(problem)
        assert counted > 0

    @invariant()
    def listings_and_sellers_are_consistent(self) -> None:
        view = self.view()
        held_down = {i.listing_id for i in view.items.values() if i.state.keeps_listing_down}
        banned = {s.id for s in view.sellers.values() if s.is_banned}
        for listing in view.listings.values():
            if listing.id in held_down:
                assert listing.status is ListingStatus.REMOVED, f"listing {listing.listing_ref} is {listing.status}"
            if listing.seller_id in banned:
                assert listing.status is ListingStatus.REMOVED, (
                    f"listing {listing.listing_ref} of a banned seller is {listing.status}")
            if listing.status is ListingStatus.REMOVED:
                assert listing.id in held_down or listing.seller_id in banned, (
                    f"listing {listing.listing_ref} is down with no removal standing and its seller not banned")
        if banned:
            event("some seller banned")
        for seller in view.sellers.values():
            if seller.is_banned:
                assert seller.status is SellerStatus.CLOSED, f"banned seller {seller.seller_ref} is {seller.status}"
                own = view.keys.get(seller.id, set())
                linked = {other for other, keys in view.keys.items() if other != seller.id and keys & own}
                assert linked <= banned, f"sellers {linked - banned} share identity with banned {seller.seller_ref}"


def _fmt(states: dict[int, ItemState]) -> str:
    return "{" + ", ".join(f"{k}: {v.value}" for k, v in sorted(states.items())) + "}"


def _diff(before: Snapshot, after: Snapshot) -> str:
    parts = []
    for name in ("items", "listings", "sellers", "strikes", "holders"):
        a, b = getattr(before, name), getattr(after, name)
        changed = {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}
        if changed:
            parts.append(f"{name}: {changed}")
    if before.audit_events != after.audit_events:
        parts.append(f"audit events {before.audit_events} -> {after.audit_events}")
    return "; ".join(parts)


def test_random_sequences_of_use_cases_keep_the_invariants(fresh_app: Callable[[], Assay]) -> None:
    run_state_machine_as_test(
        lambda: TakedownMachine(fresh_app),
        settings=settings(
            max_examples=MAX_EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
        ),
    )
