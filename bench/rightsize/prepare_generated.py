"""Write a generated VM fleet whose usage patterns are documented, as a right-sizing dataset (cores and GiB).

No second public trace with per-machine CPU and memory usage beside provisioned capacity could be reached
from this project's sources (../shared/data holds only the Alibaba 2018 cluster aggregate of that kind), so
this fleet is generated, not real. Every machine mixes the patterns that make right-sizing hard on real VMs,
each drawn with a seeded generator so the same files come back:

- diurnal and weekly load (business hours, quiet weekends), multiplicative noise with occasional bursts;
- boot spikes: the first 30-90 minutes of the trace run CPU and memory high (a one-off in the lookback);
- batch peaks: a nightly job (CPU and memory, every day) and on some machines a weekly one (Sundays);
- growth: usage rising by a few percent a week;
- memory leaks: memory climbing steadily and dropping back at restarts every 4-9 days;
- cache warm-up: memory filling over the first day and staying there;
- one-off incidents: a single hour of high CPU and memory somewhere in the 28 days;
- idle machines: almost no CPU, flat memory;
- level shifts: a deployment changing the load by -30%..+40% at a random day.

Provisioned sizes come from a 2/4/8/16 vCPU ladder with 4 or 8 GiB per vCPU, above what each machine needs.
A few rows carry zero provisioned capacity and a few timestamps are repeated, as in real exports.

Run: .venv/bin/python bench/rightsize/prepare_generated.py OUT_DIR [--machines 120] [--days 28] [--seed 16]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from usage_csv import save, usage_frame

START = pd.Timestamp("2026-02-02T00:00:00Z")  # a Monday
STEP_MINUTES = 5
LADDER = (2.0, 4.0, 8.0, 16.0)
KINDS = ("web", "batch", "leaky", "cache", "idle", "growing")


def machine(rng: np.random.Generator, n: int, kind: str) -> tuple[np.ndarray, np.ndarray, float, float]:
    """CPU cores and GiB used at n 5-minute steps, and the provisioned cores and GiB, for one machine."""
    t_days = np.arange(n) * STEP_MINUTES / 1440.0
    hour = (t_days % 1.0) * 24.0
    weekday = (np.floor(t_days) % 7).astype(int)
    need = rng.choice(LADDER[:3]) * rng.uniform(0.15, 0.6)  # typical busy-hour cores
    business = np.clip(np.sin(np.pi * (hour - 7.0) / 12.0), 0.0, None) * (hour > 7) * (hour < 19)
    weekly = np.where(weekday >= 5, rng.uniform(0.3, 0.8), 1.0)
    base = 0.25 + 0.75 * business * weekly
    noise = rng.lognormal(0.0, rng.uniform(0.05, 0.3), n)
    bursts = 1.0 + (rng.random(n) < rng.uniform(0.001, 0.02)) * rng.uniform(0.5, 2.0)
    cpu = need * base * noise * bursts
    mem_level = need * rng.uniform(1.5, 6.0)
    mem = mem_level * (0.85 + 0.1 * business * weekly + rng.normal(0.0, 0.01, n))
    if kind == "idle":
        cpu = 0.02 * need * noise
        mem = mem_level * 0.4 * (1.0 + rng.normal(0.0, 0.003, n))
    if kind in ("batch", "web") and rng.random() < 0.7:  # nightly job
        night = (hour >= 2.0) & (hour < 2.0 + rng.uniform(0.5, 2.0))
        cpu = cpu + night * need * rng.uniform(0.5, 1.5)
        mem = mem + night * mem_level * rng.uniform(0.1, 0.4)
    if kind == "batch" and rng.random() < 0.6:  # weekly job on Sundays
        sunday = (weekday == 6) & (hour >= 4.0) & (hour < 7.0)
        cpu = cpu + sunday * need * rng.uniform(1.0, 2.0)
        mem = mem + sunday * mem_level * rng.uniform(0.2, 0.6)
    if kind == "growing":
        growth = 1.0 + rng.uniform(0.02, 0.08) * t_days / 7.0
        cpu, mem = cpu * growth, mem * growth
    if kind == "leaky":
        period = rng.uniform(4.0, 9.0)
        mem = mem + mem_level * rng.uniform(0.2, 0.6) * ((t_days + rng.uniform(0, period)) % period) / period
    if kind == "cache":
        mem = mem * (0.5 + 0.5 * np.clip(t_days / rng.uniform(0.3, 1.0), 0.0, 1.0))
    if rng.random() < 0.5:  # deployment changes the load
        shift = np.where(t_days >= rng.uniform(3.0, 25.0), rng.uniform(0.7, 1.4), 1.0)
        cpu, mem = cpu * shift, mem * (1.0 + (shift - 1.0) * 0.5)
    boot = t_days < rng.uniform(0.02, 0.06)  # boot: 30-90 minutes
    cpu = np.where(boot, need * rng.uniform(1.5, 3.0), cpu)
    mem = np.where(boot, mem * rng.uniform(1.3, 2.0), mem)
    if rng.random() < 0.3:  # one incident hour somewhere
        at = rng.integers(0, n - 12)
        cpu[at : at + 12] += need * rng.uniform(1.0, 3.0)
        mem[at : at + 12] *= rng.uniform(1.2, 1.6)
    top = max(float(np.quantile(cpu, 0.999)) * 1.3, 1.0)
    cores = next((c for c in LADDER if c >= top), LADDER[-1])
    gib = cores * float(rng.choice((4.0, 8.0)))
    while gib < float(mem.max()) * 1.1:
        gib *= 2.0
    return np.clip(cpu, 0.0, cores), np.clip(mem, 0.0, gib), cores, gib


def prepare(out_dir: Path, *, machines: int = 120, days: int = 28, seed: int = 16) -> list[Path]:
    """One CSV per generated machine, `days` days at 5 minutes."""
    rng = np.random.default_rng(seed)
    n = days * 1440 // STEP_MINUTES
    stamps = pd.date_range(START, periods=n, freq=f"{STEP_MINUTES}min").strftime("%Y-%m-%dT%H:%M:%SZ")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for i in range(machines):
        kind = KINDS[i % len(KINDS)]
        cpu, mem, cores, gib = machine(rng, n, kind)
        frame = usage_frame(stamps, cpu_used=cpu, cpu_provisioned=cores, mem_used=mem, mem_provisioned=gib)
        if rng.random() < 0.2:  # dirty export: a zero-capacity row and a repeated timestamp
            frame.loc[int(rng.integers(0, n)), ["cpu_provisioned_cores", "mem_provisioned_gib"]] = 0.0
            frame = pd.concat([frame, frame.iloc[[int(rng.integers(0, n))]]]).sort_values("timestamp", kind="stable")
        written.append(save(frame, out_dir / f"vm{i:03d}_{kind}.csv"))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--machines", type=int, default=120)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    paths = prepare(args.out_dir, machines=args.machines, days=args.days, seed=args.seed)
    print(f"{len(paths)} generated machines in {args.out_dir}")


if __name__ == "__main__":
    main()
