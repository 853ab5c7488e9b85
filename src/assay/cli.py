"""The `assay` command: parse, call a use case, answer. Nothing else lives here."""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from assay.domain.errors import DomainError, ValidationFailed
from assay.domain.identity import TraderIdentity
from assay.domain.model import Seller
from assay.domain.notices import InfringementType, Notice
from assay.domain.reasons import StatementOfReasons
from assay.services import catalog, enrolment, marketplace, notices, redress, reports, sanctions
from assay.services.app import Assay
from assay.services.clock import ManualClock
from assay.services.deadlines import process_due
from assay.store import database
from assay.store.audit_log import events_for, verify_log

app = typer.Typer(help="Assay: find counterfeit listings and take them down, fairly and in the open.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="The database and its schema.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
holder_app = typer.Typer(help="Rights holders.", no_args_is_help=True)
right_app = typer.Typer(help="Trademark rights and their verification.", no_args_is_help=True)
brand_app = typer.Typer(help="Brands, catalogs and authorized sellers.", no_args_is_help=True)
seller_app = typer.Typer(help="Sellers (storefronts), their strikes and sanctions.", no_args_is_help=True)
listing_app = typer.Typer(help="Listings.", no_args_is_help=True)
notice_app = typer.Typer(help="Notices: file, show, withdraw.", no_args_is_help=True)
review_app = typer.Typer(help="The reviewers' queue and decisions.", no_args_is_help=True)
for sub, name in ((db_app, "db"), (audit_app, "audit"), (holder_app, "holder"), (right_app, "right"),
                  (brand_app, "brand"), (seller_app, "seller"), (listing_app, "listing"),
                  (notice_app, "notice"), (review_app, "review")):
    app.add_typer(sub, name=name)

console = Console()
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])
Actor = Annotated[str, typer.Option(help="Who acts, as recorded in the audit log.")]


def friendly(command: F) -> F:
    """Errors a person can act on, never a stack trace."""
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ValidationFailed as problem:
            err.print("[red]error:[/red] the request is not valid:")
            for line in problem.problems:
                err.print(f"  - {line}")
            raise typer.Exit(1) from None
        except DomainError as problem:
            err.print(f"[red]error:[/red] {problem}")
            raise typer.Exit(1) from None
        except database.SchemaOutOfDate as problem:
            err.print(f"[red]error:[/red] {problem}")
            raise typer.Exit(2) from None
    return wrapper


def open_app() -> Assay:
    """The configured database, on the real clock unless ASSAY_NOW pins the time (for rehearsals)."""
    pinned = os.environ.get("ASSAY_NOW")
    clock = ManualClock(datetime.fromisoformat(pinned)) if pinned else None
    return Assay.open(clock=clock)


# -- database and audit ------------------------------------------------------------------

@db_app.command("upgrade")
@friendly
def db_upgrade() -> None:
    """Bring the database to the latest schema."""
    engine = database.make_engine()
    before = database.current_revision(engine)
    database.upgrade(engine)
    after = database.current_revision(engine)
    where = engine.url.render_as_string(hide_password=True)
    console.print(f"{where}: schema {before or 'empty'} -> {after}" if before != after else f"{where}: schema {after}, already current")


@db_app.command("current")
@friendly
def db_current() -> None:
    """Show the schema revision of the database, and whether it is current."""
    engine = database.make_engine()
    current, head = database.current_revision(engine), database.head_revision()
    console.print(f"schema {current or 'none'} (this Assay needs {head})")
    if current != head:
        raise typer.Exit(2)


@audit_app.command("verify")
@friendly
def audit_verify() -> None:
    """Check the hash chain; exit non-zero naming the first bad sequence number."""
    with open_app().uow() as uow:
        counted, problem = verify_log(uow.session)
    if problem is not None:
        err.print(f"[red]TAMPERED:[/red] {problem}")
        raise typer.Exit(1)
    console.print(f"audit log intact: {counted} events, chain verified")


@audit_app.command("trail")
@friendly
def audit_trail(entity_type: str, entity_id: str) -> None:
    """Every event of one object, e.g. `assay audit trail notice_item 7`."""
    with open_app().uow() as uow:
        events = events_for(uow.session, entity_type, entity_id)
    table = Table("seq", "at", "actor", "action", "before", "after", "reason")
    for e in events:
        table.add_row(str(e.seq), e.at.isoformat(timespec="seconds"), e.actor, e.action,
                      json.dumps(e.before, ensure_ascii=False) if e.before else "",
                      json.dumps(e.after, ensure_ascii=False) if e.after else "", e.reason or "")
    console.print(table)


