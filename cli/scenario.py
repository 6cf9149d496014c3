"""CLI of what-if scenarios: `headroom scenario create|list|compare|delete`. register() adds them to the headroom
command."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer

from cli.output import Output, OutputOpt, db_session, emit, fail, out

scenario_cli = typer.Typer(
    help="What-if scenarios: create, list, compare with the baseline, delete.", no_args_is_help=True
)


def register(cli: typer.Typer) -> None:
    """Add `headroom scenario ...` to cli."""
    cli.add_typer(scenario_cli, name="scenario")


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
        with db_session() as session:
            row = create_scenario(
                session, name=name, description=description, spec=spec, actor="cli", now=datetime.now(UTC)
            )
            out.print(f"scenario #{row.id} {row.name!r} saved; compare it with `headroom scenario compare {row.id}`")
    except (ScenarioError, ValueError) as exc:
        raise fail(str(exc)) from None


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

    with db_session() as session:
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
        with db_session() as session:
            row = get_scenario(session, scenario_id)
            comparison, base, start = compare_scenario(
                session, store, Catalog.load(settings.recommend.catalog_path), row=row, now=datetime.now(UTC)
            )
            view = comparison_view(comparison, base, start)
    except (ScenarioError, ScenarioNotFound) as exc:
        raise fail(str(exc)) from None
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
        with db_session() as session:
            delete_scenario(session, scenario_id)
    except ScenarioNotFound as exc:
        raise fail(str(exc)) from None
    out.print(f"scenario {scenario_id} deleted")
