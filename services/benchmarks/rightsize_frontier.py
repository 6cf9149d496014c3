"""The savings-risk frontier of the right-sizing benchmark: our sizer at several stated risks beside the baselines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd

from services.benchmarks.rightsize_eval import OURS, DatasetResult, Trace, UnitPrices, evaluate, summary_table
from services.recommend.risk_sizing import RiskTarget

RISK_FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)  # frontier points, as multiples of the default risk
POINT_COLUMNS = ("savings cost-weighted", "viol. CPU mean", "viol. mem mean", "resources with mem viol.")


def frontier_targets(factors: Sequence[float] = RISK_FACTORS) -> list[RiskTarget]:
    """The default risk scaled by each factor (the memory chance capped below 1), taken as stated: the model's own
    curve, without the default's reference guard (the default point is added beside it)."""
    return [replace(RiskTarget().scaled(f), reference_guard=False) for f in factors]


def frontier(
    traces: list[Trace], *, name: str, prices: UnitPrices, targets: Sequence[RiskTarget], baseline: DatasetResult
) -> pd.DataFrame:
    """One row per stated risk (ours) and per baseline: cost-weighted savings and the violations that followed."""
    rows = []
    for target in targets:
        table = summary_table(evaluate(traces, name=name, prices=prices, target=target))
        rows.append({"sizer": _label(target), "kind": OURS, **_point(table.loc[OURS]), **_risk(target)})
    table = summary_table(baseline)
    for method in table.index.drop(OURS):
        rows.append({"sizer": method, "kind": "baseline", **_point(table.loc[method])})
    return pd.DataFrame(rows)


def _label(target: RiskTarget) -> str:
    guard = " with the reference guard" if target.reference_guard else ""
    default = " (default)" if target == RiskTarget() else ""
    return f"{OURS} at CPU {target.cpu_share:.2%}{guard}{default}"


def _point(row: pd.Series) -> dict[str, float]:
    return {c: float(row[c]) for c in POINT_COLUMNS}


def _risk(target: RiskTarget) -> dict[str, float]:
    return {
        "target CPU share": target.cpu_share,
        "target mem share": target.mem_share,
        "target mem chance": target.mem_any,
        "reference guard": float(target.reference_guard),
    }


def frontier_markdown(points: pd.DataFrame, *, name: str) -> str:
    """The frontier as a Markdown table: stated risk, savings and realised violations per point."""
    lines = [
        f"### {name}: savings against risk",
        "",
        "| sizer | stated risk (CPU share / mem share / mem chance) | savings cost-weighted | viol. CPU mean | "
        "viol. mem mean | resources with mem viol. |",
        "|---|---|---|---|---|---|",
    ]
    for _, p in points.iterrows():
        stated = (
            f"{p['target CPU share']:.2%} / {p['target mem share']:.3%} / {p['target mem chance']:.0%}"
            if p["kind"] == OURS
            else "-"
        )
        lines.append(
            f"| {p['sizer']} | {stated} | {p['savings cost-weighted']:.1%} | {p['viol. CPU mean']:.2%} | "
            f"{p['viol. mem mean']:.3%} | {int(p['resources with mem viol.'])} |"
        )
    return "\n".join(lines) + "\n"


def frontier_png(points: pd.DataFrame, path: Path, *, name: str) -> Path:
    """Savings against the CPU and the memory violation share: our curve, one point per baseline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mine = points[points["kind"] == OURS]
    guarded = mine["reference guard"] > 0
    ours, default = mine[~guarded].sort_values("viol. CPU mean"), mine[guarded]
    bases = points[points["kind"] == "baseline"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, column, label in zip(axes, ("viol. CPU mean", "viol. mem mean"), ("CPU", "memory"), strict=True):
        ax.plot(100 * ours[column], 100 * ours["savings cost-weighted"], "o-", color="tab:blue", label=OURS)
        for _, p in default.iterrows():
            ax.plot(100 * p[column], 100 * p["savings cost-weighted"], "*", ms=13, color="tab:blue", label=p["sizer"])
        for _, p in bases.iterrows():
            ax.plot(100 * p[column], 100 * p["savings cost-weighted"], "s", label=p["sizer"])
        ax.set_xscale("symlog", linthresh=0.01)
        ax.set_xlabel(f"{label} violation share, mean over resources (%)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("cost-weighted savings, fleet total (%)")
    axes[1].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"{name}: savings against risk (our sizer at {len(ours)} stated risks)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
