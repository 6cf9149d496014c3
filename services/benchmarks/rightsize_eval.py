"""The right-sizing benchmark of BENCHMARK.md: load traces, size on the lookback, score on the evaluation window."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from collector.catalog import Catalog
from collector.cleaning import CleaningError, clean_series, parse_timestamps
from services.recommend.risk_sizing import (
    FleetMargins,
    RiskSizing,
    RiskSizingError,
    RiskTarget,
    UsageWindow,
    calibrate,
    size_for_risk,
)
from services.recommend.usage import statistic

COLUMNS = ("timestamp", "cpu_used_cores", "cpu_provisioned_cores", "mem_used_gib", "mem_provisioned_gib")
LOOKBACK = pd.Timedelta(days=14)
MAX_GAP = timedelta(hours=1)
MIN_LOOKBACK_HOURS = 24.0  # less than a day of usage shows no daily peak to size for
OURS = "headroom"
COMPUTE_OPTIMIZER = "Compute-Optimizer-like (CPU p99.5 +20%, mem max +20%)"


class RightsizeEvalError(ValueError):
    """A directory or file the protocol cannot score; the message says which and why."""


@dataclass(frozen=True)
class UnitPrices:
    """USD per vCPU-hour and per GiB-hour: the least-squares fit of catalog prices to (vCPUs, GiB)."""

    vcpu_hour: float
    gib_hour: float


def unit_prices(catalog: Catalog) -> UnitPrices:
    """Fit hourly_price = a * vcpus + b * memory_gib (no intercept) over every catalog row, all providers/regions."""
    x = np.array([[e.vcpus, e.memory_gib] for e in catalog], dtype=np.float64)
    y = np.array([e.hourly_price for e in catalog], dtype=np.float64)
    a, b = np.linalg.lstsq(x, y, rcond=None)[0]
    if a <= 0 or b <= 0:
        raise RightsizeEvalError(f"catalog prices give a non-positive unit price (vCPU {a:.4f}, GiB {b:.4f})")
    return UnitPrices(float(a), float(b))


@dataclass
class Trace:
    """One machine or container on a regular grid (long gaps left as NaN), and what cleaning did."""

    name: str
    frame: pd.DataFrame  # columns COLUMNS[1:], UTC DatetimeIndex
    rows_read: int = 0
    zero_provisioned: int = 0
    duplicates: int = 0
    off_grid: int = 0  # rows moved to the nearest slot of the grid (not duplicates: their timestamps differ)
    off_grid_dropped: int = 0  # ... of which a later row took the slot
    step_seconds: int = 0
    notes: list[str] = field(default_factory=list)

    def split(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Lookback = the first 14 days, evaluation = the 14 days after; traces under 28 days: halves."""
        start, end = self.frame.index[0], self.frame.index[-1] + pd.Timedelta(seconds=self.step_seconds)
        cut = start + LOOKBACK if end - start >= 2 * LOOKBACK else start + (end - start) / 2
        stop = cut + (cut - start)
        frame = self.frame.dropna()
        return frame[frame.index < cut], frame[(frame.index >= cut) & (frame.index < stop)]


def load_trace(path: Path) -> Trace:
    """Read one CSV, drop rows with zero provisioned capacity, clean each column like the forecast protocol.

    The counts are those of an independent reading of the file: duplicate timestamps are the rows whose
    timestamp comes again further down (the last is kept), counted over every row read, and rows with zero
    provisioned capacity are counted over every row read too, whichever of the two drops a row first.
    """
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise RightsizeEvalError(f"{path.name}: missing column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}")
    raw["line"] = np.arange(len(raw)) + 2
    provisioned = raw[["cpu_provisioned_cores", "mem_provisioned_gib"]].apply(pd.to_numeric, errors="coerce")
    zero = (provisioned <= 0).any(axis=1).to_numpy()
    stamps = parse_timestamps(raw["timestamp"])
    repeated = stamps.duplicated(keep="last").to_numpy() & stamps.notna().to_numpy()
    kept = raw[~zero]
    trace = Trace(
        name=path.stem,
        frame=pd.DataFrame(),
        rows_read=len(raw),
        zero_provisioned=int(zero.sum()),
        duplicates=int(repeated.sum()),
    )
    columns = {}
    try:
        for column in COLUMNS[1:]:
            values, report = clean_series(
                kept[["timestamp", column, "line"]].rename(columns={column: "value"}),
                MAX_GAP,
                source=f"{path.name} {column}",
            )
            columns[column] = values
            if column == COLUMNS[1]:
                trace.step_seconds = report.step_seconds
                trace.off_grid, trace.off_grid_dropped = report.off_grid_rows, report.off_grid_dropped
                if report.long_gaps or report.unparseable_rows:
                    trace.notes.append(report.summary())
    except CleaningError as exc:
        raise RightsizeEvalError(str(exc)) from None
    trace.frame = pd.DataFrame(columns)
    return trace


