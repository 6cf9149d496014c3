"""`headroom rightsize-eval DIR`: the right-sizing benchmark of BENCHMARK.md against krr, VPA and Compute Optimizer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cli.output import write_benchmark
from collector.base import CollectorError
from collector.catalog import Catalog
from services.benchmarks.rightsize_eval import (
    RightsizeEvalError,
    evaluate,
    load_traces,
    report_markdown,
    unit_prices,
    write_recommendations,
)
from services.benchmarks.rightsize_frontier import frontier, frontier_markdown, frontier_png, frontier_targets
from services.recommend.risk_sizing import RiskSizingError, RiskTarget

err = Console(stderr=True)


def rightsize_eval_command(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Directory of CSVs (timestamp,cpu_used_cores,cpu_provisioned_cores,mem_used_gib,"
            "mem_provisioned_gib), one per machine or container",
            exists=True,
            file_okay=False,
        ),
    ],
    save_recommendations: Annotated[
        Path | None,
        typer.Option(
            "--save-recommendations", help="Also write resource,cpu_cores,mem_gib at the stated risk (--risk)"
        ),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Where rightsize_<dataset>.md and .csv go")] = Path(
        "bench/results"
    ),
    catalog: Annotated[
        Path | None, typer.Option("--catalog", help="Instance catalog CSV for the unit prices; default the built-in")
    ] = None,
    risk: Annotated[
        str | None,
        typer.Option(
            "--risk",
            help="The risk to size for, taken as stated: a CPU share (0.005; memory scaled alike) or "
            "cpu=0.005,mem=0.001,mem_any=0.05; add guard=on to keep the default's floor at the p99.5 + 20% rule "
            "where the fleet's lookback cuts show it safer than the model (the default has it on)",
        ),
    ] = None,
    draw_frontier: Annotated[
        bool,
        typer.Option(
            "--frontier/--no-frontier",
            help="Also run our sizer at several stated risks: the savings-risk table and "
            "rightsize_<dataset>_frontier.png",
        ),
    ] = True,
) -> None:
    """Score Headroom's right-sizer and three baselines: capacity given back and violations that follow."""
    try:
        prices = unit_prices(Catalog.load(catalog))
        target = RiskTarget.parse(risk) if risk else RiskTarget()
        traces, skipped = load_traces(directory)
    except (RightsizeEvalError, CollectorError, RiskSizingError) as exc:
        err.print(f"[red]error[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    for name, reason in skipped.items():
        err.print(f"[yellow]skipped[/yellow] {name}: {reason}", highlight=False, soft_wrap=True)
    for trace in traces:
        if trace.zero_provisioned or trace.duplicates or trace.notes:
            notes = "; ".join(trace.notes)
            err.print(
                f"[yellow]cleaned[/yellow] {trace.name}: {trace.zero_provisioned} zero-provisioned rows, "
                f"{trace.duplicates} duplicate timestamps dropped{'; ' + notes if notes else ''}",
                highlight=False,
                soft_wrap=True,
            )
    name = directory.resolve().name
    result = evaluate(traces, name=name, prices=prices, target=target)
    markdown = report_markdown(result, traces, skipped, prices)
    raw = None
    if save_recommendations is not None:  # written before the frontier, which takes minutes on a large fleet
        raw = (save_recommendations, lambda path: write_recommendations(result, path), "recommendations")
    write_benchmark(out_dir, f"rightsize_{name}", markdown, result.scores, raw)
    if draw_frontier:
        targets = frontier_targets()
        targets += [] if target in targets else [target]
        points = frontier(traces, name=name, prices=prices, targets=targets, baseline=result)
        written = [out_dir / f"rightsize_{name}_frontier.csv"]
        points.to_csv(written[0], index=False, float_format="%.6g")
        section = "\n" + frontier_markdown(points, name=name)
        try:
            png = frontier_png(points, out_dir / f"rightsize_{name}_frontier.png", name=name)
        except ImportError as exc:
            err.print(f"[yellow]no PNG[/yellow]: {exc}; install matplotlib (pip install -e .)", highlight=False)
        else:
            section += f"\n![savings against risk]({png.name})\n"
            written.append(png)
        (out_dir / f"rightsize_{name}.md").write_text(markdown + section, encoding="utf-8")
        typer.echo(section)
        err.print("wrote " + ", ".join(map(str, written)), highlight=False, soft_wrap=True)


if __name__ == "__main__":  # bench/rightsize/run.sh runs it this way, registered or not
    typer.run(rightsize_eval_command)
