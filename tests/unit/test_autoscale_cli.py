"""`headroom autoscale-eval DIR --save-capacity FILE` and `headroom autoscale plan|simulate` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from cli.main import cli

HOURS = 24 * 16


def write_demand(path: Path, values: np.ndarray, *, freq: str = "1h") -> None:
    index = pd.date_range("2024-03-04", periods=values.size, freq=freq, tz="UTC")
    frame = pd.DataFrame({"timestamp": index.strftime("%Y-%m-%dT%H:%M:%SZ"), "value": values})
    frame.to_csv(path, index=False)


def daily(seed: int, hours: int = HOURS) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(hours)
    return (50 - 30 * np.cos(2 * np.pi * t / 24)) * (1 + 0.05 * rng.standard_normal(hours))


def test_autoscale_eval_writes_the_table_the_per_series_scores_and_the_capacity_csv(tmp_path: Path) -> None:
    data = tmp_path / "tiny"
    data.mkdir()
    write_demand(data / "web.csv", daily(1))
    write_demand(data / "api.csv", np.maximum(daily(2) - 40, -3))  # negative values count as 0
    write_demand(data / "short.csv", daily(3, hours=24 * 10))  # 3 days of history: skipped and counted
    out, capacity = tmp_path / "results", tmp_path / "capacity.csv"
    result = CliRunner().invoke(cli, ["autoscale-eval", str(data), "--out-dir", str(out),
                                      "--save-capacity", str(capacity)])
    assert result.exit_code == 0, result.output
    table = (out / "autoscale_tiny.md").read_text()
    for row in ("| headroom predictive |", "| static peak |", "| reactive target tracking |",
                "| seasonal predictive + reactive floor |", "| oracle | 1.000 | 0.00% | 0.00% |"):
        assert row in table
    assert "Acceptance" in table and "skipped short" in table and "1 left out" in table
    saved = pd.read_csv(capacity)
    assert list(saved.columns) == ["series", "timestamp", "instances"]
    assert saved.groupby("series").size().to_dict() == {"api": 168, "web": 168}  # every step of the last 7 days
    assert saved["timestamp"].iloc[0].endswith("Z") and (saved["instances"] >= 0).all()
    scores = pd.read_csv(out / "autoscale_tiny.csv")
    assert len(scores) == 2 * 5


def test_autoscale_simulate_and_plan(tmp_path: Path) -> None:
    demand = tmp_path / "web.csv"
    write_demand(demand, daily(4))
    simulated = CliRunner().invoke(cli, ["autoscale", "simulate", str(demand)])
    assert simulated.exit_code == 0, simulated.output
    assert "| headroom predictive |" in simulated.output and "Plan: " in simulated.output
    planned = CliRunner().invoke(cli, ["autoscale", "plan", str(demand), "--max-size", "30", "--platform", "gcp"])
    assert planned.exit_code == 0, planned.output
    body = json.loads(planned.stdout[planned.stdout.index("{"):])
    assert body["maxNumReplicas"] == 30 and body["scalingSchedules"]
    refused = CliRunner().invoke(cli, ["autoscale", "plan", str(demand), "--max-size", "3", "--platform", "ibm"])
    assert refused.exit_code == 2 and "choose one of" in refused.output
