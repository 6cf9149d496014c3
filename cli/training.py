"""CLI of training operations: `headroom training runs`, `headroom model list|rollback`, `headroom accuracy`,
`headroom anomalies`. register() adds them to the headroom command."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console

from cli.output import Output, OutputOpt, emit, out
from services.settings import get_settings

training_cli = typer.Typer(help="Daily retraining runs and their progress.", no_args_is_help=True)
model_cli = typer.Typer(help="The model registry: versions of a series, rollback.", no_args_is_help=True)


@training_cli.command("runs")
def training_runs(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Newest runs shown")] = 14,
    output: OutputOpt = Output.table,
) -> None:
    """Each day's run: series planned, trained, skipped, failed, status, started and finished."""
    from services.db.engine import session_scope
    from services.forecasting.training_runs import list_runs

    with session_scope(get_settings().database_url) as session:
        rows = [{"as_of": r.as_of, "status": r.status, "total": r.total, "done": r.done, "skipped": r.skipped,
                 "failed": r.failed, "started": f"{r.started_at:%Y-%m-%d %H:%M:%S}",
                 "finished": f"{r.finished_at:%Y-%m-%d %H:%M:%S}" if r.finished_at else ""}
                for r in list_runs(session, limit)]
    emit(rows, None, output, title="training runs")


@model_cli.command("list")
def model_list(
    series_id: Annotated[str, typer.Argument(help="Series id, e.g. i-0abc/cpu_utilization or cost:total")],
    stat: Annotated[str | None, typer.Option(help="mean, p95 or daily_cost; default all")] = None,
    output: OutputOpt = Output.table,
) -> None:
    """Every version of a series' models, newest first: status, backtest MASE and coverage, data window, why."""
    from services.db.engine import session_scope
    from services.forecasting.registry import list_versions

    with session_scope(get_settings().database_url) as session:
        rows = [_version_row(v) for v in list_versions(session, series_id, stat)]
    if not rows:
        raise typer.BadParameter(f"no model versions of {series_id!r}: check the id with `headroom status` or train "
                                 "it with `headroom train --series ...`", param_hint="SERIES_ID")
    emit(rows, None, output, title=f"model versions of {series_id}")


def _version_row(v: Any) -> dict[str, Any]:
    return {"stat": v.stat, "version": v.version, "status": v.status, "model": v.model_name, "as_of": v.as_of,
            "mase": v.metrics.get("mase"), "cov95": v.metrics.get("coverage95"),
            "data": f"{v.data_start:%Y-%m-%d %H:%M} → {v.data_end:%Y-%m-%d %H:%M}", "reason": v.reason}


@model_cli.command("rollback")
def model_rollback(
    series_id: Annotated[str, typer.Argument(help="Series id")],
    stat: Annotated[str, typer.Option(help="mean, p95 or daily_cost")] = "mean",
    to: Annotated[int | None, typer.Option("--to", min=1, help="Version to serve; default the one before")] = None,
) -> None:
    """Serve an earlier version again (its forecast too); the current one is retired."""
    from services.db.engine import session_scope
    from services.forecasting.registry import RegistryError, open_artifact_store, rollback

    settings = get_settings()
    try:
        with session_scope(settings.database_url) as session:
            target = rollback(session, series_id, stat, artifacts=open_artifact_store(settings.artifacts_url),
                              to_version=to)
            out.print(f"{series_id} ({stat}): v{target.version} is active again ({target.reason})")
    except RegistryError as exc:
        raise typer.BadParameter(str(exc)) from None


def accuracy(
    series_id: Annotated[str | None, typer.Option("--series", help="One series; default all")] = None,
    by_model: Annotated[bool, typer.Option("--by-model", help="One line per model")] = False,
    refresh: Annotated[bool, typer.Option("--refresh", help="Score new actuals and update anomalies first")] = False,
    output: OutputOpt = Output.table,
) -> None:
    """Live accuracy of stored forecasts against the actuals so far: MASE and 80/95% coverage."""
    from services.db.engine import session_scope
    from services.forecasting.accuracy import accuracy_by_model, accuracy_by_series
    from services.forecasting.anomalies import refresh_scores_and_anomalies

    settings = get_settings()
    if refresh:
        scored, seen = refresh_scores_and_anomalies(settings)
        Console(stderr=True).print(f"scored {scored} forecast(s); {seen} anomaly incident(s) in the lookback window")
    with session_scope(settings.database_url) as session:
        found = accuracy_by_model(session) if by_model else accuracy_by_series(session, series_id)
    rows = [{"series" if not by_model else "model": a.key, **({"stat": a.stat, "model": a.model_name}
            if not by_model else {}), "forecasts": a.forecasts, "points": a.points, "mase": a.mase,
             "cov80": a.coverage80, "cov95": a.coverage95} for a in found]
    emit(rows, None, output, title="live accuracy (refreshed by the beat, or `headroom accuracy`)")


def anomalies(
    series_id: Annotated[str | None, typer.Option("--series", help="One series; default all")] = None,
    days: Annotated[int, typer.Option(min=1, max=3650, help="Incidents that ended in the last N days")] = 14,
    output: OutputOpt = Output.table,
) -> None:
    """Anomaly incidents: actuals outside the forecast's 95% band, one line per incident."""
    from services.db.engine import session_scope
    from services.forecasting.anomalies import list_anomalies

    since = datetime.now(UTC) - timedelta(days=days)
    with session_scope(get_settings().database_url) as session:
        rows = [{"id": a.id, "series": a.series_id, "kind": a.kind, "status": a.status,
                 "started": f"{a.started_at:%Y-%m-%d %H:%M}", "ended": f"{a.ended_at:%Y-%m-%d %H:%M}",
                 "peak": f"{a.peak_at:%Y-%m-%d %H:%M}", "actual": a.actual, "expected": a.expected,
                 "score": a.score, "points": a.points}
                for a in list_anomalies(session, series_id=series_id, since=since)]
    emit(rows, None, output, title="anomalies")


def register(cli: typer.Typer) -> None:
    """Add this module's commands and sub-commands to cli."""
    cli.add_typer(training_cli, name="training")
    cli.add_typer(model_cli, name="model")
    cli.command("accuracy")(accuracy)
    cli.command("anomalies")(anomalies)