def load_traces(directory: Path) -> tuple[list[Trace], dict[str, str]]:
    """Every *.csv of a directory, by name; files that cannot be read are returned with the reason."""
    files = sorted(directory.glob("*.csv"))
    if not files:
        raise RightsizeEvalError(f"{directory}: no .csv files; expected one CSV per machine with {','.join(COLUMNS)}")
    traces, skipped = [], {}
    for path in files:
        try:
            traces.append(load_trace(path))
        except RightsizeEvalError as exc:
            skipped[path.stem] = str(exc)
    return traces, skipped


Sizer = Callable[[pd.DataFrame], tuple[float, float]]


def _baseline(cpu_stat: str, cpu_factor: float, mem_stat: str, mem_factor: float) -> Sizer:
    def size(lookback: pd.DataFrame) -> tuple[float, float]:
        cpu = statistic(lookback["cpu_used_cores"], cpu_stat) * cpu_factor
        return cpu, statistic(lookback["mem_used_gib"], mem_stat) * mem_factor

    return size


BASELINES: dict[str, Sizer] = {
    "krr simple (CPU p95, mem max x1.15)": _baseline("p95", 1.0, "max", 1.15),
    "VPA target (p90 +15%)": _baseline("p90", 1.15, "p90", 1.15),
    COMPUTE_OPTIMIZER: _baseline("p99.5", 1.2, "max", 1.2),
}


def score(
    *, cpu: float, mem: float, lookback: pd.DataFrame, evaluation: pd.DataFrame, prices: UnitPrices
) -> dict[str, float]:
    """Savings against the provisioned size at the end of the lookback; violations over the evaluation window."""
    prov_cpu = float(lookback["cpu_provisioned_cores"].iloc[-1])
    prov_mem = float(lookback["mem_provisioned_gib"].iloc[-1])
    prov_cost = prov_cpu * prices.vcpu_hour + prov_mem * prices.gib_hour
    cost = cpu * prices.vcpu_hour + mem * prices.gib_hour
    cpu_short = evaluation["cpu_used_cores"].to_numpy() - cpu
    mem_short = evaluation["mem_used_gib"].to_numpy() - mem
    return {
        "cpu_cores": cpu,
        "mem_gib": mem,
        "provisioned_cpu_cores": prov_cpu,
        "provisioned_mem_gib": prov_mem,
        "cost_hour": cost,
        "provisioned_cost_hour": prov_cost,
        "savings_cpu": 1.0 - cpu / prov_cpu,
        "savings_mem": 1.0 - mem / prov_mem,
        "savings_cost": 1.0 - cost / prov_cost,
        "violation_cpu": float(np.mean(cpu_short > 0)) if cpu_short.size else float("nan"),
        "violation_mem": float(np.mean(mem_short > 0)) if mem_short.size else float("nan"),
        "worst_cpu_shortfall": max(0.0, float(cpu_short.max())) if cpu_short.size else float("nan"),
        "worst_mem_shortfall": max(0.0, float(mem_short.max())) if mem_short.size else float("nan"),
    }


@dataclass
class DatasetResult:
    """Per (resource, method) scores of one dataset, the margins ours learnt, and the resources it did not size."""

    name: str
    scores: pd.DataFrame  # columns: resource, method, and score()'s keys (ours: also its expected risks)
    no_recommendation: dict[str, str] = field(default_factory=dict)
    margins: FleetMargins | None = None


