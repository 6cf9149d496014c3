"""How urgent a runway is: a severity from P50 and P90 against the lead time and the forecast's live accuracy, with
the words that say why, and the order the dashboard and CLI list runways in (most severe first)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from collector.records import series_id_for
from services.forecasting.accuracy import Accuracy, accuracy_by_series
from services.recommend.routine import hours_text

# most severe first; the rank is the index
SEVERITIES = ("over", "critical", "warning", "uncertain", "ok")
NOISE_SHARE = 0.5  # a series below this share of its threshold whose mean never crosses it: the band is noise
MIN_COVERAGE80 = 0.6  # live 80% coverage below this: the band was wrong too often to trust the P90
MAX_MASE = 2.0  # live MASE above this: the mean path is no better than guessing


@dataclass(frozen=True)
class LiveAccuracy:
    mase: float | None
    coverage80: float | None


@dataclass(frozen=True)
class Severity:
    level: str
    reason: str

    @property
    def rank(self) -> int:
        return SEVERITIES.index(self.level)


def _days(value: float) -> str:
    return f"{value:.1f} days" if value < 10 else f"{value:.0f} days"


def runway_severity(item: Mapping[str, Any], accuracy: LiveAccuracy | None = None) -> Severity:
    """The severity of one runway record (store.runway_view) and why, in words an SRE can act on."""
    p50, p90 = item.get("p50_days"), item.get("p90_days")
    lead, horizon = float(item["lead_time_days"]), float(item["horizon_days"])
    current, threshold = item.get("current"), float(item["threshold"])
    routine = list(item.get("routine_hours") or [])
    # a latest sample over the threshold at a routine daily peak is not "over": the runway did not start at 0
    if (current is not None and current >= threshold and not routine) or p50 == 0 or p90 == 0:
        return Severity("over", f"already over the threshold of {threshold:g}")
    untrusted = accuracy is not None and (
        (accuracy.coverage80 is not None and accuracy.coverage80 < MIN_COVERAGE80)
        or (accuracy.mase is not None and accuracy.mase > MAX_MASE)
    )
    noise = p50 is None and current is not None and current < NOISE_SHARE * threshold
    if p90 is not None and p90 <= lead and (noise or untrusted):
        why = (
            f"only the band's upper edge crosses, from {current:g} against a threshold of {threshold:g}"
            if noise
            else _accuracy_words(accuracy)
        )
        return Severity("uncertain", f"P90 {_days(p90)} inside the lead time, but {why}")
    if p50 is not None and p50 <= lead:
        return Severity("critical", f"expected to cross in {_days(p50)}, inside the {lead:g}-day lead time")
    if p90 is not None and p90 <= lead:
        return Severity("warning", f"1 in 10 chance of crossing within {_days(p90)}, inside the {lead:g}-day lead time")
    peak = f"; its daily peak at {hours_text(routine)} UTC reaches it, but no higher than usual" * bool(routine)
    if horizon < lead:
        return Severity(
            "ok", f"no crossing within the forecast's {_days(horizon)} (the lead time is {lead:g} days){peak}"
        )
    return Severity("ok", f"no crossing inside the {lead:g}-day lead time{peak}")


def _accuracy_words(accuracy: LiveAccuracy | None) -> str:
    if accuracy is None:
        return "the forecast has no live accuracy"
    parts = []
    if accuracy.coverage80 is not None:
        parts.append(f"only {accuracy.coverage80:.0%} of actuals fell inside its 80% band")
    if accuracy.mase is not None:
        parts.append(f"live MASE {accuracy.mase:.2f}")
    return "the forecast has been unreliable: " + ", ".join(parts)


BATCH_SERIES = 500  # above this many series, read every series' scores in one query rather than an IN list


def live_accuracies(session: Session, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], LiveAccuracy]:
    """The live accuracy of the forecasts behind runways, by (resource key, metric): their metric's mean forecasts,
    point-weighted over models, read in one query whatever the number of runways; unscored ones are left out."""
    wanted = {series_id_for(key.split(":", 1)[1] if ":" in key else key, metric): (key, metric) for key, metric in keys}
    if not wanted:
        return {}
    ids = wanted if len(wanted) <= BATCH_SERIES else None
    by_series: dict[str, list[Accuracy]] = {}
    for a in accuracy_by_series(session, ids, stat="mean"):
        by_series.setdefault(a.key, []).append(a)

    def mean_of(values: list[tuple[float | None, int]]) -> float | None:
        known = [(v, max(n, 1)) for v, n in values if v is not None]
        return sum(v * n for v, n in known) / sum(n for _, n in known) if known else None

    return {
        wanted[sid]: LiveAccuracy(
            mase=mean_of([(a.mase, a.points) for a in scores]),
            coverage80=mean_of([(a.coverage80, a.points) for a in scores]),
        )
        for sid, scores in by_series.items()
        if sid in wanted
    }


def with_severity(session: Session, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runway records with their severity and its reason, most severe first, then shortest P90, P50."""
    own = [(i["resource_key"], i["metric"]) for i in items
           if i["metric"] and not i["resource_key"].startswith(("group:", "budget:"))]
    accuracy = live_accuracies(session, own)
    out = []
    for item in items:
        sev = runway_severity(item, accuracy.get((item["resource_key"], item["metric"])))
        out.append({**item, "severity": sev.level, "severity_reason": sev.reason, "_rank": sev.rank})
    out.sort(key=lambda i: (i["_rank"], i["p90_days"] is None, i["p90_days"] or 0.0, i["p50_days"] or 0.0))
    return [{k: v for k, v in i.items() if k != "_rank"} for i in out]