# -- rights holders and rights --------------------------------------------------------------

@holder_app.command("enroll")
@friendly
def holder_enroll(name: str, email: Annotated[str, typer.Option()],
                  good_faith: Annotated[bool, typer.Option(help="Sign the good-faith undertaking now.")] = False,
                  actor: Actor = "cli") -> None:
    """Enroll a rights holder."""
    with open_app().uow(actor) as uow:
        holder_id = enrolment.enroll_holder(uow, name=name, contact_email=email, sign_good_faith=good_faith)
    console.print(f"rights holder {holder_id} enrolled")


@holder_app.command("sign-undertaking")
@friendly
def holder_sign(holder_id: int, actor: Actor = "cli") -> None:
    """Sign the good-faith undertaking that the expedited lane requires."""
    with open_app().uow(actor) as uow:
        enrolment.sign_good_faith_undertaking(uow, holder_id)
    console.print(f"rights holder {holder_id} signed the good-faith undertaking")


@right_app.command("add")
@friendly
def right_add(
    holder: Annotated[int, typer.Option(help="Rights holder id.")],
    mark: Annotated[str, typer.Option()], office: Annotated[str, typer.Option()],
    number: Annotated[str, typer.Option(help="Registration number.")],
    category: Annotated[list[str], typer.Option(help="A product category; repeat for more.")],
    expires: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"])],
    nice_class: Annotated[list[str] | None, typer.Option("--class", help="A Nice class; repeat for more.")] = None,
    actor: Actor = "cli",
) -> None:
    """Claim a trademark registration (pending until verified)."""
    with open_app().uow(actor) as uow:
        right_id = enrolment.add_right(uow, holder_id=holder, mark=mark, office=office, registration_number=number,
                                       classes=nice_class or [], categories=category, expires_on=expires.date())
    console.print(f"right {right_id} added, pending verification")


@right_app.command("verify")
@friendly
def right_verify(right_id: int, reject: Annotated[bool, typer.Option(help="Reject instead of verify.")] = False,
                 reason: Annotated[str | None, typer.Option()] = None, actor: Actor = "coalition") -> None:
    """Verify (or reject) a claimed trademark registration."""
    with open_app().uow(actor) as uow:
        status = enrolment.decide_right(uow, right_id, verified=not reject, reason=reason)
    console.print(f"right {right_id} {status.value}")


# -- brands, sellers, listings -----------------------------------------------------------------

@brand_app.command("register")
@friendly
def brand_register(record: Annotated[Path, typer.Argument(help="A JSON file: one brands.jsonl record.")],
                   holder: Annotated[int, typer.Option(help="Rights holder id.")], actor: Actor = "cli") -> None:
    """Register or update a brand from a brand record (FORMATS.md)."""
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as problem:
        raise ValidationFailed([f"{record}: cannot be read ({problem})"]) from None
    except json.JSONDecodeError as problem:
        raise ValidationFailed([f"{record}: not JSON ({problem})"]) from None
    if not isinstance(data, dict):
        raise ValidationFailed([f"{record}: expected a JSON object"])
    with open_app().uow(actor) as uow:
        brand_id = catalog.register_brand(
            uow, holder_id=holder, brand_ref=str(data.get("brand_id", "")), name=str(data.get("name", "")),
            marks=list(data.get("marks") or []), categories=list(data.get("categories") or []),
            products=list(data.get("products") or []), authorized_sellers=list(data.get("authorized_sellers") or []))
    console.print(f"brand {brand_id} registered")


@brand_app.command("authorize")
@friendly
def brand_authorize(brand_id: int, seller_ref: str,
                    revoke: Annotated[bool, typer.Option(help="Withdraw the authorization instead.")] = False,
                    actor: Actor = "cli") -> None:
    """Name (or withdraw) a seller licensed to sell the brand's genuine goods."""
    with open_app().uow(actor) as uow:
        catalog.set_authorized_seller(uow, brand_id=brand_id, seller_ref=seller_ref, authorized=not revoke)
    console.print(f"{seller_ref} {'no longer ' if revoke else ''}authorized for brand {brand_id}")


