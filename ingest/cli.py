"""The ``councilreg`` command. Each command opens the store, calls one library function, prints.

Each command imports what it uses when it runs: the parsers (spaCy, pdfplumber), the
matcher (SciPy) and the web server take seconds to load, and ``--help``, ``status`` or
``export`` should answer at once (bench/startup.py measures it).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from corpus.settings import MatchSettings
from ingest.settings import AppContext

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ingest.batch import BatchReport
    from ingest.unit import IngestOptions, Outcome
    from parsers.model import Period
    from parsers.ocr import OcrMode

pass_app = click.make_pass_decorator(AppContext)
ocr_option = click.option(
    "--ocr",
    type=click.Choice(["auto", "never", "always"]),
    default="auto",
    show_default=True,
    help="Read PDF pages from their image with Tesseract: auto, pages without a usable text layer.",
)

time_limit_option = click.option(
    "--time-limit",
    type=click.FloatRange(min=0.1),
    default=600.0,
    show_default=True,
    help="Seconds allowed to read one document.",
)


def processes_option(name: str, help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        name,
        type=click.IntRange(1, 64),
        default=lambda: os.cpu_count() or 1,
        show_default="number of CPUs",
        help=help,
    )


def _period(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Period | None:
    from parsers.periods import parse_period_label

    if value is None:
        return None
    period = parse_period_label(value)
    if period is None:
        raise click.BadParameter(f"{value!r} is not a financial year; write it like 2017/18")
    return period


def _store_errors(function: Callable[..., Any]) -> Callable[..., Any]:
    """Turn an unusable or unreachable database into one line that says what to do."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sqlalchemy.exc import OperationalError

        from models.store import StoreError

        try:
            return function(*args, **kwargs)
        except StoreError as error:
            raise click.ClickException(
                f"{error} (--database-url or COUNCILREG_DATABASE_URL)"
            ) from error
        except OperationalError as error:
            reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            raise click.ClickException(
                f"cannot open the database: {reason}. Check --database-url or "
                "COUNCILREG_DATABASE_URL."
            ) from error

    wrapper.__name__ = function.__name__
    wrapper.__doc__ = function.__doc__
    return wrapper


def _known_council(session: Session, council: str | None) -> None:
    """A council option that names no stored council is a mistake, not an empty answer."""
    from corpus.queries import councils

    known = councils(session)
    if council is not None and council not in known:
        names = ", ".join(sorted(c for c in known if c)) or "none yet"
        raise click.ClickException(
            f"no documents of council {council!r} are stored (councils: {names})"
        )


@click.group()
@click.option(
    "--database-url",
    envvar="COUNCILREG_DATABASE_URL",
    show_default="sqlite:///~/.local/share/councilreg/councilreg.sqlite3",
    help="SQLAlchemy URL of the store, e.g. postgresql://user@host/db.",
)
@click.option(
    "--broker-url",
    envvar="COUNCILREG_BROKER_URL",
    help="Task engine broker for ingest --queue, worker and uploads, "
    "e.g. redis://127.0.0.1:6379/0 or amqp://guest:guest@127.0.0.1:5672//.",
)
@click.version_option(package_name="councilreg")
@click.pass_context
def main(ctx: click.Context, database_url: str | None, broker_url: str | None) -> None:
    """Turn council plans and committee packs into one register of promised actions."""
    ctx.obj = AppContext(given_database_url=database_url, broker_url=broker_url)
    ctx.call_on_close(ctx.obj.close)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--council", help="Council name for every file (else read from each document).")
