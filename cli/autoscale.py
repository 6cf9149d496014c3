"""`headroom autoscale-eval DIR`: the autoscaling benchmark of BENCHMARK.md, Headroom's policy beside the baselines."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.autoscaling.settings import ScalingSettings
from services.benchmarks.autoscale_eval import (
    AutoscaleEvalError,
    evaluate,
    load_traces,
    report_markdown,
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
    risk: Annotated[float | None, typer.Option(help="Planned risk of under-provisioning; default the setting")] = None,
    launch_lead_minutes: Annotated[float | None, typer.Option(help="Start-up time; default 10")] = None,
    scale_in_delay_minutes: Annotated[float | None, typer.Option(help="Hold after the load; default 0")] = None,
) -> None:
    """Replay each trace's last week through Headroom's predictive policy and the protocol's baselines."""
    overrides = {"risk": risk, "launch_lead_minutes": launch_lead_minutes,
                 "scale_in_delay_minutes": scale_in_delay_minutes}
    try:
        settings = ScalingSettings(**{k: v for k, v in overrides.items() if v is not None})
        traces, skipped = load_traces(directory)
    except (AutoscaleEvalError, ValidationError) as exc:
        err.print(f"[red]error[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    for name, reason in skipped.items():
        err.print(f"[yellow]skipped[/yellow] {reason}" if name in reason else f"skipped {name}: {reason}",
                  highlight=False, soft_wrap=True)
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
    typer.echo(markdown)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / f"autoscale_{name}.md", out_dir / f"autoscale_{name}.csv"]
    written[0].write_text(markdown, encoding="utf-8")
    result.scores.to_csv(written[1], index=False, float_format="%.6g")
    if save_capacity is not None:
        rows = write_capacity(result, save_capacity)
        written.append(save_capacity)
        err.print(f"{rows} capacity rows", highlight=False)
    err.print("wrote " + ", ".join(map(str, written)), highlight=False, soft_wrap=True)
    if result.scores.empty:
        raise typer.Exit(2)
