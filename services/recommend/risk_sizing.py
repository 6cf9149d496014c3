"""Sizes chosen for a stated risk: peak models per resource, margins learnt on the fleet's lookbacks split in time
(one module: the candidate models, their calibration on the fleet and the sizing all share one margin grid)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from services.recommend.peaks import DAY_SECONDS, PeakModel, fit_peaks, recurring_share_level, share_level
from services.recommend.risk_target import Risk, RiskSizingError, RiskTarget
from services.recommend.window import as_utc_series

__all__ = [
    "FleetMargins",
    "Risk",
    "RiskSizing",
    "RiskSizingError",
    "RiskTarget",
    "UsageWindow",
    "calibrate",
    "size_for_risk",
    "size_usage_for_risk",
]

CPU_WINDOWS = ("all", "recent", "larger")  # the CPU level from the whole lookback, its later half, or the larger
CPU_LEVELS = (2.0, 1.0, 0.2)  # ... at the share of samples the target allows times these (p99, p99.5, p99.9)
CPU_VARIANTS = tuple(f"{w} x{f:g}" for w in CPU_WINDOWS for f in CPU_LEVELS)
FALLBACK_HEADROOM = 0.2  # too few resources to learn margins: no size below usage p99.5 / max + 20%
REFERENCE_CPU_QUANTILE = 0.995  # the long-standing rule, CPU p99.5 + FALLBACK_HEADROOM: where the fleet's own
# lookback cuts show it letting through a smaller CPU share than our model does, the rule's size is a floor
MEM_SPREADS = (0.5, 1.0, 1.5)  # how much of the fitted peak tail the memory size follows before the fleet margin
SPLITS = (0.43, 0.5, 0.57)  # calibration cuts, as fractions of the lookback: size before, measure after
FLOOR_SHARE = 0.02  # no size below 2% of what is provisioned: idle machines still boot and log
GRID = np.geomspace(0.25, 16.0, 640)  # margins tried, as multiples of a model's size (0.65% apart)
SMALLER_STEP = 0.1  # "the next smaller size": 10% below the recommendation
SURPRISE_MARGIN, SURPRISE_SHARE = 2.0, 0.05  # a (resource, cut) pair with over 5% of its later samples above twice
# its model's size changed regime (idle one week, busy the next): no margin prevents that. Its share counts in the
# fleet's mean as it stands at twice the size, and the other resources are not squeezed below a quarter of the
# target to make up for it: a few regime changes must not multiply the whole fleet's size
STEADY_FLOOR = 0.25
_AT_SURPRISE = int(np.searchsorted(GRID, SURPRISE_MARGIN))


@dataclass(frozen=True)
class UsageWindow:
    """One resource's usage over a window: seconds, cores and GiB in use, and the least size worth recommending."""

    t: np.ndarray
    cpu: np.ndarray
    mem: np.ndarray
    step: float
    cpu_floor: float = 0.0
    mem_floor: float = 0.0

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> UsageWindow:
        """From a frame with cpu_used_cores and mem_used_gib (and the provisioned columns, for the floors)."""
        clean = frame.dropna(subset=["cpu_used_cores", "mem_used_gib"])
        t = clean.index.asi8 / 1e9
        step = float(np.median(np.diff(t))) if t.size > 1 else 300.0
        floors = [
            FLOOR_SHARE * float(clean[c].iloc[-1]) if c in clean and len(clean) else 0.0
            for c in ("cpu_provisioned_cores", "mem_provisioned_gib")
        ]
        cpu = np.clip(clean["cpu_used_cores"].to_numpy(np.float64), 0.0, None)
        mem = np.clip(clean["mem_used_gib"].to_numpy(np.float64), 0.0, None)
        return cls(t, cpu, mem, step, floors[0], floors[1])

    @property
    def end(self) -> float:
        return float(self.t[-1] + self.step)

    @property
    def days(self) -> float:
        return (self.end - float(self.t[0])) / DAY_SECONDS

    def cut(self, fraction: float) -> tuple[UsageWindow, UsageWindow]:
        """The window before and after `fraction` of its span."""
        at = float(self.t[0]) + fraction * (self.end - float(self.t[0]))
        before, after = self.t < at, self.t >= at
        part = lambda m: UsageWindow(self.t[m], self.cpu[m], self.mem[m], self.step, self.cpu_floor, self.mem_floor)  # noqa: E731
        return part(before), part(after)