@seller_app.command("upsert")
@friendly
def seller_upsert(
    marketplace_code: Annotated[str, typer.Option("--marketplace")], seller_ref: Annotated[str, typer.Option("--id")],
    store_name: Annotated[str, typer.Option()], legal_name: Annotated[str | None, typer.Option()] = None,
    email: Annotated[str | None, typer.Option()] = None, phone: Annotated[str | None, typer.Option()] = None,
    address: Annotated[str | None, typer.Option()] = None, tax_id: Annotated[str | None, typer.Option()] = None,
    payment_account: Annotated[str | None, typer.Option()] = None, actor: Actor = "cli",
) -> None:
    """Create or update a seller with its trader identity."""
    identity = TraderIdentity(legal_name, email, phone, address, tax_id, payment_account)
    with open_app().uow(actor) as uow:
        seller_id = marketplace.upsert_seller(uow, marketplace=marketplace_code, seller_ref=seller_ref,
                                              store_name=store_name, registered_at=uow.now, identity=identity)
        seller = uow.repo.get(Seller, seller_id)
    note = f" (closed and banned: {seller.ban_reason})" if seller.is_banned else ""
    console.print(f"seller {seller_id} saved{note}")


@seller_app.command("show")
@friendly
def seller_show(seller_id: int) -> None:
    """A seller's status, strikes and every statement of reasons it received."""
    with open_app().uow() as uow:
        seller = uow.repo.get(Seller, seller_id)
        strikes = uow.repo.strikes_of(seller_id)
        statements = uow.repo.all(StatementOfReasons, seller_id=seller_id)
        policy = uow.policy
        now = uow.now
    console.print(f"[bold]{seller.store_name}[/bold] ({seller.seller_ref}): {seller.status.value}"
                  + (f", banned: {seller.ban_reason}" if seller.is_banned else ""))
    standing = [s for s in strikes if s.is_standing(now, policy)]
    console.print(f"strikes: {len(standing)} standing of {len(strikes)}")
    for statement in statements:
        console.print(f"\n[bold]statement {statement.id}[/bold] ({statement.decided_at:%Y-%m-%d %H:%M})")
        console.print(statement.render(), markup=False)


@seller_app.command("sanctions")
@friendly
def seller_sanctions(seller_id: int, actor: Actor = "cli") -> None:
    """Re-apply the strike policy to a seller (for example after strikes aged out)."""
    with open_app().uow(actor) as uow:
        taken = sanctions.apply_sanctions_now(uow, seller_id)
    console.print(", ".join(m.value for m in taken) or "no change")


@listing_app.command("upsert")
@friendly
def listing_upsert(
    marketplace_code: Annotated[str, typer.Option("--marketplace")], listing_ref: Annotated[str, typer.Option("--id")],
    seller: Annotated[str, typer.Option(help="The seller's id on the marketplace.")],
    title: Annotated[str, typer.Option()], category: Annotated[str, typer.Option()],
    price: Annotated[str, typer.Option()], currency: Annotated[str, typer.Option()],
    description: Annotated[str, typer.Option()] = "", actor: Actor = "cli",
) -> None:
    """Create or update a listing."""
    with open_app().uow(actor) as uow:
        listing_id = marketplace.upsert_listing(uow, marketplace=marketplace_code, listing_ref=listing_ref,
                                                seller_ref=seller, title=title, category=category, price=price,
                                                currency=currency, created_at=uow.now, description=description)
    console.print(f"listing {listing_id} saved")


# -- notices and decisions -------------------------------------------------------------------------