def _ours(sizing: RiskSizing) -> dict[str, float]:
    """The risks ours expects at its size and at the next smaller one, as score columns."""
    p, s = sizing.proposed, sizing.smaller
    return {
        "expected_cpu_share": p.cpu_share,
        "expected_mem_share": p.mem_share,
        "expected_mem_any": p.mem_any,
        "smaller_cpu_cores": s.cpu_cores,
        "smaller_mem_gib": s.mem_gib,
        "smaller_cpu_share": s.cpu_share,
        "smaller_mem_share": s.mem_share,
        "smaller_mem_any": s.mem_any,
        "one_off_peaks": float(sizing.one_offs),
    }


def evaluate(traces: list[Trace], *, name: str, prices: UnitPrices, target: RiskTarget | None = None) -> DatasetResult:
    """Learn ours' margins on every lookback of the fleet, then size and score ours and the baselines.

    Each resource's lookback is split in time for the calibration (services.recommend.risk_sizing.calibrate);
    the evaluation windows are never seen. A resource ours cannot size is left out of every row.
    """
    target = target or RiskTarget()
    result = DatasetResult(name=name, scores=pd.DataFrame())
    parts = []
    for trace in traces:
        lookback, evaluation = trace.split()
        if len(lookback) < 2 or evaluation.empty:
            result.no_recommendation[trace.name] = "no data in the lookback or the evaluation window"
            continue
        hours = (lookback.index[-1] - lookback.index[0]).total_seconds() / 3600.0 + trace.step_seconds / 3600.0
        if hours < MIN_LOOKBACK_HOURS:
            result.no_recommendation[trace.name] = (
                f"not enough data: {hours:.1f} hours of usage in the lookback, "
                f"at least {MIN_LOOKBACK_HOURS:.0f} are needed"
            )
            continue
        parts.append((trace, lookback, evaluation, UsageWindow.from_frame(lookback)))
    if not parts:
        return result
    try:
        horizon = max((e.index[-1] - lb.index[-1]).total_seconds() / 86_400.0 for _, lb, e, _ in parts)
        result.margins = calibrate([w for *_, w in parts], target=target, horizon_days=horizon)
    except RiskSizingError as exc:
        result.no_recommendation.update({trace.name: str(exc) for trace, *_ in parts})
        return result
    rows: list[dict[str, object]] = []
    for trace, lookback, evaluation, window in parts:
        horizon_days = (evaluation.index[-1] - lookback.index[-1]).total_seconds() / 86_400.0
        mine = size_for_risk(window, result.margins, horizon_days=horizon_days)
        sizes = {OURS: (mine.cpu_cores, mine.mem_gib), **{label: size(lookback) for label, size in BASELINES.items()}}
        for method, (cpu, mem) in sizes.items():
            scored = score(cpu=cpu, mem=mem, lookback=lookback, evaluation=evaluation, prices=prices)
            extra = _ours(mine) if method == OURS else {}
            rows.append({"resource": trace.name, "method": method, **scored, **extra})
    result.scores = pd.DataFrame(rows)
    return result


def summary_table(result: DatasetResult) -> pd.DataFrame:
    """One row per method: fleet-wide savings (1 - sum recommended / sum provisioned), violation shares, counts."""
    g = result.scores.groupby("method", sort=False)
    fleet = lambda used, provisioned: 1.0 - g[used].sum() / g[provisioned].sum()  # noqa: E731
    table = pd.DataFrame({
        "savings CPU": fleet("cpu_cores", "provisioned_cpu_cores"),
        "savings mem": fleet("mem_gib", "provisioned_mem_gib"),
        "savings cost-weighted": fleet("cost_hour", "provisioned_cost_hour"),
        "viol. CPU mean": g["violation_cpu"].mean(),
        "viol. CPU p95": g["violation_cpu"].quantile(0.95),
        "viol. mem mean": g["violation_mem"].mean(),
        "viol. mem p95": g["violation_mem"].quantile(0.95),
        "resources with mem viol.": g["violation_mem"].apply(lambda v: int((v > 0).sum())),
        "worst CPU shortfall (cores)": g["worst_cpu_shortfall"].max(),
        "worst mem shortfall (GiB)": g["worst_mem_shortfall"].max(),
    })  # fmt: skip
    return table


