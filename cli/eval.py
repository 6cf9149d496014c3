"""`headroom eval DIR`: the forecast benchmark of BENCHMARK.md on a directory of timestamp,value CSVs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from ml_engine.evaluation import ModelFactory, OriginResult, evaluate_origin
from services.benchmarks.evaluation import (
    DEFAULT_MODELS,
    PRODUCT_MODEL,
    Dataset,
    EvalError,
    load_dataset,
    report_markdown,
    resolve_models,
    train_global_nn,
    write_forecasts,
    write_reports,
)
from services.settings import get_settings

err = Console(stderr=True)


def eval_command(
    directory: Annotated[
        Path,
        typer.Argument(help="Directory of timestamp,value CSVs, one series per file", exists=True, file_okay=False),
    ],
    models: Annotated[
        str, typer.Option("--models", help="Comma-separated models; `headroom` is the product's own model")
    ] = ",".join(DEFAULT_MODELS),
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Where <dataset>.md and <dataset>.csv go")] = Path(
        "bench/results"
    ),
    save_forecasts: Annotated[
        Path | None,
        typer.Option("--save-forecasts", help="Also write every forecast: series,origin,timestamp,model,mean,lo/hi"),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N files, by name")] = None,
) -> None:
    """Score forecasting models with rolling origins (MASE, sMAPE, coverage, MSIS, seconds per series)."""
    chosen = [m.strip() for m in models.split(",") if m.strip()]
    try:
        resolve_models(chosen)
        dataset = load_dataset(directory, limit)
    except EvalError as exc:
        err.print(f"[red]error[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    for name, reason in dataset.skipped.items():
        err.print(f"[yellow]skipped[/yellow] {name}: {reason}", highlight=False, soft_wrap=True)
    for s in dataset.series:
        if s.report.long_gaps:
            err.print(f"[yellow]long gaps[/yellow] {s.name}: {s.report.summary()}", highlight=False, soft_wrap=True)
    if not dataset.series:
        err.print(f"[red]error[/red] {directory}: no series the protocol can score", highlight=False)
        raise typer.Exit(2)

    global_nn, nn_note = None, ""
    history_days = get_settings().forecasting.history_days  # `headroom` fits what the daily retrain fits
    if PRODUCT_MODEL in chosen:
        err.print(f"{dataset.name}: training the global network on the histories before the first origins")
        global_nn, nn_note = train_global_nn(dataset, history_days)
    factories = resolve_models(chosen, global_nn, history_days)
    results, warmup = run_dataset(dataset, factories)
    extra = [nn_note] if nn_note else []
    if PRODUCT_MODEL in chosen:
        extra.append(f"{PRODUCT_MODEL}: run as the daily retrain runs it, on the last {history_days} days before "
                     "each origin, warm-started from the same series' previous origin while its backtest is under "
                     "a week old (services/benchmarks/product_model.py)")
    markdown = report_markdown(dataset, results, warmup, extra)
    typer.echo(markdown)
    written = write_reports(dataset, results, markdown, out_dir)
    if save_forecasts is not None:
        rows = write_forecasts(results, save_forecasts)
        written.append(save_forecasts)
        err.print(f"{rows} forecast rows", highlight=False)
    err.print("wrote " + ", ".join(map(str, written)), highlight=False)


def run_dataset(dataset: Dataset, factories: dict[str, ModelFactory]) -> tuple[list[OriginResult], dict[str, float]]:
    """Every (series, model, origin), with a progress bar on stderr; each model first fitted once untimed."""
    total = sum(len(s.positions) for s in dataset.series) * len(factories)
    results: list[OriginResult] = []
    warmup: dict[str, float] = {}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(dataset.name, total=total)
        for model, factory in factories.items():
            warmup[model] = _warm_up(dataset, model, factory, bar, task)
            for s in dataset.series:
                bar.update(task, description=f"{dataset.name}: {model} on {s.name}")
                for position in s.positions:
                    results.append(evaluate_origin(s.name, s.y, position, s.protocol, model, factory))
                    bar.advance(task)
    return results, warmup


def _warm_up(dataset: Dataset, model: str, factory: ModelFactory, bar: Progress, task: TaskID) -> float:
    """Fit once on the first series' first history so imports and JIT compilation do not count as a series' time."""
    first = dataset.series[0]
    bar.update(task, description=f"{dataset.name}: {model} warm-up")
    start = time.perf_counter()
    evaluate_origin(first.name, first.y, first.positions[0], first.protocol, model, factory)
    return time.perf_counter() - start