@notice_app.command("file")
@friendly
def notice_file(
    holder: Annotated[int, typer.Option(help="Your rights holder id.")],
    right: Annotated[list[int], typer.Option(help="A right invoked; repeat for more.")],
    listing: Annotated[list[str], typer.Option(help="Assay id or marketplace:listing_id; repeat for more.")],
    kind: Annotated[InfringementType, typer.Option("--type")],
    explanation: Annotated[str, typer.Option()], signature: Annotated[str, typer.Option()],
    evidence: Annotated[list[str] | None, typer.Option(help="An evidence reference; repeat for more.")] = None,
    good_faith: Annotated[bool, typer.Option(help="I believe in good faith the use is not authorised.")] = False,
    accurate: Annotated[bool, typer.Option(help="The notice is accurate.")] = False,
    actor: Actor = "cli",
) -> None:
    """File a notice against one or many listings."""
    with open_app().uow(actor) as uow:
        result = notices.file_notice(uow, holder_id=holder, right_ids=right, listings=listing, infringement_type=kind,
                                     explanation=explanation, evidence=evidence or [], good_faith=good_faith,
                                     accurate=accurate, signature=signature)
    if result.incomplete_reasons:
        # Kept on record, but nothing will happen to the listings: a script must be able to tell.
        err.print(f"notice {result.notice_id} is [red]incomplete[/red] and was not acted on:")
        for line in result.incomplete_reasons:
            err.print(f"  - {line}")
    else:
        console.print(f"notice {result.notice_id} filed in the {result.lane.value} lane ({'; '.join(result.lane_reasons)})")
        console.print(f"  removed at once: {result.removed or 'none'}; queued for review: {result.queued or 'none'}")
    for ref, why in result.rejected:
        console.print(f"  [yellow]rejected[/yellow] listing {ref}: {why}")
    if result.incomplete_reasons:
        raise typer.Exit(1)


@notice_app.command("show")
@friendly
def notice_show(notice_id: int) -> None:
    """A notice, its items and their states."""
    with open_app().uow() as uow:
        notice = uow.repo.get(Notice, notice_id)
        items = list(notice.items)
    console.print(f"[bold]notice {notice.id}[/bold] by holder {notice.holder_id}, {notice.infringement_type.value}, "
                  f"{notice.lane.value} lane, filed {notice.filed_at:%Y-%m-%d %H:%M}")
    for reason in notice.incomplete_reasons:
        console.print(f"  incomplete: {reason}")
    table = Table("item", "listing", "state", "deadline")
    for item in items:
        due = item.review_due_at if item.state.value == "in_review" else (
            item.counter_notice_until if item.state.value == "removed" else item.reply_due_at)
        table.add_row(str(item.id), str(item.listing_id), item.state.value,
                      due.isoformat(timespec="minutes") if due and not item.state.is_terminal else "")
    console.print(table)


@notice_app.command("withdraw")
@friendly
def notice_withdraw(notice_id: int, holder: Annotated[int, typer.Option()],
                    item: Annotated[list[int] | None, typer.Option(help="Only this item; repeat for more.")] = None,
                    reason: Annotated[str, typer.Option()] = "withdrawn by the rights holder",
                    actor: Actor = "cli") -> None:
    """Withdraw a notice (or some of its items); removed listings go back up."""
    with open_app().uow(actor) as uow:
        withdrawn = notices.withdraw(uow, notice_id, holder_id=holder, item_ids=item, reason=reason)
    console.print(f"withdrawn items: {withdrawn}")


@review_app.command("queue")
@friendly
def review_queue(limit: int = 50) -> None:
    """Items waiting for a reviewer, soonest deadline first."""
    with open_app().uow() as uow:
        items = uow.repo.review_queue(limit)
    table = Table("item", "notice", "listing", "state", "due", "overdue")
    for i in items:
        due = i.review_due_at if i.state.value == "in_review" else i.appeal_due_at
        table.add_row(str(i.id), str(i.notice_id), str(i.listing_id), i.state.value,
                      due.isoformat(timespec="minutes") if due else "", "yes" if i.overdue else "")
    console.print(table)


@review_app.command("decide")
@friendly
def review_decide(item_id: int, remove: Annotated[bool, typer.Option("--remove/--decline")],
                  reason: Annotated[str, typer.Option()],
                  unfounded: Annotated[bool, typer.Option(help="The notice is manifestly unfounded.")] = False,
                  actor: Actor = "reviewer") -> None:
    """Decide a standard-lane item: remove the listing or decline the notice."""
    with open_app().uow(actor) as uow:
        state = notices.decide_review(uow, item_id, remove=remove, reason=reason, manifestly_unfounded=unfounded)
    console.print(f"item {item_id}: {state.value}")


@review_app.command("appeal")
@friendly
def review_appeal(item_id: int, uphold: Annotated[bool, typer.Option("--uphold/--reinstate")],
                  reason: Annotated[str, typer.Option()], actor: Actor = "reviewer") -> None:
    """Decide an item whose counter-notice the rights holder maintained."""
    with open_app().uow(actor) as uow:
        state = redress.decide_appeal(uow, item_id, uphold=uphold, reason=reason)
    console.print(f"item {item_id}: {state.value}")


