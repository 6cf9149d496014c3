"""The autoscaling benchmark of BENCHMARK.md: every trace of a directory through Headroom's policy and the baselines."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from collector.cleaning import CleaningError, load_series_csv
from services.autoscaling.baselines import perfect_foresight, reactive, seasonal_predictive, static_peak
from services.autoscaling.predictive import choose_plan, predictive
from services.autoscaling.settings import ScalingSettings
from services.autoscaling.simulator import score
from services.autoscaling.trace import Trace, TraceError, split_trace

MAX_GAP = timedelta(hours=1)  # the forecast protocol's cleaning: interpolate gaps up to an hour
OURS = "headroom predictive"
Policy = Callable[[Trace, ScalingSettings], np.ndarray]
POLICIES: dict[str, Policy] = {
    OURS: predictive,
    "static peak": static_peak,
    "reactive target tracking": reactive,
    "seasonal predictive + reactive floor": seasonal_predictive,
    "oracle": perfect_foresight,
}
REACTIVE, SEASONAL = "reactive target tracking", "seasonal predictive + reactive floor"
COLUMNS = {  # score field -> table column
    "cost": "cost / oracle",
    "under_provisioned": "under-provisioned share",
    "unserved": "unserved share",
    "utilisation": "mean utilisation",
    "actions": "scaling actions",
}


class AutoscaleEvalError(ValueError):
    """The benchmark cannot run on this directory; the message says what to change."""


@dataclass
class DatasetResult:
    """Per (series, policy) scores, our capacity per step, and the series left out with the reason."""

    name: str
    scores: pd.DataFrame
    capacity: dict[str, pd.Series] = field(default_factory=dict)  # series -> instances per window step
    choices: dict[str, str] = field(default_factory=dict)  # series -> the forecaster its plan used
    skipped: dict[str, str] = field(default_factory=dict)


def load_traces(directory: Path) -> tuple[list[Trace], dict[str, str]]:
    """Clean every *.csv (forecast protocol) and split it (autoscaling protocol); unusable files with the reason."""
    files = sorted(directory.glob("*.csv"))
    if not files:
        raise AutoscaleEvalError(f"{directory}: no *.csv files; expected one timestamp,value CSV per demand trace")
    traces, skipped = [], {}
    for path in files:
        try:
            y, _ = load_series_csv(path, MAX_GAP)
            traces.append(split_trace(path.stem, y))
        except (CleaningError, TraceError) as exc:
            skipped[path.stem] = str(exc)
    return traces, skipped


def evaluate(
    traces: list[Trace],
    *,
    name: str,
    settings: ScalingSettings | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> DatasetResult:
    """Every trace through every policy on its evaluation window; `progress(done, total, series)` after each."""
    settings = settings or ScalingSettings()
    rows: list[dict[str, object]] = []
    result = DatasetResult(name=name, scores=pd.DataFrame())
    for done, trace in enumerate(traces, start=1):
        choice, planned = choose_plan(trace, settings)
        result.choices[trace.name] = choice.describe()
        for policy, plan in POLICIES.items():
            instances = planned if policy == OURS else plan(trace, settings)
            scored = score(trace.window, instances[trace.start :], trace.unit, before=instances[trace.start - 1])
            rows.append({"series": trace.name, "policy": policy, **asdict(scored)})
            if policy == OURS:
                result.capacity[trace.name] = pd.Series(instances[trace.start :], index=trace.index[trace.start :])
        if progress:
            progress(done, len(traces), trace.name)
    result.scores = pd.DataFrame(rows)
    return result


def summary_table(result: DatasetResult) -> pd.DataFrame:
    """Mean over series per policy, in the protocol's columns."""
    table = result.scores.groupby("policy", sort=False)[list(COLUMNS)].mean()
    return table.rename(columns=COLUMNS)


def acceptance(table: pd.DataFrame) -> tuple[bool, str]:
    """Issue 17: ours no costlier than reactive target tracking and no more often short than seasonal predictive."""
    me, fast, safe = table.loc[OURS], table.loc[REACTIVE], table.loc[SEASONAL]
    cheaper = bool(me["cost / oracle"] <= fast["cost / oracle"])
    safer = bool(me["under-provisioned share"] <= safe["under-provisioned share"])
    text = (
        f"**Acceptance {'holds' if cheaper and safer else 'does NOT hold'}**: cost / oracle {me['cost / oracle']:.3f} "
        f"against reactive's {fast['cost / oracle']:.3f} ({'met' if cheaper else 'not met'}); under-provisioned "
        f"share {me['under-provisioned share']:.2%} against seasonal predictive's "
        f"{safe['under-provisioned share']:.2%} ({'met' if safer else 'not met'})."
    )
    return cheaper and safer, text


def report_markdown(result: DatasetResult, settings: ScalingSettings, command: str = "") -> str:
    """The dataset's table, the acceptance line, the settings, and the series left out."""
    lines = [f"## {result.name}", ""]
    if command:
        lines += [f"Made by `{command}`.", ""]
    if result.scores.empty:
        return "\n".join([*lines, "No series could be scored.", *_skipped(result), ""])
    table = summary_table(result)
    lines += ["| policy | " + " | ".join(table.columns) + " |", "|---" * (len(table.columns) + 1) + "|"]
    for policy, row in table.iterrows():
        cells = [f"{row.iloc[0]:.3f}", f"{row.iloc[1]:.2%}", f"{row.iloc[2]:.2%}", f"{row.iloc[3]:.1%}",
                 f"{row.iloc[4]:.1f}"]
        lines.append(f"| {policy} | " + " | ".join(cells) + " |")
    lines += ["", acceptance(table)[1], ""]
    lines.append(
        f"{result.scores['series'].nunique()} series scored (mean over series); {len(result.skipped)} left out. "
        f"Settings: shortfall penalty {settings.shortfall_penalty:g}, launch lead {settings.launch_lead_minutes:g} "
        f"min, scale-in delay {settings.scale_in_delay_minutes:g} min, reactive U {settings.target_utilisation:g}, "
        f"stabilisation {settings.stabilisation_minutes:g} min."
    )
    return "\n".join([*lines, *_skipped(result)]) + "\n"


def _skipped(result: DatasetResult) -> list[str]:
    return [f"- skipped {skip_note(name, reason)}" for name, reason in sorted(result.skipped.items())]


def skip_note(name: str, reason: str) -> str:
    """'name: reason', without repeating a name the reason already starts with."""
    return reason if reason.startswith(name) else f"{name}: {reason}"


def write_capacity(result: DatasetResult, path: Path) -> int:
    """Ours per (series, window step): series,timestamp,instances (timestamps ISO 8601 UTC)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["series", "timestamp", "instances"])
        for series, instances in result.capacity.items():
            for stamp, count in instances.items():
                writer.writerow([series, pd.Timestamp(stamp).strftime("%Y-%m-%dT%H:%M:%SZ"), int(count)])
                rows += 1
    return rows
