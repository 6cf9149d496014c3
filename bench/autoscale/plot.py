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

MARKERS = {"headroom predictive": "*", "reactive target tracking": "o", "seasonal predictive + reactive floor": "s",
           "static peak": "^", "oracle": "D"}


def main(out: Path, results: list[Path]) -> None:
    fig, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 4.2), squeeze=False)
    for ax, path in zip(axes[0], results, strict=True):
        table = pd.read_csv(path).groupby("policy", sort=False)[["cost", "under_provisioned"]].mean()
        for policy, row in table.iterrows():
            if policy == "static peak" and row["cost"] > 5:  # off the scale of the others; its value is in the table
                continue
            ax.scatter(100 * row["under_provisioned"], row["cost"], marker=MARKERS.get(str(policy), "x"),
                       s=140 if policy == "headroom predictive" else 60, label=str(policy))
        ax.set_title(path.stem.removeprefix("autoscale_"))
        ax.set_xlabel("under-provisioned share of steps (%)")
        ax.set_ylabel("cost / oracle (instance-steps)")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="upper right")
    fig.suptitle("Autoscaling benchmark (mean over series; lower-left is better; static peak beyond cost 5 omitted)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]])