@app.command("counter-notice")
@friendly
def counter_notice_command(item_id: int, seller: Annotated[int, typer.Option(help="Your seller id.")],
                           statement: Annotated[str, typer.Option()], signature: Annotated[str, typer.Option()],
                           actor: Actor = "cli") -> None:
    """As a seller, contest the removal of your listing."""
    with open_app().uow(actor) as uow:
        state = redress.counter_notice(uow, item_id, seller_id=seller, statement=statement, signature=signature)
    console.print(f"item {item_id}: {state.value}")


@app.command("reply")
@friendly
def reply_command(item_id: int, holder: Annotated[int, typer.Option(help="Your rights holder id.")],
                  maintain: Annotated[bool, typer.Option("--maintain/--withdraw")],
                  statement: Annotated[str, typer.Option()] = "", actor: Actor = "cli") -> None:
    """As the rights holder, answer a counter-notice."""
    with open_app().uow(actor) as uow:
        state = redress.reply(uow, item_id, holder_id=holder, maintain=maintain, statement=statement)
    console.print(f"item {item_id}: {state.value}")


@app.command("worker")
@friendly
def worker(once: Annotated[bool, typer.Option(help="One pass, then exit.")] = False,
           interval: Annotated[float, typer.Option(help="Seconds between passes.")] = 60.0) -> None:
    """Act on due deadlines (flag overdue reviews, reinstate unanswered counter-notices), judge
    listings that arrived unscanned, and file for brands that opted in to proactive removal."""
    from assay.services.store_scan import scan_store

    assay = open_app()
    while True:
        done = process_due(lambda: assay.uow("worker"))
        found = scan_store(lambda: assay.uow("worker"), only_pending=True)
        console.print(f"{datetime.now():%H:%M:%S} overdue flagged {done.flagged_overdue}, reinstated {done.reinstated}, "
                      f"rights expired {done.rights_expired}, listings scanned {found.listings}, "
                      f"suggested {found.suggested}, filed {found.filed}"
                      + (f", failed {done.failed}" if done.failed else ""))
        if once:
            return
        time.sleep(interval)


@app.command("generate")
@friendly
def generate_command(
    out: Annotated[Path, typer.Argument(help="The snapshot directory to write.")],
    listings: Annotated[int, typer.Option(min=0, help="How many listings.")] = 10_000,
    seed: Annotated[int, typer.Option(help="The same seed writes the same snapshot.")] = 1,
    labels: Annotated[Path | None, typer.Option(help="Also write the ground truth per listing here.")] = None,
    images: Annotated[bool, typer.Option(help="Draw product photos (--no-images: text only).")] = True,
    brands: Annotated[int | None, typer.Option(min=1, help="How many brands (default: scales with listings).")] = None,
) -> None:
    """Write a realistic marketplace snapshot (FORMATS.md), deterministic for a seed."""
    from assay.demo.generator import generate

    summary = generate(out, listings=listings, seed=seed, labels=labels, images=images, brands=brands)
    files = ", ".join(f"{count:,} {name}" for name, count in summary.files.items())
    console.print(f"wrote {out}: {files}", highlight=False)


