"""Margins for the stated risk learnt on a whole fleet: every machine's (or container's) usage calibrated together."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from services.recommend.risk_sizing import FleetMargins, RiskSizingError, UsageWindow, calibrate
from services.recommend.risk_target import RiskSettings
from services.recommend.window import lookback

PercentUsage = tuple[pd.Series, pd.Series, float, float]  # CPU %, memory %, vCPUs, GiB


def learn_margins(
    usages: Iterable[PercentUsage], *, settings: RiskSettings, lookback_days: float, horizon_hours: float
) -> FleetMargins | None:
    """Calibrate on the last `lookback_days` of each resource's usage (percent of its size); None without any."""
    windows = []
    for cpu, memory, vcpus, gib in usages:
        cores = lookback(cpu, days=lookback_days).values * vcpus / 100.0
        used = lookback(memory, days=lookback_days).values * gib / 100.0
        frame = pd.DataFrame({"cpu_used_cores": cores, "mem_used_gib": used}).dropna()
        if len(frame) > 1:
            windows.append(UsageWindow.from_frame(frame.assign(cpu_provisioned_cores=vcpus, mem_provisioned_gib=gib)))
    if not windows:
        return None
    try:
        return calibrate(windows, target=settings.risk_target(), horizon_days=horizon_hours / 24.0)
    except RiskSizingError:
        return None
