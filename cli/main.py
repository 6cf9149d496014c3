"""The `headroom` command line: migrate, collect, train, tokens, serve, worker, beat, demo, status."""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.output import Output, OutputOpt
from collector.base import CollectorError
from services.settings import Settings, SettingsError, get_settings

cli = typer.Typer(help="Headroom: capacity and cost forecasts for your cloud fleet.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
token_cli = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)
cli.add_typer(token_cli, name="token")
out = Console()
err = Console(stderr=True)
_DURATION = re.compile(r"^(\d+)([mhdw])$")


class CliError(Exception):
    """Shown as one line on stderr, exit code 2."""


def parse_duration(text: str) -> timedelta:
    m = _DURATION.match(text.strip())
    if not m:
        raise typer.BadParameter(f"{text!r} is not a duration: use e.g. 90m, 12h, 30d, 2w")
    n, unit = int(m.group(1)), m.group(2)
    return {"m": timedelta(minutes=n), "h": timedelta(hours=n), "d": timedelta(days=n), "w": timedelta(weeks=n)}[unit]


def _settings() -> Settings:
    return get_settings()


@cli.command()
def migrate() -> None:
    """Create or upgrade the database schema (Alembic)."""
    from services.db.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    if settings.metrics_url != settings.database_url and settings.metrics_url.startswith(("sqlite", "postgresql")):
        upgrade(settings.metrics_url)
    out.print("[green]database is at the latest schema[/green]")


@cli.command()
def collect(
    source: Annotated[list[str] | None, typer.Option("--source", "-s", help="Source name; repeat; default all")]
    = None,
    backfill: Annotated[str | None, typer.Option(help="Re-collect this much history, e.g. 30d")] = None,
    estimate: Annotated[bool, typer.Option("--estimate", help="Print the paid API calls and list-price dollars a "
                                           "run and a month of collection make; collect nothing")] = False,
    output: OutputOpt = Output.table,
) -> None:
    """Collect configured sources into the stores (safe to re-run: nothing is stored twice)."""
    from services.ingest.ingest import IngestError, run_collector
    from services.ingest.sources import UnknownSourceError, build_collector, source_names
    from services.metrics import open_metric_store

    settings = _settings()
    names = source or source_names(settings)
    if not names:
        raise CliError("no sources are enabled: see config/providers.yml")
    if estimate:
        from cli.estimate import print_estimate

        try:
            print_estimate(settings, names, output)
        except (UnknownSourceError, CollectorError) as exc:
            raise CliError(str(exc)) from None
        return
    window = parse_duration(backfill) if backfill else None
    store = open_metric_store(settings.metrics_url)
    failed = []
    try:
        for name in names:
            try:
                collector = build_collector(settings, name)
            except UnknownSourceError as exc:
                raise CliError(str(exc)) from None
            with _progress() as bar:
                task = bar.add_task(f"{name}: collecting", total=None)

                def tick(stage: str, n: int, _task=task, _bar=bar, _name=name) -> None:  # type: ignore[no-untyped-def]
                    _bar.update(_task, advance=n if stage == "samples" else 0, description=f"{_name}: {stage}")

                try:
                    result = run_collector(collector, db_url=settings.database_url, metric_store=store,
                                           backfill=window, progress=tick,
                                           run_interval=timedelta(minutes=settings.collect_interval_minutes))
                except IngestError as exc:
                    failed.append(name)
                    err.print(f"[red]error[/red] {exc}")
                    continue
            out.print(f"{name}: {result.resources} resources, {result.series} series, "
                      f"{result.samples:,} samples, {result.costs:,} cost lines")
            for note in result.notes:
                err.print(f"  [yellow]warning[/yellow] {note}", highlight=False, soft_wrap=True)
            by_cause: dict[str, list[str]] = {}
            for stream, why in result.failures.items():  # once per run and cause: the other streams were stored
                by_cause.setdefault(why, []).append(stream)
            for why, streams in by_cause.items():
                err.print(f"  [red]error[/red] {name}/{', '.join(streams)}: {why}", highlight=False, soft_wrap=True)
            if result.failures:
                failed.append(f"{name} ({', '.join(result.failures)})")
            report = getattr(collector, "format_report", None)
            if callable(report):
                out.print(report())
    finally:
        store.close()
    if failed:
        raise CliError(f"{len(failed)} source(s) failed: {', '.join(failed)}; everything else was stored")


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err, transient=True)


