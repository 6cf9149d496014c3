"""The forecast benchmark on a directory of timestamp,value CSVs: load and clean, pick models, write tables and CSVs."""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path

import pandas as pd

from collector.cleaning import CleaningError, CleaningReport, load_series_csv
from ml_engine import FORECASTERS, AutoARIMA, Forecaster, ForecastError, WithFallback, make_forecaster
from ml_engine.evaluation import (
    ModelFactory,
    OriginResult,
    Protocol,
    ProtocolError,
    markdown_table,
    origin_positions,
    per_series,
    protocol_for_step,
    ratios_to_reference,
    summarize,
)
from ml_engine.nn import GlobalNN
from ml_engine.resolution import Hourly, hourly_means, resolution_for
from services.benchmarks.product_model import ProductRuns
from services.settings import ForecastingSettings

MAX_GAP = timedelta(hours=1)  # BENCHMARK.md: interpolate gaps up to one hour, report longer ones
HISTORY_DAYS = ForecastingSettings.model_fields["history_days"].default  # what the daily retrain fits on
PRODUCT_MODEL = "headroom"  # the product's model: the ensemble with the global network, and the naive fallback
# AutoARIMA at the protocol's m = 288 (5-minute data) does not finish a fit in 15 CPU-minutes: on such data it is
# run on hourly means (m = 24) and read back at 5-minute steps; on hourly data it is the same as auto_arima.
ARIMA_HOURLY = "auto_arima_hourly"
DEFAULT_MODELS = ("seasonal_naive", "auto_ets", ARIMA_HOURLY, "mstl", "prophet", PRODUCT_MODEL)
FORECAST_COLUMNS = ["series", "origin", "timestamp", "model", "mean", "lo80", "hi80", "lo95", "hi95"]


class EvalError(ValueError):
    """The benchmark cannot run as asked (no CSVs, unknown model); the message says what to change."""


@dataclass
class LoadedSeries:
    """A cleaned series ready for the protocol, with its cleaning report."""

    name: str
    y: pd.Series
    report: CleaningReport
    protocol: Protocol
    positions: list[int]


@dataclass
class Dataset:
    """The series of one directory that the protocol can score, and those it cannot, with the reason."""

    name: str
    series: list[LoadedSeries] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def resolve_models(names: Sequence[str] | None, global_nn: GlobalNN | None = None,
                   history_days: int = HISTORY_DAYS) -> dict[str, ModelFactory]:
    """Factories by model name. Every model runs as the product runs it, wrapped in WithFallback (a series it
    cannot fit gets the seasonal-naive forecast, counted in the notes); `headroom` is the product's own model as
    the daily retrain runs it (services.benchmarks.product_model): the ensemble, with the dataset's global network
    as a member when one is given, on the last history_days, warm from the series' previous origin."""
    chosen = list(names or DEFAULT_MODELS)
    known = sorted(FORECASTERS) + [ARIMA_HOURLY, PRODUCT_MODEL]
    unknown = [n for n in chosen if n not in known]
    if unknown:
        raise EvalError(f"unknown model(s) {', '.join(unknown)}: choose from {', '.join(known)}")
    factories: dict[str, ModelFactory] = {}
    for name in dict.fromkeys(chosen):
        if name == PRODUCT_MODEL:
            factories[name] = ProductRuns(global_nn, history_days)
        elif name == ARIMA_HOURLY:
            factories[name] = _arima_hourly
        else:
            factories[name] = partial(make_forecaster, name)
    return factories


def _arima_hourly(season_length: int) -> Forecaster:
    return WithFallback(Hourly(AutoARIMA(season_length=season_length)))


def train_global_nn(dataset: Dataset, history_days: int = HISTORY_DAYS) -> tuple[GlobalNN | None, str]:
    """One GlobalNN for the dataset, trained as the daily retrain trains it, on the last history_days of every
    series' history before its first origin (no peeking), at the resolution the ensemble models it (hourly means
    for 5-minute data); None and the reason when it cannot be."""
    if not dataset.series:
        return None, "no series"
    start = time.perf_counter()
    histories: list[pd.Series] = []
    season = 0
    for s in dataset.series:
        history = s.y.iloc[: s.positions[0]].interpolate(limit_direction="both")
        history = history[history.index > history.index[-1] - pd.Timedelta(days=history_days)]
        res = resolution_for(pd.Timedelta(seconds=s.report.step_seconds), s.protocol.season_length, len(history))
        season = season or res.model_season
        if res.model_season == season:
            histories.append(hourly_means(history, res.per_hour) if res.hourly else history)
    try:
        nn = GlobalNN(season_length=season).fit(histories)
    except ForecastError as exc:
        return None, f"global network not trained: {exc}"
    seconds = time.perf_counter() - start
    return nn, f"global network (member global_nn) trained once on {nn.training['windows']} windows of " + (
        f"{len(histories)} series' histories before their first origin, season {season}: {seconds:.1f} s"
    )


