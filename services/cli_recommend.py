"""CLI of recommendations: `headroom recommend ...`, `headroom runway`, `headroom scenario ...`, `headroom summary`."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

out = Console()
err = Console(stderr=True)
recommend_cli = typer.Typer(
    help="Right-sizing, idle, schedules, commitments and runway: list, act on, refresh.", no_args_is_help=True
)
scenario_cli = typer.Typer(
    help="What-if scenarios: create, list, compare with the baseline, delete.", no_args_is_help=True
)


class Output(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


OutputOpt = Annotated[Output, typer.Option("--output", "-o", help="table, json or csv")]
LIST_COLUMNS = (
    "id",
    "kind",
    "status",
    "resource_key",
    "title",
    "monthly_savings_list",
    "monthly_savings_effective",
    "risk",
)
RUNWAY_COLUMNS = ("resource_key", "metric", "current", "threshold", "p50_days", "p90_days", "lead_time_days", "flagged")


def register(cli: typer.Typer) -> None:
    """Add this module's commands and sub-commands to cli."""
    cli.add_typer(recommend_cli, name="recommend")
    cli.add_typer(scenario_cli, name="scenario")
    cli.command("runway")(runway_command)
    cli.command("summary")(summary_command)


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


@contextmanager
def _session() -> Iterator[Any]:
    from services.db.engine import session_scope
    from services.settings import get_settings

    with session_scope(get_settings().database_url) as session:
        yield session


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def emit(rows: Sequence[dict[str, Any]], columns: Sequence[str], output: Output, *, title: str = "") -> None:
    """Rows as a Rich table (the columns given), JSON (every field) or CSV (the columns given) on stdout."""
    if output is Output.json:
        sys.stdout.write(json.dumps([{k: _plain(v) for k, v in r.items()} for r in rows], indent=2, default=str))
        sys.stdout.write("\n")
    elif output is Output.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows([{k: _cell(r.get(k)) for k in columns} for r in rows])
    else:
        table = Table(title=title or None)
        for column in columns:
            table.add_column(column, overflow="fold")
        for r in rows:
            table.add_row(*(_cell(r.get(c)) for c in columns))
        out.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list | dict):
        return json.dumps(value, default=str)
    return str(_plain(value))


@recommend_cli.command("refresh")
def refresh_command() -> None:
    """Run every recommender over the fleet now and store the outcome (idempotent)."""
    from services.recommend.refresh import refresh_recommendations
    from services.settings import get_settings

    with err.status("recommending over the fleet…"):
        result = refresh_recommendations(get_settings())
    out.print(
        f"created {result.created}, updated {result.updated}, kept {result.kept} (accepted or further), "
        f"removed {result.removed} no longer found; {result.skipped} skipped with a reason "
        "(`headroom recommend skipped`)"
    )


@recommend_cli.command("list")
def list_command(
    kind: Annotated[list[str] | None, typer.Option("--kind", help="Repeat for several")] = None,
    status: Annotated[list[str] | None, typer.Option("--status", help="Repeat for several")] = None,
    resource: Annotated[str | None, typer.Option(help="Text in the resource key")] = None,
    min_savings: Annotated[float | None, typer.Option(help="Least effective USD a month")] = None,
    sort: Annotated[str, typer.Option(help="savings, risk, created, kind, id; '-' first: descending")] = "-savings",
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 100,
    output: OutputOpt = Output.table,
) -> None:
    """Stored recommendations, largest saving first."""
    from services.recommend.store import list_recommendations, recommendation_view

    with _session() as session:
        try:
            rows, total = list_recommendations(
                session,
                kinds=kind or (),
                statuses=status or (),
                resource=resource,
                min_savings=min_savings,
                sort=sort,
                size=limit,
            )
        except ValueError as exc:
            raise _fail(str(exc)) from None
        views = [recommendation_view(r) for r in rows]
    emit(views, LIST_COLUMNS, output, title=f"{len(views)} of {total} recommendations")


@recommend_cli.command("skipped")
def skipped_command(
    resource: Annotated[str | None, typer.Option(help="Text in the resource key")] = None,
    kind: Annotated[str | None, typer.Option()] = None,
    output: OutputOpt = Output.table,
) -> None:
    """Why the last refresh made no recommendation (not enough data, an HPA, production, superseded...)."""
    from services.recommend.store import skipped

    with _session() as session:
        rows = [
            {"resource_key": r.resource_key, "kind": r.kind, "reason": r.reason}
            for r in skipped(session, resource=resource, kind=kind)
        ]
    emit(rows, ("resource_key", "kind", "reason"), output)