@app.command("ingest")
@friendly
def ingest_command(
    snapshot: Annotated[Path, typer.Argument(help="A snapshot directory (FORMATS.md).")],
    rejects: Annotated[Path | None, typer.Option(help="Where to write the rejected records (JSON Lines).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Records per transaction and checkpoint.")] = 2000,
    scan: Annotated[bool, typer.Option(help="Judge new and changed listings as they arrive (--no-scan: leave "
                                            "them to `assay worker` or `assay scan --db`).")] = True,
    workers: Annotated[int | None, typer.Option(min=1, help="Processes: from two on, one reads ahead of the "
                                                            "writer, and that many fingerprint photos (default: "
                                                            "one per core).")] = None,
    actor: Actor = "ingest",
) -> None:
    """Load a marketplace snapshot; a killed run started again resumes where it stopped."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from assay.services.ingest import Ingest, write_rejects

    assay = open_app()
    job = Ingest(assay, snapshot, actor=actor, batch_size=batch_size, scan=scan, workers=workers)
    if console.is_terminal:
        with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                      TimeRemainingColumn(), console=console, transient=True) as bar:
            task = bar.add_task("ingesting", total=job.total_bytes)
            job.progress = lambda n: bar.advance(task, n)
            summary = job.run()
    else:
        summary = job.run()
    target = rejects or snapshot / "rejects.jsonl"
    written = write_rejects(assay, summary.run_id, target)
    console.print(summary.line() + (f"; rejects in {target}" if written else ""), highlight=False)


@app.command("scan")
@friendly
def scan_command(
    snapshot: Annotated[Path | None, typer.Argument(help="A snapshot directory (FORMATS.md).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the flags (JSON Lines).")] = None,
    rejects: Annotated[Path | None, typer.Option(help="Where to write the rejected records (JSON Lines).")] = None,
    engine: Annotated[str, typer.Option(help="local, or ray to run the same pipeline on a Ray cluster.")] = "local",
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: one per core).")] = None,
    db: Annotated[bool, typer.Option("--db", help="Scan the listings in the store; keep suggestions.")] = False,
    actor: Actor = "detection",
) -> None:
    """Judge every listing of a snapshot (one line per listing infringing or suspect), or of the store."""
    from assay.services.scan import scan

    if db:
        from assay.services.store_scan import scan_store

        assay = open_app()
        found = scan_store(lambda: assay.uow(actor))
        console.print(f"scan: {found.listings:,} listings judged, {found.suggested:,} new suggestions, "
                      f"{found.filed:,} filed for brands that opted in to proactive removal", highlight=False)
        return
    problems = [m for m, missing in (("SNAPSHOT: name a snapshot directory, or pass --db", snapshot is None),
                                     ("--out: where to write the flags", out is None)) if missing]
    if engine not in ("local", "ray"):
        problems.append(f"--engine: {engine!r} is neither 'local' nor 'ray'")
    if problems:
        raise ValidationFailed(problems)
    assert snapshot is not None and out is not None
    summary = scan(snapshot, out, rejects_path=rejects, engine=engine, workers=workers)
    console.print(summary.line() + (f"; rejects in {rejects}" if rejects and summary.rejected else ""),
                  highlight=False)


suggestion_app = typer.Typer(help="What detection found: confirm (files a notice) or dismiss.", no_args_is_help=True)
app.add_typer(suggestion_app, name="suggestion")


@suggestion_app.command("list")
@friendly
def suggestion_list(status: Annotated[str, typer.Option(help="open, confirmed or dismissed.")] = "open",
                    limit: int = 50) -> None:
    """Suggestions from detection, best score first."""
    from sqlalchemy import select

    from assay.store.tables import suggestions

    with open_app().uow() as uow:
        rows = uow.session.execute(select(suggestions).where(suggestions.c.status == status)
                                   .order_by(suggestions.c.score.desc(), suggestions.c.id).limit(limit)).mappings().all()
    table = Table("id", "listing", "brand", "verdict", "score", "source", "why")
    for row in rows:
        why = "; ".join(s["detail"] for s in row["signals"][:2])
        table.add_row(str(row["id"]), str(row["listing_id"]), str(row["brand_id"]), row["verdict"],
                      f"{row['score']:.2f}", row["source"], why)
    console.print(table)


@suggestion_app.command("confirm")
@friendly
def suggestion_confirm(suggestion_id: int, holder: Annotated[int, typer.Option(help="Your rights holder id.")],
                       right: Annotated[list[int], typer.Option(help="A right invoked; repeat for more.")],
                       signature: Annotated[str, typer.Option()], actor: Actor = "cli") -> None:
    """Confirm a suggestion: a notice is filed in your name."""
    from assay.services.suggestions import confirm

    with open_app().uow(actor) as uow:
        notice_id = confirm(uow, suggestion_id, holder_id=holder, right_ids=right, signature=signature)
    console.print(f"suggestion {suggestion_id} confirmed: notice {notice_id} filed")


@suggestion_app.command("dismiss")
@friendly
def suggestion_dismiss(suggestion_id: int, holder: Annotated[int, typer.Option(help="Your rights holder id.")],
                       reason: Annotated[str, typer.Option()], actor: Actor = "cli") -> None:
    """Dismiss a suggestion: remembered, and counted in detection's accuracy."""
    from assay.services.suggestions import dismiss

    with open_app().uow(actor) as uow:
        dismiss(uow, suggestion_id, holder_id=holder, reason=reason)
    console.print(f"suggestion {suggestion_id} dismissed")


