"""The right-sizing dataset's row layout (BENCHMARK.md): one frame per machine, shared by the prepare_* scripts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ("timestamp", "cpu_used_cores", "cpu_provisioned_cores", "mem_used_gib", "mem_provisioned_gib")


def usage_frame(
    stamps: pd.Index, *, cpu_used: np.ndarray, cpu_provisioned: float, mem_used: np.ndarray, mem_provisioned: float
) -> pd.DataFrame:
    """timestamp,cpu_used_cores,cpu_provisioned_cores,mem_used_gib,mem_provisioned_gib; usage rounded to 4 places."""
    values = (stamps, np.round(cpu_used, 4), cpu_provisioned, np.round(mem_used, 4), mem_provisioned)
    return pd.DataFrame(dict(zip(COLUMNS, values, strict=True)))


def save(frame: pd.DataFrame, path: Path) -> Path:
    """Write one machine's rows (no index) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path