@cli.command()
def train(
    series: Annotated[list[str] | None, typer.Option("--series", help="Series id; repeat; default all")] = None,
    as_of: Annotated[str | None, typer.Option(help="Day the forecast is made (YYYY-MM-DD); default today")] = None,
    jobs: Annotated[int, typer.Option(min=0, max=64, help="Processes to train on; 0 = one per core")] = 0,
    force: Annotated[bool, typer.Option(help="Retrain series already trained that day")] = False,
) -> None:
    """Fit and store hourly forecasts (mean and p95 within the hour) and daily cost forecasts, with 80% and 95%
    intervals; progress of the daily runs: `headroom training runs`."""
    import os

    from services.forecasting.training_pool import train_in_processes

    settings = _settings()
    try:
        day = date.fromisoformat(as_of) if as_of else datetime.now(UTC).date()
    except ValueError:
        raise CliError(f"--as-of {as_of!r} is not a date: use YYYY-MM-DD") from None
    with _progress() as bar:
        task = bar.add_task("training", total=None)

        def tick(done: int, total: int, series_id: str) -> None:
            bar.update(task, completed=done, total=total, description=f"trained {series_id}")

        summary = train_in_processes(as_of=day, settings=settings, jobs=jobs or os.cpu_count() or 1,
                                     series_ids=series, progress=tick, force=force)
    out.print(f"trained {len(summary.trained)} of {summary.total} series as of {day} in {summary.seconds:.0f}s"
              f"; skipped {len(summary.skipped)}, failed {len(summary.errors)}")
    for series_id, reason in sorted(summary.skipped.items()):
        out.print(f"  skipped {series_id}: {reason}")
    for series_id, error in sorted(summary.errors.items()):
        err.print(f"  [red]failed[/red] {series_id}: {error}")
    if summary.errors and not summary.trained:
        raise CliError("no series could be trained; see the errors above")


@token_cli.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="What the token is for")],
    role: Annotated[str, typer.Option(help="viewer, editor or admin")] = "viewer",
    email: Annotated[str, typer.Option(help="The token's user")] = "admin@localhost",
    expires_days: Annotated[int | None, typer.Option(help="Lifetime in days; default HEADROOM_TOKEN_TTL_DAYS")]
    = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the token")] = False,
) -> None:
    """Create an API token. It is shown once; only its SHA-256 is stored."""
    from services.auth import PermissionDenied, TokenPolicyError, check_role, create_token, ensure_user, token_lifetime
    from services.db.engine import session_scope

    settings = _settings()
    try:
        role_ = check_role(role)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    with session_scope(settings.database_url) as session:
        user = ensure_user(session, email=email, role=role_)
        ttl = token_lifetime(session, requested_days=expires_days, default_days=settings.token_ttl_days)
        try:
            issued = create_token(session, user=user, name=name, role=role_, ttl=ttl)
        except (PermissionDenied, TokenPolicyError) as exc:
            raise CliError(str(exc)) from None
    if quiet:
        print(issued.token)
        return
    out.print(f"token {issued.name!r} ({issued.role}, expires {issued.expires_at:%Y-%m-%d}) — shown once:")
    print(issued.token)


@token_cli.command("list")
def token_list() -> None:
    """List tokens (their prefixes, never the tokens)."""
    from services.auth import list_tokens
    from services.db.engine import session_scope

    table = Table("id", "name", "prefix", "role", "expires", "revoked", "last used")
    with session_scope(_settings().database_url) as session:
        for t in list_tokens(session):
            table.add_row(str(t.id), t.name, t.prefix + "…", t.scope, f"{t.expires_at:%Y-%m-%d}" if t.expires_at
                          else "never", "yes" if t.revoked_at else "", f"{t.last_used_at:%Y-%m-%d %H:%M}"
                          if t.last_used_at else "")
    out.print(table)


@token_cli.command("revoke")
def token_revoke(token_id: int) -> None:
    """Revoke a token by id."""
    from services.auth import revoke_token
    from services.db.engine import session_scope

    with session_scope(_settings().database_url) as session:
        try:
            revoke_token(session, token_id=token_id)
        except KeyError as exc:
            raise CliError(str(exc.args[0])) from None
    out.print(f"token {token_id} revoked")