COUNTS = (  # the four counts of the acceptance: (column, higher is better)
    ("savings cost-weighted", True),
    ("viol. CPU mean", False),
    ("viol. mem mean", False),
    ("resources with mem viol.", False),
)


def acceptance(table: pd.DataFrame, *, against: str = COMPUTE_OPTIMIZER) -> tuple[bool, str]:
    """Does ours match or beat `against` on all four counts at once (savings >=, three violation counts <=)?"""
    me, other = table.loc[OURS], table.loc[against]
    verdicts = []
    for column, higher in COUNTS:
        ok = me[column] >= other[column] - 1e-12 if higher else me[column] <= other[column] + 1e-12
        verdicts.append((column, bool(ok)))
    ok = all(v for _, v in verdicts)
    failed = [c for c, v in verdicts if not v]
    text = (
        f"**Acceptance {'holds' if ok else 'does NOT hold'}** against {against}: {OURS} gives back "
        f"{me['savings cost-weighted']:.1%} of the fleet's cost (it: {other['savings cost-weighted']:.1%}) with "
        f"CPU violations {me['viol. CPU mean']:.2%} ({other['viol. CPU mean']:.2%}), memory violations "
        f"{me['viol. mem mean']:.3%} ({other['viol. mem mean']:.3%}) and {int(me['resources with mem viol.'])} "
        f"resources with a memory violation ({int(other['resources with mem viol.'])})"
        + (f"; behind on {', '.join(failed)}." if failed else ".")
    )
    return ok, text


def markdown_table(table: pd.DataFrame) -> list[str]:
    """A summary table as Markdown lines."""
    header = ["method", *table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for method, row in table.iterrows():
        cells = [
            f"{v:.2%}"
            if "viol. " in c
            else f"{v:.1%}"
            if "savings" in c
            else f"{int(v)}"
            if "resources" in c
            else f"{v:.3g}"
            for c, v in row.items()
        ]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return lines


def report_markdown(result: DatasetResult, traces: list[Trace], skipped: dict[str, str], prices: UnitPrices) -> str:
    """The dataset's table, the acceptance line, the margins learnt, and what cleaning and sizing left out."""
    lines = [f"## {result.name}", ""]
    if result.scores.empty:
        return "\n".join([*lines, "No resource could be scored.", ""])
    table = summary_table(result)
    lines += markdown_table(table)
    scored = result.scores["resource"].nunique()
    lines += ["", acceptance(table)[1], ""]
    if result.margins is not None:
        lines.append(f"Risk target: {result.margins.target.describe()}; {result.margins.describe()}.")
    lines.append(
        f"Savings are fleet totals (1 - sum of recommended / sum of provisioned). {scored} resources scored; "
        f"{len(result.no_recommendation)} without a recommendation from {OURS} (left out of every row); "
        f"{len(skipped)} files unreadable. Prices: ${prices.vcpu_hour:.4f} per vCPU-hour, "
        f"${prices.gib_hour:.4f} per GiB-hour."
    )
    zero = sum(t.zero_provisioned for t in traces)
    dups = sum(t.duplicates for t in traces)
    rows = sum(t.rows_read for t in traces)
    off_grid, taken = sum(t.off_grid for t in traces), sum(t.off_grid_dropped for t in traces)
    lines.append(
        f"Cleaning: {rows} rows read, {zero} rows with zero provisioned capacity dropped, {dups} duplicate timestamps "
        f"dropped (last kept), both counted over every row read; {off_grid} rows off the grid moved to its nearest "
        f"slot, {taken} of them dropped for a later row in the same slot."
    )
    for name, reason in sorted({**result.no_recommendation, **skipped}.items()):
        lines.append(f"- {name}: {reason}")
    return "\n".join(lines) + "\n"


def write_recommendations(result: DatasetResult, path: Path) -> int:
    """Ours' raw recommendations: resource,cpu_cores,mem_gib."""
    mine = result.scores[result.scores["method"] == OURS] if not result.scores.empty else result.scores
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["resource", "cpu_cores", "mem_gib"])
        for _, row in mine.iterrows():
            writer.writerow([row["resource"], f"{row['cpu_cores']:.6g}", f"{row['mem_gib']:.6g}"])
    return len(mine)