def load_dataset(directory: Path, limit: int | None = None) -> Dataset:
    """Clean every *.csv of directory (sorted by name; the first `limit`), and fix each one's protocol by its step."""
    files = sorted(directory.glob("*.csv"))
    if not files:
        raise EvalError(f"{directory}: no *.csv files; expected one timestamp,value CSV per series")
    dataset = Dataset(name=directory.name)
    for path in files[:limit] if limit else files:
        name = path.stem
        try:
            y, report = load_series_csv(path, MAX_GAP)
            protocol = protocol_for_step(pd.Timedelta(seconds=report.step_seconds))
            positions = origin_positions(len(y), protocol)
        except (CleaningError, ProtocolError) as exc:
            dataset.skipped[name] = str(exc)
            continue
        dataset.series.append(LoadedSeries(name, y, report, protocol, positions))
    return dataset


def dataset_notes(dataset: Dataset, results: list[OriginResult], warmup: dict[str, float]) -> list[str]:
    """What a reader must know beside the table: protocol, cleaning repairs, skips, fallbacks, failures, warm-up."""
    notes: list[str] = []
    protocols = sorted({(s.report.step_seconds, s.protocol) for s in dataset.series}, key=lambda p: p[0])
    for step, protocol in protocols:
        notes.append(
            f"step {step} s: season m = {protocol.season_length}, horizon h = {protocol.horizon}, "
            f"{protocol.origins} origins"
        )
    skipped = f", {len(dataset.skipped)} skipped" if dataset.skipped else ""
    notes.append(f"{len(dataset.series)} series scored{skipped}")
    notes += [f"skipped {name}: {reason}" for name, reason in dataset.skipped.items()]
    for s in dataset.series:
        if s.report.long_gaps:
            gaps = "; ".join(map(str, s.report.long_gaps))
            notes.append(f"{s.name}: long gaps left empty by cleaning ({gaps}): not scored, interpolated for fitting")
    by_model: dict[str, list[OriginResult]] = {}
    for r in results:
        by_model.setdefault(r.model, []).append(r)
    for model, rows in by_model.items():
        fell_back = [r for r in rows if "fell back" in r.note]
        failed = [r for r in rows if not r.answered_by]
        if fell_back:
            notes.append(f"{model}: {len(fell_back)} of {len(rows)} forecasts fell back ({_first_reason(fell_back)})")
        if failed:
            notes.append(f"{model}: {len(failed)} of {len(rows)} forecasts failed ({_first_reason(failed)})")
    if warmup:
        spent = ", ".join(f"{m} {s:.1f} s" for m, s in warmup.items())
        notes.append(f"one untimed warm-up fit per model first (imports, JIT compilation): {spent}")
    return notes


def _first_reason(rows: list[OriginResult]) -> str:
    return f"e.g. {rows[0].series}: {rows[0].note}"


def report_markdown(
    dataset: Dataset, results: list[OriginResult], warmup: dict[str, float], extra: Sequence[str] = ()
) -> str:
    """The dataset's table and its notes (and any extra notes), as Markdown."""
    table = markdown_table(summarize(per_series(results), ratios_to_reference(results)))
    notes = "\n".join(f"- {n}" for n in [*dataset_notes(dataset, results, warmup), *extra])
    return f"## {dataset.name}\n\n{table}\n\n{notes}\n"


def write_reports(dataset: Dataset, results: list[OriginResult], markdown: str, out_dir: Path) -> list[Path]:
    """<dataset>.md (table and notes) and <dataset>.csv (one row per series and model) under out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md_path, csv_path = out_dir / f"{dataset.name}.md", out_dir / f"{dataset.name}.csv"
    md_path.write_text(markdown, encoding="utf-8")
    rows = per_series(results)
    notes = pd.DataFrame([r.row() for r in results]).groupby(["series", "model"], sort=False)["note"]
    rows["notes"] = notes.apply(lambda s: " | ".join(n for n in s if n)).to_numpy()
    steps = {s.name: s.report.step_seconds for s in dataset.series}
    rows.insert(2, "step_seconds", rows["series"].map(steps))
    rows.to_csv(csv_path, index=False, float_format="%.6g")
    return [md_path, csv_path]


def write_forecasts(results: list[OriginResult], path: Path) -> int:
    """Every forecast as series,origin,timestamp,model,mean,lo80,hi80,lo95,hi95 (ISO 8601 UTC); returns the rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(FORECAST_COLUMNS)
        for r in results:
            if r.forecast is None:
                continue
            origin = _iso(r.origin)
            for stamp, row in zip(r.forecast.index, r.forecast.itertuples(index=False), strict=True):
                writer.writerow([r.series, origin, _iso(stamp), r.model, *(repr(float(v)) for v in row)])
                count += 1
    return count


def _iso(stamp: pd.Timestamp) -> str:
    """ISO 8601 in UTC with a Z, e.g. 2014-02-28T14:27:00Z."""
    return stamp.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