@dataclass(frozen=True)
class ModelSizes:
    """What the peak models say one resource needs, before the fleet's margins: one size per candidate model."""

    cpu: dict[str, float]
    mem_peak: dict[float, float]  # the peak tail, which the fleet margin multiplies
    mem_recurring: float  # a peak seen twice: no size goes below it, whatever the margin
    mem_share: float
    peaks: PeakModel | None


def model_sizes(w: UsageWindow, *, horizon_days: float, target: RiskTarget) -> ModelSizes:
    """Every candidate model's size for the next `horizon_days` at `target`, each at least the window's floor."""
    end = w.end
    _, later = w.cut(0.5)
    cpu = {}
    for factor in CPU_LEVELS:
        share = min(target.cpu_share * factor, 0.5)
        whole = share_level(w.t, w.cpu, end=end, share=share, horizon_days=horizon_days)
        recent = share_level(later.t, later.cpu, end=end, share=share, horizon_days=horizon_days)
        cpu.update(
            {f"all x{factor:g}": whole, f"recent x{factor:g}": recent, f"larger x{factor:g}": max(whole, recent)}
        )
    peaks = fit_peaks(w.t, w.mem, end=end, one_off_probability=target.mem_any)
    recurring = float(w.mem.max()) if peaks is None else peaks.recurring_level(horizon_days=horizon_days)
    if peaks is None:  # too short for blocks: the window's maximum is the only peak known
        mem_peak = {s: float(w.mem.max()) for s in MEM_SPREADS}
    else:
        mem_peak = {
            s: peaks.level(horizon_days=horizon_days, exceed_probability=target.mem_any, spread=s) for s in MEM_SPREADS
        }
    mem_share = recurring_share_level(w.t, w.mem, end=end, share=target.mem_share, horizon_days=horizon_days)
    return ModelSizes(
        cpu={k: max(v, w.cpu_floor, 1e-9) for k, v in cpu.items()},
        mem_peak={k: max(v, w.mem_floor, 1e-9) for k, v in mem_peak.items()},
        mem_recurring=recurring,
        mem_share=max(mem_share, w.mem_floor, 1e-9),
        peaks=peaks,
    )


def _above(ratios: np.ndarray) -> np.ndarray:
    """Share of the (test usage / model size) ratios above each margin of GRID."""
    ordered = np.sort(ratios)
    return 1.0 - np.searchsorted(ordered, GRID, side="right") / max(ordered.size, 1)