@recommend_cli.command("show")
def show_command(rec_id: int, output: Annotated[Output, typer.Option("--output", "-o")] = Output.table) -> None:
    """One recommendation with its evidence, reasons and history."""
    from services.recommend.store import NotFoundError, get_recommendation, history, recommendation_view

    with _session() as session:
        try:
            view = recommendation_view(get_recommendation(session, rec_id))
        except NotFoundError as exc:
            raise _fail(str(exc)) from None
        view["history"] = [
            {"from": e.from_status, "to": e.to_status, "actor": e.actor, "note": e.note, "at": e.at.isoformat()}
            for e in history(session, rec_id)
        ]
    if output is not Output.table:
        emit([view], list(view), output)
        return
    ev = view["evidence"]
    out.print(f"[bold]#{view['id']} {view['title']}[/bold]  ({view['kind']}, {view['status']}, {view['finding']})")
    out.print(f"resource: {view['resource_key']}")
    out.print(
        f"savings: {view['monthly_savings_list']:.2f} USD/month at list, "
        f"{view['monthly_savings_effective']:.2f} effective; risk {view['risk']} of 4"
    )
    out.print(
        f"evidence: {ev['coverage_hours']:.0f} h of data ({ev['coverage_ratio']:.0%} of the lookback), "
        f"{ev['percentile']}, headroom {ev['headroom']:.0%}; projected {ev['projected_utilisation']}"
    )
    for reason in view["reasons"]:
        out.print(f"  • {reason}", highlight=False)
    for event in view["history"]:
        out.print(f"  {event['at']}: {event['from']} → {event['to']} by {event['actor']} {event['note']}")


def _move(rec_id: int, to: str, note: str) -> None:
    from services.recommend.outcomes import VerificationError, verify
    from services.recommend.store import LifecycleError, NotFoundError, transition
    from services.settings import get_settings

    settings = get_settings()
    try:
        with _session() as session:
            now = datetime.now(UTC)
            if to == "verified":
                row = verify(session, rec_id, actor="cli", now=now, min_days=settings.recommend.verify_min_days)
            else:
                row = transition(session, rec_id, to, actor="cli", now=now, note=note)  # type: ignore[arg-type]
            message = f"#{row.id} is {row.status}"
            if row.realised_savings_monthly is not None:
                message += f"; realised {row.realised_savings_monthly:.2f} USD/month"
    except (NotFoundError, LifecycleError, VerificationError) as exc:
        raise _fail(str(exc)) from None
    out.print(message)


def _transition_command(to: str, doc: str) -> Callable[..., None]:
    def command(rec_id: int, note: Annotated[str, typer.Option(help="Kept in the history")] = "") -> None:
        _move(rec_id, to, note)

    command.__doc__ = doc
    return command


recommend_cli.command("accept")(_transition_command("accepted", "Accept a recommendation (open → accepted)."))
recommend_cli.command("implement")(
    _transition_command("implemented", "Mark a recommendation carried out (accepted → implemented).")
)
recommend_cli.command("verify")(
    _transition_command("verified", "Measure realised savings from later billing or inventory (→ verified).")
)


@recommend_cli.command("dismiss")
def dismiss_command(rec_id: int, reason: Annotated[str, typer.Option(help="Why it does not apply (required)")]) -> None:
    """Dismiss a recommendation with a reason; later refreshes leave it dismissed."""
    if not reason.strip():
        raise _fail("--reason: say why the recommendation does not apply")
    _move(rec_id, "dismissed", reason)


def runway_command(
    group_by: Annotated[
        str | None, typer.Option(help="Groups of this dimension: environment, account, provider, tag:<name>")
    ] = None,
    metric: Annotated[str | None, typer.Option(help="cpu_utilization, memory_utilization, disk_utilization")] = None,
    flagged: Annotated[bool, typer.Option("--flagged", help="Only runways shorter than the lead time")] = False,
    output: OutputOpt = Output.table,
) -> None:
    """Capacity runway: P50/P90 days until each threshold, per resource and per group (shortest first)."""
    from services.recommend.store import runways

    with _session() as session:
        resources, groups, budgets = runways(session, group_by=group_by, metric=metric, flagged=flagged)
    rows = [{"scope": "budget", **b} for b in budgets] + [{"scope": "group", **g} for g in groups]
    rows += [{"scope": "resource", **r} for r in resources]
    emit(rows, ("scope", *RUNWAY_COLUMNS), output, title="capacity runway (days)")


def summary_command(
    output: Annotated[Output, typer.Option("--output", "-o", help="table or json")] = Output.table,
) -> None:
    """Executive summary: identified vs realised savings, next quarter's forecast spend, spend month to date."""
    from services.recommend.outcomes import summary

    with _session() as session:
        data = summary(session)
    if output is Output.json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        return
    if output is Output.csv:
        emit(
            data["by_kind"],
            (
                "kind",
                "count",
                "identified_monthly_list",
                "identified_monthly_effective",
                "verified",
                "realised_monthly",
            ),
            output,
        )
        return
    out.print(
        f"identified savings: {data['identified_monthly_savings_effective']:,.2f} USD/month effective "
        f"({data['identified_monthly_savings_list']:,.2f} at list); realised: "
        f"{data['realised_monthly_savings']:,.2f} USD/month"
    )
    emit(
        data["by_kind"],
        ("kind", "count", "identified_monthly_list", "identified_monthly_effective", "verified", "realised_monthly"),
        Output.table,
    )
    fq, mtd = data["forecast_next_quarter"], data["spend_month_to_date"]
    if fq["available"]:
        band = f" (80%: {fq['lo80']:,.2f} – {fq['hi80']:,.2f})" if "lo80" in fq else ""
        out.print(f"forecast spend {fq['period_start']} – {fq['period_end']}: {fq['mean']:,.2f} USD{band}")
    else:
        out.print(f"forecast spend next quarter: {fq['reason']}")
    out.print(f"spend month to date ({mtd['period_start']} – {mtd['through']}): {mtd['billed']:,.2f} USD billed")