@click.option("--committee", help="Committee the papers went to.")
@click.option("--period", callback=_period, help="Financial year, e.g. 2017/18.")
@click.option("--meeting-date", type=click.DateTime(["%Y-%m-%d"]), help="Meeting date, YYYY-MM-DD.")
@processes_option("--workers", "Parser processes.")
@time_limit_option
@ocr_option
@click.option(
    "--queue",
    is_flag=True,
    help="Submit the files to the task engine's workers (--broker-url) instead of reading them here.",
)
@click.option(
    "--follow/--no-follow",
    default=True,
    show_default=True,
    help="With --queue: wait for the workers and print the outcome.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_app
@_store_errors
def ingest(
    app: AppContext,
    paths: tuple[Path, ...],
    council: str | None,
    committee: str | None,
    period: Period | None,
    meeting_date: dt.datetime | None,
    workers: int,
    time_limit: float,
    ocr: OcrMode,
    queue: bool,
    follow: bool,
    as_json: bool,
) -> None:
    """Ingest PDF and Word files, and folders of them, into the register."""
    from ingest.batch import BatchSettings, run_batch
    from ingest.unit import IngestOptions

    options = IngestOptions(
        council=council,
        committee=committee,
        period=period,
        meeting_date=meeting_date.date() if meeting_date else None,
        ocr=ocr,
    )
    settings = BatchSettings(workers=workers, time_limit=time_limit)
    sessions = app.sessions
    if queue:
        _submit(app, paths, options, time_limit, follow, as_json)
        return
    if as_json or not sys.stdout.isatty():
        report = run_batch(sessions, paths, options, settings)
    else:
        report = _with_progress(
            lambda on_outcome, on_reading: run_batch(
                sessions, paths, options, settings, on_outcome=on_outcome, on_reading=on_reading
            )
        )
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        for line in summary_lines(report):
            click.echo(line)
    sys.exit(0 if report.ok else 1)


def _submit(
    app: AppContext,
    paths: Iterable[Path],
    options: IngestOptions,
    time_limit: float,
    follow: bool,
    as_json: bool,
) -> None:
    """`ingest --queue`: one job row per batch, one task per file; then, unless told not to,
    follow the job's rows until the workers are done."""
    import time

    from ingest.batch import discover
    from ingest.engine import make_engine, submit_files
    from ingest.jobs import job_progress, submit_job, waiting_largest_first
    from ingest.unit import Outcome, display_name
    from models import IngestJob

    if not app.broker_url:
        raise click.UsageError(
            "--queue needs a task engine: give --broker-url or COUNCILREG_BROKER_URL"
        )
    found = list(discover(paths))
    not_read = [item for item in found if isinstance(item, Outcome)]
    with app.sessions.begin() as session:
        files = [(display_name(p), p.resolve()) for p in found if isinstance(p, Path)]
        job = submit_job(session, files, options, kind="batch")
        job_id, file_ids = job.id, waiting_largest_first(job)
    submit_files(make_engine(app.broker_url, app.database_url, time_limit), file_ids)
    if not follow:
        click.echo(job_id)
        return

    def poll() -> dict[str, Any]:
        with app.sessions() as session:
            return job_progress(session.get_one(IngestJob, job_id))

    if as_json or not sys.stdout.isatty():
        while not (progress := poll())["finished"]:
            time.sleep(0.5)
    else:
        progress = _follow_job(poll, len(file_ids))
    entries: list[dict[str, Any]] = list(progress["files"])
    entries += [
        {"name": o.file, "state": o.status, "reason": o.reason, "records": 0, "attempts": 0}
        for o in not_read
    ]
    progress["files"] = entries
    if as_json:
        click.echo(json.dumps(progress, indent=2))
    else:
        for entry in entries:
            reason = f": {entry['reason']}" if entry["reason"] else ""
            click.echo(f"{entry['state']:16} {entry['name']} ({entry['records']} records){reason}")
        click.echo(f"matched: {progress['matched']}")
    sys.exit(1 if any(entry["state"] == "failed" for entry in entries) else 0)


@main.command()
@processes_option("--concurrency", "Documents read at once (worker processes).")
@time_limit_option
@pass_app
@_store_errors
def worker(app: AppContext, concurrency: int, time_limit: float) -> None:
    """Read documents submitted to the task engine (--broker-url), on this machine."""
    from ingest.engine import make_engine, run_worker

    if not app.broker_url:
        raise click.UsageError(
            "a worker needs a task engine: give --broker-url or COUNCILREG_BROKER_URL"
        )
    app.sessions  # noqa: B018 - the store must open (and be up to date) before work arrives
    run_worker(make_engine(app.broker_url, app.database_url, time_limit), concurrency)


def _follow_job(poll: Callable[[], dict[str, Any]], total: int) -> dict[str, Any]:
    """Documents the workers have read of those sent, as they read them, then matching."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from ingest.jobs import UNFINISHED

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, transient=True) as shown:
        task = shown.add_task("Workers reading", total=total)
        while True:
            progress = poll()
            files: list[dict[str, Any]] = progress["files"]
            done = sum(f["state"] not in UNFINISHED for f in files)
            state = "Matching" if progress["state"] == "matching" else "Workers reading"
            shown.update(task, completed=done, description=state)
            if progress["finished"]:
                return progress
            time.sleep(0.5)


def _with_progress(run: Callable[..., BatchReport]) -> BatchReport:
    """Documents read of documents to read (skipped and unchanged files do not count)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("Checking files", total=None)
        waiting: list[str] = []

        def on_reading(names: list[str]) -> None:
            waiting[:] = names
            progress.update(task, total=len(names), description=_reading(waiting))

        def on_outcome(outcome: Outcome) -> None:
            if outcome.file in waiting:
                waiting.remove(outcome.file)
                progress.update(task, advance=1, description=_reading(waiting))

        return run(on_outcome, on_reading)


def _reading(waiting: list[str]) -> str:
    return f"Reading {Path(waiting[0]).name}" if waiting else "Storing"


def summary_lines(report: BatchReport) -> list[str]:
    """Counts, then each document read or failed, then skipped files grouped by kind."""
    counts = report.counts
    lines = [
        ", ".join(
            f"{counts.get(s, 0)} {s}" for s in ("new", "updated", "unchanged", "skipped", "failed")
        )
    ]
    for outcome in report.outcomes:
        if outcome.status in {"new", "updated"}:
            empty = "; ".join(outcome.notes) if not outcome.records else ""
            lines.append(
                f"  {outcome.status}: {outcome.file} ({outcome.records} records)"
                + (f" — {empty}" if empty else "")
            )
    lines.extend(f"  failed: {o.file}: {o.reason}" for o in report.outcomes if o.status == "failed")
    skipped = [o for o in report.outcomes if o.status == "skipped"]
    if skipped:
        lines.append(f"  skipped {len(skipped)} files, not PDF or Word: {_kinds(skipped)}")
    return lines


def _kinds(outcomes: Iterable[Outcome]) -> str:
    kinds = Counter(Path(o.file).suffix.lower() or "no extension" for o in outcomes)
    return ", ".join(
        f"{count} {kind}" for kind, count in sorted(kinds.items(), key=lambda k: (-k[1], k[0]))
    )


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@ocr_option
@click.option("--json", "as_json", is_flag=True, help="Print records as evaluation JSON.")
def extract(file: Path, ocr: OcrMode, as_json: bool) -> None:
    """Parse one file and print its records, without touching the database."""
    from rich.console import Console
    from rich.table import Table

    from ingest.unit import describe_parsed, display_name
    from parsers import ParseError, parse_file

    try:
        parsed = parse_file(file, ocr=ocr)
    except ParseError as error:
        raise click.ClickException(f"{display_name(file)}: {error}") from error
    except OSError as error:
        raise click.ClickException(
            f"{display_name(file)}: cannot read the file ({error.strerror})"
        ) from error
    payload = describe_parsed(file, parsed)
    if as_json:
        click.echo(json.dumps(payload, indent=1, ensure_ascii=False))
        return
    table = Table("page", "kind", "code", "title", "deadlines", "officers", "status")
    for record in payload["records"]:
        table.add_row(
            str(record["page"] or ""),
            record["kind"],
            record["code"] or "",
            record["title"][:60],
            " ".join(record["deadlines"]),
            "; ".join(record["officers"]),
            record["status"] or "",
        )
    console = Console()
    console.print(table)
    for problem in payload["problems"]:
        console.print(f"[yellow]problem:[/] {problem}")


@main.command()
@click.option("--json", "as_json", is_flag=True)
@pass_app
@_store_errors
def status(app: AppContext, as_json: bool) -> None:
    """Documents and records per council and period, and the files with problems."""
    from ingest.report import store_status

    summary = store_status(app.sessions)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("council", "period", "documents", "records")
    for row in summary["periods"]:
        table.add_row(
            row["council"] or "(unknown)",
            row["period"] or "(unknown)",
            str(row["documents"]),
            str(row["records"]),
        )
    Console().print(table)
    for problem in summary["problems"]:
        click.echo(f"{problem['status']}: {problem['file']}: {'; '.join(problem['problems'])}")


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command()
@pass_app
@_store_errors
def upgrade(app: AppContext) -> None:
    """Bring the database schema up to date."""
    app.sessions  # noqa: B018 - opening the store upgrades it
    click.echo("database is up to date")


@main.command()
@click.option("--council", help="Match this council only (default: every council).")
@click.option(
    "--auto",
    type=click.FloatRange(0, 1),
    default=MatchSettings.auto,
    show_default=True,
    help="Link automatically at or above this score.",
)
@click.option(
    "--review",
    "review_at",
    type=click.FloatRange(0, 1),
    default=MatchSettings.review,
    show_default=True,
    help="Queue for review at or above this score.",
)
@click.option(
    "--learn",
    is_flag=True,
    help="Move the hand-set weights by what reviewers have judged (stored with the run).",
)
@click.option("--json", "as_json", is_flag=True)
@pass_app
@_store_errors
def match(
    app: AppContext,
    council: str | None,
    auto: float,
    review_at: float,
    learn: bool,
    as_json: bool,
) -> None:
    """Link unmatched records to canonical items across years; print auto, pending and new counts."""
    from corpus.register import run_matching

    if review_at > auto:
        raise click.BadParameter("--review must not be above --auto", param_hint="--review")
    settings = MatchSettings(auto=auto, review=review_at, learn=learn, workers=-1)
    with app.sessions() as session:
        _known_council(session, council)
        summaries = run_matching(session, settings, council=council, all_councils=council is None)
    if as_json:
        click.echo(json.dumps([s.__dict__ for s in summaries], indent=2))
        return
    if not summaries:
        click.echo("nothing to match: no documents stored yet")
    for summary in summaries:
        counts = summary.counts
        click.echo(
            f"{summary.council or '(council unknown)'}: {counts['auto']} auto, "
            f"{counts['pending']} pending review, {counts['new']} new"
        )


@main.command()
@click.argument("target", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--occurrences", is_flag=True, help="One row per record instead of one per item.")
@click.option("--council", help="Only this council.")
@click.option("--excel", is_flag=True, help="Start a CSV file with a BOM so Excel reads UTF-8.")
@pass_app
@_store_errors
def export(
    app: AppContext, target: Path, occurrences: bool, council: str | None, excel: bool
) -> None:
    """Write the register (or every occurrence) to TARGET ('-' for stdout as CSV).

    TARGET's extension chooses the format: .xlsx is an Excel workbook with a sheet for the
    register and one for the occurrences (the one asked for first); anything else is CSV.
    """
    from corpus.export import (
        OCCURRENCE_COLUMNS,
        REGISTER_COLUMNS,
        occurrence_rows,
        register_rows,
        write_csv,
        write_xlsx,
    )

    to_stdout = str(target) == "-"
    columns = OCCURRENCE_COLUMNS if occurrences else REGISTER_COLUMNS
    with app.sessions() as session:
        _known_council(session, council)
        rows = occurrence_rows(session, council) if occurrences else register_rows(session, council)
        if to_stdout:
            count = write_csv(rows, columns, sys.stdout)
            return
        partial = target.with_name(f".{target.name}.partial")
        try:
            if target.suffix.lower() == ".xlsx":
                register = ("register", REGISTER_COLUMNS, register_rows(session, council))
                every = ("occurrences", OCCURRENCE_COLUMNS, occurrence_rows(session, council))
                sheets = [every, register] if occurrences else [register, every]
                count = write_xlsx(sheets, partial)[0]
            else:
                with partial.open(
                    "w", newline="", encoding="utf-8-sig" if excel else "utf-8"
                ) as stream:
                    count = write_csv(rows, columns, stream)
            partial.replace(target)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise click.ClickException(
                f"cannot write {target}: {error.strerror or error}"
            ) from error
    what = "occurrences" if occurrences else "canonical items"
    click.echo(f"wrote {count} {what} to {target}", err=True)


@main.group()
def users() -> None:
    """People who may sign in to the review UI."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["reviewer", "admin"]), required=True)
@click.password_option(help="Prompted for (twice) when not given.")
@pass_app
@_store_errors
def users_add(app: AppContext, name: str, role: str, password: str) -> None:
    """Add a user: reviewers review matches, admins also upload packs."""
    from review.auth import UserError, add_user

    with app.sessions.begin() as session:
        try:
            add_user(session, name, password, role)
        except UserError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"added {role} {name}")


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_app
@_store_errors
def users_list(app: AppContext, as_json: bool) -> None:
    """Every user, their role and whether they may sign in."""
    from review.auth import user_rows

    with app.sessions() as session:
        rows = user_rows(session)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['name']}\t{row['role']}" + ("\tdisabled" if row["disabled"] else ""))


def _user_change(app: AppContext, change: Callable[..., Any], *args: Any) -> None:
    from review.auth import UserError

    with app.sessions.begin() as session:
        try:
            change(session, *args)
        except UserError as error:
            raise click.ClickException(str(error)) from error


@users.command("disable")
@click.argument("name")
@pass_app
@_store_errors
def users_disable(app: AppContext, name: str) -> None:
    """Stop a user signing in; their open sign-ins end at once."""
    from review.auth import set_disabled

    _user_change(app, set_disabled, name, True)
    click.echo(f"disabled {name}; their sign-ins have ended")


@users.command("enable")
@click.argument("name")
@pass_app
@_store_errors
def users_enable(app: AppContext, name: str) -> None:
    """Let a disabled user sign in again."""
    from review.auth import set_disabled

    _user_change(app, set_disabled, name, False)
    click.echo(f"enabled {name}")


@users.command("reset-password")
@click.argument("name")
@click.password_option(help="Prompted for (twice) when not given.")
@pass_app
@_store_errors
def users_reset_password(app: AppContext, name: str, password: str) -> None:
    """Set a user's password; their open sign-ins end."""
    from review.auth import set_password

    _user_change(app, set_password, name, password)
    click.echo(f"set the password of {name}; their sign-ins have ended")


@users.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(["reviewer", "admin"]))
@pass_app
@_store_errors
def users_set_role(app: AppContext, name: str, role: str) -> None:
    """Make a user a reviewer or an admin; their open sign-ins end."""
    from review.auth import set_role

    _user_change(app, set_role, name, role)
    click.echo(
        f"{name} is now {'an' if role == 'admin' else 'a'} {role}; their sign-ins have ended"
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--upload-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where uploaded packs are kept (default: beside the data).",
)
@click.option(
    "--secure-cookies", is_flag=True, help="Send cookies over HTTPS only (behind a TLS proxy)."
)
@pass_app
@_store_errors
def review(
    app: AppContext, host: str, port: int, upload_dir: Path | None, secure_cookies: bool
) -> None:
    """Serve the review web UI (sign in with a user from `councilreg users add`)."""
    import socket

    import uvicorn

    from models import data_dir
    from review.app import create_app
    from review.settings import WebSettings, secret_key_in

    app.sessions  # noqa: B018 - fail here, not in the server, if the store cannot open
    settings = WebSettings(
        database_url=app.database_url,
        secret_key=os.environ.get("COUNCILREG_SECRET_KEY") or secret_key_in(data_dir()),
        upload_dir=upload_dir or data_dir() / "uploads",
        https_only=secure_cookies,
        broker_url=app.broker_url,
    )
    # Bound here, before the server starts, so a port in use is one line and not a
    # "startup complete" followed by uvicorn's error.
    try:
        listener = socket.create_server((host, port), reuse_port=False)
    except OSError as error:
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {os.strerror(error.errno) if error.errno else error}; "
            "is another server using it? Choose one with --port"
        ) from error
    click.echo(f"councilreg review UI on http://{host}:{port}/", err=True)
    config = uvicorn.Config(create_app(settings), log_level="info", server_header=False)
    uvicorn.Server(config).run(sockets=[listener])


if __name__ == "__main__":
    main()