@dataclass
class _Candidate:
    """One candidate model's (resource, cut) items: each item's share of test samples above every margin of GRID is
    summed as it comes, not kept (640 numbers an item: a fleet of 10,000 machines would hold gigabytes)."""

    total: np.ndarray = field(default_factory=lambda: np.zeros(GRID.size))  # summed shares of every item
    steady: np.ndarray = field(default_factory=lambda: np.zeros(GRID.size))  # ... of the items that kept their regime
    steady_items: int = 0
    changed: list[float] = field(default_factory=list)  # per item that changed regime: its share above SURPRISE_MARGIN
    worst: list[float] = field(default_factory=list)  # per item: the largest test / model ratio
    size: list[float] = field(default_factory=list)  # per item: the model's size
    resource: list[int] = field(default_factory=list)

    def add(self, test: np.ndarray, size: float, *, resource: int, floor: float = 0.0) -> None:
        """One (resource, cut): test usage against the model's size; samples at or below `floor` never count."""
        ratios = np.where(test <= floor, 0.0, test / size)
        share = _above(ratios)
        self.total += share
        at_double = float(share[_AT_SURPRISE])
        if at_double <= SURPRISE_SHARE:
            self.steady += share
            self.steady_items += 1
        else:
            self.changed.append(at_double)
        self.worst.append(float(ratios.max()))
        self.size.append(size)
        self.resource.append(resource)

    def by_resource(self, values: list[float]) -> np.ndarray:
        """The largest value over each resource's cuts: a resource fails when any of its cuts does."""
        out = np.full(max(self.resource) + 1, -np.inf)
        np.maximum.at(out, np.asarray(self.resource), np.asarray(values))
        return out[np.isfinite(out)]

    def _split(self) -> tuple[np.ndarray, int, np.ndarray]:
        """Summed shares and number of the items that kept their regime (every item when none did), and the shares
        above SURPRISE_MARGIN of those that changed."""
        if self.steady_items:
            return self.steady, self.steady_items, np.asarray(self.changed)
        return self.total, len(self.size), np.asarray(self.changed)

    def mean_share(self) -> np.ndarray:
        """Per margin, the mean share of test samples above it over the items that did not change regime."""
        steady, items, _ = self._split()
        return steady / items

    def margin_for(self, limit: float) -> int:
        """The least margin whose fleet mean share is within `limit`, regime changes counted at twice the size,
        and no larger than the margin bringing the steady items to STEADY_FLOOR x `limit`."""
        steady, items, changed = self._split()
        total = (steady + changed.sum()) / (items + changed.size)
        return min(_smallest_margin(total, limit), _smallest_margin(steady / items, STEADY_FLOOR * limit))

    def plain_share(self, index: int) -> float:
        """The mean share of test samples above the margin GRID[index] over every item, regime changes included."""
        return float(self.total[index] / len(self.size))

    def steady_margin_for(self, limit: float) -> int:
        """The least margin whose mean share over the items that did not change regime is within `limit`."""
        return _smallest_margin(self.mean_share(), limit)

    def any_share(self) -> np.ndarray:
        worst = np.asarray(self.worst)
        return np.mean(worst[:, None] > GRID[None, :], axis=0)


def _smallest_margin(curve: np.ndarray, limit: float) -> int:
    """Index of the least margin of GRID whose violation curve is within `limit` (the largest if none is)."""
    ok = np.flatnonzero(curve <= limit)
    return int(ok[0]) if ok.size else GRID.size - 1


def reference_cpu(w: UsageWindow) -> float:
    """The long-standing rule's CPU size on a window: usage p99.5 + 20%."""
    return float(np.quantile(w.cpu, REFERENCE_CPU_QUANTILE, method="inverted_cdf")) * (1.0 + FALLBACK_HEADROOM)


def _conformal_margin(worst: Sequence[float] | np.ndarray, chance: float) -> tuple[int, bool]:
    """Split-conformal margin: the ceil((n+1)(1-chance))-th smallest worst ratio; False when n is too small."""
    ordered = np.sort(np.asarray(worst))
    rank = math.ceil((ordered.size + 1) * (1.0 - chance))
    value = ordered[min(rank, ordered.size) - 1]
    return int(min(np.searchsorted(GRID, value, side="left"), GRID.size - 1)), rank <= ordered.size


@dataclass(frozen=True)
class FleetMargins:
    """The margins learnt on a fleet's lookbacks, the models they apply to, and the risk curves they came from."""

    target: RiskTarget
    cpu_variant: str
    mem_spread: float
    cpu_index: int
    mem_peak_index: int
    mem_share_index: int
    items: int  # (resource, cut) pairs calibrated on
    resources: int
    backed: bool  # enough items for the memory chance to be a split-conformal guarantee
    cpu_curve: np.ndarray  # mean share of samples above k x model, per margin k of GRID
    mem_share_curve: np.ndarray
    mem_any_curve: np.ndarray  # share of items with any sample above k x model
    cpu_cut_share: float = 0.0  # the mean CPU share the chosen model and margin let through on the later parts
    reference_cut_share: float = 0.0  # ... and the long-standing rule (p99.5 + 20%) on the same later parts
    cpu_reference_floor: bool = False  # the model under-covers the rule there: no CPU size below the rule's

    @property
    def cpu_margin(self) -> float:
        return float(GRID[self.cpu_index])

    @property
    def mem_peak_margin(self) -> float:
        return float(GRID[self.mem_peak_index])

    @property
    def mem_share_margin(self) -> float:
        return float(GRID[self.mem_share_index])

    def describe(self) -> str:
        caveat = (
            ""
            if self.backed
            else f" (too few for a 1 in {1 / self.target.mem_any:.0f} statement: no size goes below usage "
            f"p99.5 / max + {FALLBACK_HEADROOM:.0%})"
        )
        return (
            f"margins learnt on {self.resources} resources x {len(SPLITS)} cuts of their lookback{caveat}: "
            f"CPU x{self.cpu_margin:.3f} on the {self.cpu_variant} level, memory x{self.mem_peak_margin:.3f} on the "
            f"peak tail (spread {self.mem_spread:g}) and x{self.mem_share_margin:.3f} on the "
            f"{self.target.mem_share:.2%} level (cuts that changed regime, over {SURPRISE_SHARE:.0%} of samples "
            f"above {SURPRISE_MARGIN:g}x the size, counted as they stand there); on those cuts the CPU model let "
            f"through {self.cpu_cut_share:.2%} of samples and the p99.5 + {FALLBACK_HEADROOM:.0%} rule "
            f"{self.reference_cut_share:.2%}, so "
            + (
                "no CPU size goes below that rule's (the model under-covers it on this fleet)"
                if self.cpu_reference_floor
                else "the model's CPU size stands"
                + ("" if self.target.reference_guard else " (no reference guard asked)")
            )
        )