@scenario_cli.command("create")
def scenario_create(
    name: str,
    growth: Annotated[float | None, typer.Option(help="Growth in % per month (compounding)")] = None,
    launch: Annotated[list[str] | None, typer.Option(help="DATE:PERCENT, a step of load; repeat")] = None,
    migrate: Annotated[list[str] | None, typer.Option(help="DATE:FAMILY[:PERF_FACTOR]; repeat")] = None,
    months: Annotated[int, typer.Option(min=1, max=60)] = 12,
    provider: Annotated[str | None, typer.Option()] = None,
    environment: Annotated[str | None, typer.Option()] = None,
    description: Annotated[str, typer.Option()] = "",
) -> None:
    """Save a what-if scenario."""
    from services.recommend.scenario_store import ScenarioError, create_scenario

    try:
        spec: dict[str, Any] = {
            "growth": {"percent_per_month": growth} if growth is not None else None,
            "launches": [{"on": _date(p[0]), "added_percent": float(p[1]), "resource_ids": []}
                         for p in (_split(x, 2, "--launch DATE:PERCENT") for x in launch or [])],
            "migrations": [{"on": _date(p[0]), "to_family": p[1], "from_family": None,
                            "performance_factor": float(p[2]) if len(p) > 2 else 1.0, "resource_ids": []}
                           for p in (_split(x, 3, "--migrate DATE:FAMILY[:FACTOR]") for x in migrate or [])],
            "months": months, "scale": "scale_out", "target_utilisation_percent": 80.0,
            "provider": provider, "environment": environment, "account": None,
        }  # fmt: skip
        with _session() as session:
            row = create_scenario(
                session, name=name, description=description, spec=spec, actor="cli", now=datetime.now(UTC)
            )
            out.print(f"scenario #{row.id} {row.name!r} saved; compare it with `headroom scenario compare {row.id}`")
    except (ScenarioError, ValueError) as exc:
        raise _fail(str(exc)) from None


def _split(text: str, most: int, form: str) -> list[str]:
    parts = text.split(":")
    if not 2 <= len(parts) <= most:
        raise ValueError(f"{text!r} is not {form}")
    return parts


def _date(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError(f"{text!r} is not a date: use YYYY-MM-DD") from None


@scenario_cli.command("list")
def scenario_list(output: OutputOpt = Output.table) -> None:
    """Saved scenarios."""
    from services.recommend.scenario_store import list_scenarios

    with _session() as session:
        rows = [
            {"id": r.id, "name": r.name, "description": r.description, "spec": r.spec, "created_at": r.created_at}
            for r in list_scenarios(session)
        ]
    emit(rows, ("id", "name", "description", "spec"), output)


@scenario_cli.command("compare")
def scenario_compare(scenario_id: int, output: OutputOpt = Output.table) -> None:
    """Capacity and cost per month of a scenario against the baseline (the fleet unchanged)."""
    from collector.catalog import Catalog
    from services.metrics import open_metric_store
    from services.recommend.scenario_store import (
        ScenarioError,
        ScenarioNotFound,
        compare_scenario,
        comparison_view,
        get_scenario,
    )
    from services.settings import get_settings

    settings = get_settings()
    store = open_metric_store(settings.metrics_url)
    try:
        with _session() as session:
            row = get_scenario(session, scenario_id)
            comparison, base, start = compare_scenario(
                session, store, Catalog.load(settings.recommend.catalog_path), row=row, now=datetime.now(UTC)
            )
            view = comparison_view(comparison, base, start)
    except (ScenarioError, ScenarioNotFound) as exc:
        raise _fail(str(exc)) from None
    finally:
        store.close()
    columns = (
        "month",
        "baseline_cost",
        "scenario_cost",
        "cost_delta",
        "baseline_capacity_vcpus",
        "scenario_capacity_vcpus",
        "baseline_utilisation",
        "scenario_utilisation",
    )
    if output is Output.json:
        sys.stdout.write(json.dumps(view, indent=2, default=str) + "\n")
        return
    emit(
        view["months"],
        columns,
        output,
        title=f"{row.name}: {view['total_cost_delta']:+,.2f} USD over "
        f"{len(view['months'])} months, {view['resources']} machines",
    )


@scenario_cli.command("delete")
def scenario_delete(scenario_id: int) -> None:
    """Delete a saved scenario."""
    from services.recommend.scenario_store import ScenarioNotFound, delete_scenario

    try:
        with _session() as session:
            delete_scenario(session, scenario_id)
    except ScenarioNotFound as exc:
        raise _fail(str(exc)) from None
    out.print(f"scenario {scenario_id} deleted")
