"""Plot the autoscaling benchmark: cost / oracle against under-provisioned share, one point per policy and dataset.

Usage: python bench/autoscale/plot.py OUT.png RESULTS.csv [RESULTS.csv ...] (the autoscale_<dataset>.csv files).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

STYLE = {  # policy -> (marker, colour), the same in every panel
    "headroom predictive": ("*", "tab:blue"),
    "reactive target tracking": ("o", "tab:orange"),
    "seasonal predictive + reactive floor": ("s", "tab:green"),
    "static peak": ("^", "tab:purple"),
    "oracle": ("D", "tab:red"),
}


def main(out: Path, results: list[Path]) -> None:
    fig, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 4.2), squeeze=False)
    for ax, path in zip(axes[0], results, strict=True):
        table = pd.read_csv(path).groupby("policy", sort=False)[["cost", "under_provisioned"]].mean()
        for policy, row in table.iterrows():
            if policy == "static peak" and row["cost"] > 5:  # off the scale of the others; its value is in the table
                continue
            marker, colour = STYLE.get(str(policy), ("x", "black"))
            ax.scatter(100 * row["under_provisioned"], row["cost"], marker=marker, color=colour,
                       s=160 if policy == "headroom predictive" else 60, label=str(policy))
        ax.set_title(path.stem.removeprefix("autoscale_"))
        ax.set_xlabel("under-provisioned share of steps (%)")
        ax.set_ylabel("cost / oracle (instance-steps)")
        ax.grid(alpha=0.3)
    handles = {h.get_label(): h for ax in axes[0] for h in ax.collections}
    fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=len(handles), fontsize=9)
    fig.suptitle("Autoscaling benchmark (mean over series; lower-left is better; static peak beyond cost 5 omitted)")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]])