def calibrate(windows: Sequence[UsageWindow], *, target: RiskTarget, horizon_days: float | None = None) -> FleetMargins:
    """Learn the fleet's margins: size on the earlier part of each lookback, measure on the later part.

    For every candidate model the least margin meeting the target on the later parts is found (mean share of
    samples for CPU and memory; a split-conformal quantile of the worst ratio for the memory chance), and the
    candidate needing the least capacity at its margin is kept. One set of margins serves the whole fleet.
    The later parts are shorter than the `horizon_days` the sizes must hold for, and a surprise the models do
    not foresee (a deployment, a restart into a bigger heap) is about as likely on any day: the memory chance
    is calibrated at the rate per day that gives `target.mem_any` over the whole horizon.
    """
    cpu = {v: _Candidate() for v in CPU_VARIANTS}
    mem = {s: _Candidate() for s in MEM_SPREADS}
    share = _Candidate()
    reference: list[float] = []  # per item: the share of later CPU samples above the long-standing rule's size
    resources, test_days = 0, []  # per resource: the days its later parts span together
    for w in windows:
        used = False
        for fraction in SPLITS:
            fit, test = w.cut(fraction)
            if fit.t.size < 2 or test.t.size < 1:
                continue
            sizes = model_sizes(fit, horizon_days=test.days, target=target)
            for v in CPU_VARIANTS:
                cpu[v].add(test.cpu, sizes.cpu[v], resource=resources)
            for s in MEM_SPREADS:
                mem[s].add(test.mem, sizes.mem_peak[s], resource=resources, floor=sizes.mem_recurring)
            share.add(test.mem, sizes.mem_share, resource=resources)
            reference.append(float(np.mean(test.cpu > reference_cpu(fit))))
            used = True
        if used:
            test_days.append(w.cut(min(SPLITS))[1].days)
        resources += used
    if not share.size:
        raise RiskSizingError("no resource has a lookback long enough to split in time; give at least two days")
    reference_share = float(np.mean(reference))
    cpu_pick = {v: c.margin_for(target.cpu_share) for v, c in cpu.items()}
    variant = min(CPU_VARIANTS, key=lambda v: GRID[cpu_pick[v]] * sum(cpu[v].size))
    chance = target.mem_any
    if horizon_days is not None and horizon_days > float(np.mean(test_days)):
        chance = 1.0 - (1.0 - chance) ** (float(np.mean(test_days)) / horizon_days)
    mem_pick = {s: _conformal_margin(c.by_resource(c.worst), chance) for s, c in mem.items()}
    spread = min(MEM_SPREADS, key=lambda s: GRID[mem_pick[s][0]] * sum(mem[s].size))
    cpu_share = cpu[variant].plain_share(cpu_pick[variant])
    return FleetMargins(
        target=target,
        cpu_variant=variant,
        mem_spread=spread,
        cpu_index=cpu_pick[variant],
        mem_peak_index=mem_pick[spread][0],
        mem_share_index=share.steady_margin_for(target.mem_share),  # memory's chance of any sample rules the rest
        items=len(share.size),
        resources=resources,
        backed=mem_pick[spread][1],
        cpu_curve=cpu[variant].mean_share(),
        mem_share_curve=share.mean_share(),
        mem_any_curve=mem[spread].any_share(),
        cpu_cut_share=cpu_share,
        reference_cut_share=reference_share,
        cpu_reference_floor=target.reference_guard and cpu_share > reference_share,
    )