@brand_app.command("proactive")
@friendly
def brand_proactive(brand_id: int, holder: Annotated[int, typer.Option(help="Your rights holder id.")],
                    enable: Annotated[bool, typer.Option("--on/--off")], actor: Actor = "cli") -> None:
    """Opt in (or out) of proactive removal: detection files expedited notices for the brand."""
    with open_app().uow(actor) as uow:
        catalog.set_proactive_removal(uow, brand_id=brand_id, holder_id=holder, enabled=enable)
    console.print(f"proactive removal {'on' if enable else 'off'} for brand {brand_id}")


@app.command("report")
@friendly
def report() -> None:
    """Takedown figures for the whole database."""
    from assay.services.suggestions import accuracy

    with open_app().uow() as uow:
        figures = reports.summary(uow)
        answered = accuracy(uow)
    print_summary(figures)
    judged = answered["confirmed"] + answered["dismissed"]
    share = f"{answered['confirmed'] / judged:.0%} confirmed by the brands" if judged else "none answered yet"
    console.print(f"detection suggestions: {answered['confirmed']} confirmed, {answered['dismissed']} dismissed, "
                  f"{answered['open']} open ({share})", highlight=False)


def print_summary(figures: reports.Summary) -> None:
    table = Table("figure", "value", title="Summary")
    median = figures.median_time_to_takedown
    for name, value in (
        ("notice items", figures.notice_items), ("listings removed", figures.listings_removed),
        ("storefronts closed", figures.storefronts_closed), ("take-down rate", f"{figures.takedown_rate:.0%}"),
        ("median time to takedown", _duration(median) if median is not None else "n/a"),
        ("reversals", figures.reversals),
    ):
        table.add_row(name, str(value))
    console.print(table)


def _duration(delta: Any) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


@app.command("demo")
@friendly
def demo(serve: Annotated[bool, typer.Option(help="Serve the API on the demo's world once its story is told.")] = True,
         reset: Annotated[bool, typer.Option(help="Replace what the database holds, even if not a demo.")] = False,
         snapshot: Annotated[Path, typer.Option(help="Where to write the generated marketplace.")] = Path("demo-snapshot"),
         ) -> None:
    """Build a realistic marketplace and play its takedown story end to end."""
    from assay.demo.runner import run_demo

    engine = database.make_engine()
    figures = run_demo(engine, snapshot=snapshot, reset=reset, say=console.print)
    print_summary(figures)
    with Assay(engine).uow() as uow:
        counted, problem = verify_log(uow.session)
        ring = uow.repo.seller_by_ref("bazaar", "s-luxdeals")
    console.print(f"audit log: {counted} events, {'chain intact' if problem is None else problem}")
    where = engine.url.render_as_string(hide_password=True)
    ring_id = ring.id if ring else 1
    console.print(f"\nThe demo's world is in {where}. Look around: `assay report`, `assay review queue`, "
                  f"`assay seller show {ring_id}`, `assay audit trail seller {ring_id}`, `assay audit verify`.")
    if serve:
        serve_demo(Assay(engine))


def serve_demo(assay: Assay) -> None:
    """Accounts for each role, printed with a brand's API token, then the API on the demo's world."""
    from assay.api.server import serve as serve_api
    from assay.api.settings import Settings
    from assay.demo.accounts import DEMO_PASSWORD, create_demo_accounts

    settings = Settings()
    made, token = create_demo_accounts(assay, token_key=settings.token_key)
    base = f"http://{settings.host}:{settings.port}"
    table = Table("role", "email", "who", title=f"Demo accounts (password for all: {DEMO_PASSWORD})")
    for account in made:
        table.add_row(account.role.value, account.email, account.what)
    console.print(table)
    console.print(f"A brand's API token (Quorvex): [bold]{token}[/bold]\n"
                  f"Try: curl -H 'Authorization: Bearer {token}' {base}/v1/rights\n"
                  f"Interactive API docs: {base}/docs   (Ctrl-C stops the server)", soft_wrap=True)
    serve_api(settings, assay)


