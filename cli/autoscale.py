"""`headroom autoscale-eval DIR` (the autoscaling benchmark) and `headroom autoscale plan|simulate` for one group."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.output import fail, write_benchmark
from collector.cleaning import CleaningError, load_series_csv
from services.autoscaling.emit import PlanError
from services.autoscaling.group import PLATFORMS, emit, plan_group
from services.autoscaling.settings import ScalingSettings
from services.autoscaling.trace import TraceError, split_trace
from services.benchmarks.autoscale_eval import (
    MAX_GAP,
    AutoscaleEvalError,
    evaluate,
    load_traces,
    report_markdown,
    skip_note,
    write_capacity,
)

err = Console(stderr=True)


def autoscale_eval_command(
    directory: Annotated[
        Path,
        typer.Argument(help="Directory of timestamp,value demand CSVs, one per series", exists=True, file_okay=False),
    ],
    save_capacity: Annotated[
        Path | None, typer.Option("--save-capacity", help="Also write series,timestamp,instances (Headroom's plan)")
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Where autoscale_<dataset>.md and .csv go")] = Path(
        "bench/results"
    ),
    shortfall_penalty: Annotated[float | None, typer.Option(
        help="Cost / oracle one whole share of under-provisioned steps is worth when the plan is chosen; default "
        f"{ScalingSettings().shortfall_penalty:g}"
    )] = None,
    launch_lead_minutes: Annotated[float | None, typer.Option(help="Start-up time; default 10")] = None,
    scale_in_delay_minutes: Annotated[float | None, typer.Option(help="Hold after the load; default 0")] = None,
) -> None:
    """Replay each trace's last week through Headroom's predictive policy and the protocol's baselines."""
    overrides = {"shortfall_penalty": shortfall_penalty, "launch_lead_minutes": launch_lead_minutes,
                 "scale_in_delay_minutes": scale_in_delay_minutes}
    try:
        settings = ScalingSettings(**{k: v for k, v in overrides.items() if v is not None})
        traces, skipped = load_traces(directory)
    except (AutoscaleEvalError, ValidationError) as exc:
        raise fail(str(exc)) from None
    for name, reason in skipped.items():
        err.print(f"[yellow]skipped[/yellow] {skip_note(name, reason)}", highlight=False, soft_wrap=True)
    name = directory.resolve().name
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task(f"{name}: simulating", total=len(traces))
        result = evaluate(traces, name=name, settings=settings,
                          progress=lambda done, total, series: bar.update(task, completed=done,
                                                                          description=f"{name}: {series}"))
    result.skipped = skipped
    command = "headroom autoscale-eval " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    markdown = report_markdown(result, settings, command=command)
    raw = None
    if save_capacity is not None:
        raw = (save_capacity, lambda path: write_capacity(result, path), "capacity rows")
    write_benchmark(out_dir, f"autoscale_{name}", markdown, result.scores, raw)


autoscale_cli = typer.Typer(help="Predictive autoscaling: replay a group's demand, plan its next 48 hours.",
                            no_args_is_help=True)


def register(cli: typer.Typer) -> None:
    """Add `headroom autoscale plan|simulate` to cli."""
    cli.add_typer(autoscale_cli, name="autoscale")


def _load(path: Path) -> pd.Series:
    try:
        y, _ = load_series_csv(path, MAX_GAP)
    except CleaningError as exc:
        raise fail(str(exc)) from None
    return y


@autoscale_cli.command("simulate")
def autoscale_simulate(
    demand: Annotated[Path, typer.Argument(help="timestamp,value CSV of the group's demand", exists=True,
                                           dir_okay=False)],
    shortfall_penalty: Annotated[float, typer.Option(min=0, max=1000, help="Price of short steps; see docs")] = (
        ScalingSettings().shortfall_penalty
    ),
) -> None:
    """Replay the last week of a group's demand through Headroom's plan and the baselines (the protocol's table)."""
    try:
        trace = split_trace(demand.stem, _load(demand))
        settings = ScalingSettings(shortfall_penalty=shortfall_penalty)
    except (TraceError, ValidationError) as exc:
        raise fail(str(exc)) from None
    result = evaluate([trace], name=demand.stem, settings=settings)
    typer.echo(report_markdown(result, settings))
    typer.echo(f"Plan: {result.choices[trace.name]}")


@autoscale_cli.command("plan")
def autoscale_plan(
    demand: Annotated[Path, typer.Argument(help="timestamp,value CSV of the group's demand", exists=True,
                                           dir_okay=False)],
    max_size: Annotated[int, typer.Option(min=1, help="The group's maximum size")],
    platform: Annotated[str, typer.Option(help=f"One of {', '.join(PLATFORMS)}")] = "aws-scheduled",
    group: Annotated[str | None, typer.Option(help="Group name; default the file name")] = None,
    unit: Annotated[float | None, typer.Option(help="Demand one instance serves; default p99(history) / 10")] = None,
    min_size: Annotated[int, typer.Option(min=0, help="The group's minimum size")] = 1,
    risk: Annotated[float, typer.Option(min=0.0001, max=0.49, help="Risk of under-provisioning per hour")] = 0.05,
) -> None:
    """Plan a group's next 48 hours from its demand history and print the policy in the platform's form (JSON)."""
    name = group or demand.stem
    try:
        settings = ScalingSettings(risk=risk, min_instances=min_size)
        planned = plan_group(name, _load(demand), settings=settings, max_size=max_size, unit=unit)
        body = emit(planned.plan, platform)
    except (TraceError, PlanError, ValidationError) as exc:
        raise fail(str(exc)) from None
    err.print(f"{name}: {len(planned.plan.blocks())} blocks over 48 h, peak {max(planned.plan.hourly)} instances; "
              f"reactive target {planned.plan.target_percent:g}% (replay: {planned.choice.describe()})",
              highlight=False, soft_wrap=True)
    if planned.plan.reaches_max:
        err.print(f"[yellow]warning[/yellow] the plan reaches the maximum size {max_size}", highlight=False)
    typer.echo(json.dumps(body, indent=2, default=str))