@cli.command()
def status() -> None:
    """Each source's last run, last success, lag and last error."""
    from services.db.engine import session_scope
    from services.ingest.ingest import source_statuses

    table = Table("source", "last run", "last success", "lag", "samples", "last error")
    now = datetime.now(UTC)
    with session_scope(_settings().database_url) as session:
        for s in source_statuses(session):
            lag = str(now - s.last_success_at).split(".")[0] if s.last_success_at else "never succeeded"
            table.add_row(s.source, f"{s.last_run_at:%Y-%m-%d %H:%M}" if s.last_run_at else "",
                          f"{s.last_success_at:%Y-%m-%d %H:%M}" if s.last_success_at else "", lag,
                          f"{s.samples_written:,}", s.last_error[:80])
    out.print(table)


@cli.command()
def config() -> None:
    """Print the effective settings, secrets redacted."""
    out.print_json(data=_settings().redacted())


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default HEADROOM_API_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="Default HEADROOM_API_PORT")] = None,
    workers: Annotated[int | None, typer.Option(help="API processes; default HEADROOM_API_WORKERS", min=1, max=64)]
    = None,
) -> None:
    """Serve the API and the dashboard (several processes on one port with --workers)."""
    import uvicorn

    from services.logs import configure_logging

    settings = _settings()
    configure_logging(settings)  # text or JSON with request ids; the API logs each request itself
    uvicorn.run("api.app:serve_app", factory=True, host=host or settings.api_host, port=port or settings.api_port,
                workers=workers or settings.api_workers, log_level=settings.log_level.lower(), log_config=None,
                access_log=False)


@cli.command()
def worker(
    concurrency: Annotated[int | None, typer.Option(help="Task processes; default HEADROOM_DEPLOY__WORKER_CONCURRENCY")]
    = None,
) -> None:
    """Run a Celery worker (node HEADROOM_DEPLOY__WORKER_NAME, /metrics on HEADROOM_DEPLOY__WORKER_METRICS_PORT)."""
    from services.telemetry import prepare_worker_metrics

    settings = _settings()
    prepare_worker_metrics(settings)  # before the tasks are imported: their processes inherit the metrics setup
    from services.tasks import app

    app.worker_main(["worker", f"--concurrency={concurrency or settings.deploy.worker_concurrency}",
                     f"--loglevel={settings.log_level}", f"--hostname={settings.deploy.worker_name}"])


@cli.command()
def beat() -> None:
    """Run Celery beat (exactly one per deployment)."""
    from services.logs import configure_celery_logging
    from services.tasks import app

    configure_celery_logging(_settings())
    app.start(["beat", f"--loglevel={_settings().log_level}"])


@cli.command()
def demo(
    port: Annotated[int | None, typer.Option(help="Default HEADROOM_API_PORT")] = None,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="Start API, worker and beat")] = True,
    resources: Annotated[int | None, typer.Option(min=1, max=100_000, help="Demo fleet size; default "
                                                  "HEADROOM_PROVIDERS__DEMO__RESOURCES (40)")] = None,
) -> None:
    """Everything on one machine: migrate, load the demo, train, then serve API + worker + beat."""
    import os

    from cli.demo import run_demo

    if resources is not None:  # the collect, train and serve steps run as child processes: they read it from here
        os.environ["HEADROOM_PROVIDERS__DEMO__RESOURCES"] = str(resources)
        get_settings.cache_clear()
    run_demo(_settings(), port=port, serve=serve_after, console=out)


def _register_benchmarks() -> None:
    from cli.autoscale import autoscale_eval_command
    from cli.eval import eval_command
    from cli.rightsize import rightsize_eval_command

    cli.command("eval")(eval_command)
    cli.command("rightsize-eval")(rightsize_eval_command)
    cli.command("autoscale-eval")(autoscale_eval_command)


_register_benchmarks()


def _register_command_groups() -> None:
    from cli import alerts, autoscale, deploy, recommend, scenario, secrets, summary, training

    for module in (training, recommend, scenario, summary, alerts, deploy, secrets, autoscale):
        module.register(cli)


_register_command_groups()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        cli()
    except SettingsError as exc:
        err.print(f"[red]configuration error[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except CliError as exc:
        err.print(f"[red]error[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