@app.command("serve")
@friendly
def serve_command(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default ASSAY_HOST or 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default ASSAY_PORT or 8000).")] = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, interactive docs at /docs). Configured by
    ASSAY_* environment variables; refuses to start outside development with the default secret."""
    from assay.api.server import serve as serve_api
    from assay.api.settings import Settings

    overrides = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    settings = Settings(**overrides)
    settings.check_safe()
    serve_api(settings, open_app())


# -- webhooks: enforcement actions sent to marketplaces ------------------------------------------

webhooks_app = typer.Typer(help="Enforcement actions sent to marketplaces by signed webhooks.", no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")
AllowPrivate = Annotated[bool, typer.Option(help="Allow loopback and private addresses (development only).")]


@webhooks_app.command("set")
@friendly
def webhooks_set(marketplace: str, url: str, allow_private: AllowPrivate = False, actor: Actor = "cli") -> None:
    """Register (or change) the URL a marketplace receives its webhooks at; prints the signing secret."""
    from assay.services import webhooks

    with open_app().uow(actor) as uow:
        secret = webhooks.set_endpoint(uow, uow.repo.marketplace(marketplace).id, url, allow_private=allow_private)
    console.print(f"{marketplace} receives its webhooks at {url}\nsigning secret: {secret}", highlight=False)


@webhooks_app.command("rotate")
@friendly
def webhooks_rotate(
    marketplace: str, actor: Actor = "cli",
    overlap_hours: Annotated[int, typer.Option(min=0, max=168, help="Hours the old secret keeps signing too.")] = 24,
) -> None:
    """Give a marketplace a new signing secret; prints it. The old one signs beside it for a while."""
    from assay.services import webhooks

    with open_app().uow(actor) as uow:
        secret = webhooks.rotate_secret(uow, uow.repo.marketplace(marketplace).id,
                                        overlap=timedelta(hours=overlap_hours))
    until = f"; the old one signs too for {overlap_hours} h" if overlap_hours else "; the old one no longer signs"
    console.print(f"{marketplace}'s new signing secret: {secret}{until}", highlight=False)


@webhooks_app.command("deliver")
@friendly
def webhooks_deliver(once: Annotated[bool, typer.Option(help="One pass, then exit.")] = False,
                     interval: Annotated[float, typer.Option(help="Seconds between passes.")] = 5.0,
                     allow_private: AllowPrivate = False) -> None:
    """Send the events that are due, retrying failures with growing delays."""
    import threading

    from assay.services.webhooks import Dispatcher, outbox_counts

    assay = open_app()
    dispatcher = Dispatcher(assay, allow_private=allow_private)
    try:
        if not once:
            console.print(f"sending webhooks, passing every {interval:g} s; Ctrl-C stops")
            dispatcher.run_forever(threading.Event(), poll_interval=interval)  # until Ctrl-C
            return
        attempts = dispatcher.deliver_due()
    except KeyboardInterrupt:
        return
    finally:
        dispatcher.close()
    with assay.uow() as uow:
        counts = outbox_counts(uow)
    console.print(f"attempts {attempts}; events pending {counts['pending']}, delivered {counts['delivered']}, "
                  f"failed {counts['failed']}", highlight=False)


@webhooks_app.command("log")
@friendly
def webhooks_log(marketplace: str, limit: int = 20) -> None:
    """The latest attempts to deliver to a marketplace, newest first."""
    from rich.markup import escape

    from assay.services import webhooks

    with open_app().uow() as uow:
        attempts = webhooks.deliveries(uow, uow.repo.marketplace(marketplace).id, limit=limit)
    table = Table("when", "event", "message", "attempt", "answer", "ms", title=f"Webhook deliveries to {marketplace}")
    for d in attempts:
        answer = str(d.status_code) if d.succeeded else (d.error or str(d.status_code))
        table.add_row(f"{d.attempted_at:%Y-%m-%d %H:%M:%S}", d.event_type, d.message_id, str(d.attempt), escape(answer),
                      str(d.duration_ms))
    console.print(table)


@webhooks_app.command("redeliver")
@friendly
def webhooks_redeliver(marketplace: str, actor: Actor = "cli") -> None:
    """Send once more the events the dispatcher gave up on (after the marketplace fixed its receiver)."""
    from assay.services import webhooks

    with open_app().uow(actor) as uow:
        requeued = webhooks.redeliver_failed(uow, uow.repo.marketplace(marketplace).id)
    console.print(f"{requeued} failed events queued again")