@dataclass(frozen=True)
class RiskSizing:
    """A recommendation for a stated risk, with the risk expected there and at the next smaller size."""

    proposed: Risk
    smaller: Risk
    one_offs: int  # past memory peaks the model treats as one-offs (they do not set the size)
    margins: FleetMargins
    cpu_model: float  # the models' sizes the margins multiply, to read the risk of any other size
    mem_share_model: float
    mem_peak_model: float

    @property
    def cpu_cores(self) -> float:
        return self.proposed.cpu_cores

    @property
    def mem_gib(self) -> float:
        return self.proposed.mem_gib

    def risk_at(self, cpu_cores: float, mem_gib: float) -> Risk:
        """The risk expected at another size (a catalog type, the next smaller one), from the same curves."""
        m = self.margins
        mem_share = _curve_at(m.mem_share_curve, mem_gib / self.mem_share_model)
        return Risk(
            cpu_cores=cpu_cores,
            mem_gib=mem_gib,
            cpu_share=_curve_at(m.cpu_curve, cpu_cores / self.cpu_model),
            mem_share=mem_share,
            mem_any=max(_curve_at(m.mem_any_curve, mem_gib / self.mem_peak_model), mem_share),  # P(any) >= E[share]
        )


def _curve_at(curve: np.ndarray, margin: float) -> float:
    return float(np.interp(np.log(margin), np.log(GRID), curve, left=float(curve[0]), right=float(curve[-1])))


def size_for_risk(w: UsageWindow, margins: FleetMargins, *, horizon_days: float) -> RiskSizing:
    """The smallest size meeting the fleet-calibrated target for the next `horizon_days`, and its expected risk."""
    sizes = model_sizes(w, horizon_days=horizon_days, target=margins.target)
    cpu_model = sizes.cpu[margins.cpu_variant]
    peak_model = sizes.mem_peak[margins.mem_spread]
    cpu = max(cpu_model * margins.cpu_margin, w.cpu_floor)
    if margins.cpu_reference_floor:
        cpu = max(cpu, reference_cpu(w))
    mem = max(
        peak_model * margins.mem_peak_margin,
        sizes.mem_recurring,
        sizes.mem_share * margins.mem_share_margin,
        w.mem_floor,
    )
    if not margins.backed:  # the fleet is too small to learn margins from: keep the long-standing rule's margin
        cpu = max(cpu, reference_cpu(w))
        mem = max(mem, float(w.mem.max()) * (1.0 + FALLBACK_HEADROOM))

    sizing = RiskSizing(
        Risk(cpu, mem, 0.0, 0.0, 0.0),
        Risk(cpu, mem, 0.0, 0.0, 0.0),
        sizes.peaks.one_offs if sizes.peaks else 0,
        margins,
        cpu_model,
        sizes.mem_share,
        peak_model,
    )
    smaller = 1.0 - SMALLER_STEP
    return replace(sizing, proposed=sizing.risk_at(cpu, mem), smaller=sizing.risk_at(cpu * smaller, mem * smaller))


def size_usage_for_risk(
    cpu_cores: pd.Series,
    mem_gib: pd.Series,
    *,
    provisioned: tuple[float, float],
    margins: FleetMargins | None,
    horizon_days: float,
) -> RiskSizing | None:
    """size_for_risk on usage series in cores and GiB (provisioned = current cores and GiB, for the floors), or
    None without margins that back the stated risk (no fleet, or too few resources to learn from)."""
    if margins is None or not margins.backed:
        return None
    frame = pd.DataFrame({"cpu_used_cores": as_utc_series(cpu_cores), "mem_used_gib": as_utc_series(mem_gib)}).dropna()
    if len(frame) < 2:
        return None
    frame = frame.assign(cpu_provisioned_cores=provisioned[0], mem_provisioned_gib=provisioned[1])
    return size_for_risk(UsageWindow.from_frame(frame), margins, horizon_days=horizon_days)
