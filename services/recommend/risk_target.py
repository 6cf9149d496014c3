"""What risk a user accepts and what a size is expected to risk: targets, their parsing, settings and words."""

from __future__ import annotations

from dataclasses import dataclass, replace

from pydantic import BaseModel, Field


class RiskSizingError(ValueError):
    """A risk target or a fleet the risk sizer cannot work with; the message says what to change."""


@dataclass(frozen=True)
class RiskTarget:
    """The risk a user accepts: shares of samples above the size, and the chance of any memory sample above it."""

    cpu_share: float = 0.005
    mem_share: float = 0.001
    mem_any: float = 0.05
    # by default CPU is also never riskier than the long-standing p99.5 + 20% rule as measured on the fleet's own
    # lookback split in time: where that rule lets a smaller share through than the model, its size is a floor
    reference_guard: bool = True

    def __post_init__(self) -> None:
        for name in ("cpu_share", "mem_share", "mem_any"):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                raise RiskSizingError(f"risk {name}={value!r} must be a fraction strictly between 0 and 1")

    @classmethod
    def parse(cls, text: str) -> RiskTarget:
        """A stated risk, taken as stated: '0.02' scales the default shares (CPU 2%, memory 4x the default too),
        'cpu=0.01,mem=0.002,mem_any=0.1' gives them apart. The reference guard of the default is off unless the
        text adds 'guard=on'."""
        text = text.strip()
        try:
            parts = [p.strip() for p in text.split(",")]
            guard = [p.partition("=")[2].strip().lower() for p in parts if p.partition("=")[0].strip() == "guard"]
            if guard and guard[-1] not in ("on", "off"):
                raise RiskSizingError(f"guard={guard[-1]!r}: use on or off")
            parts = [p for p in parts if p.partition("=")[0].strip() != "guard"]
            on = bool(guard) and guard[-1] == "on"
            if len(parts) == 1 and "=" not in parts[0]:
                return replace(cls().scaled(_fraction(parts[0]) / cls().cpu_share), reference_guard=on)
            keys = {"cpu": "cpu_share", "mem": "mem_share", "mem_any": "mem_any"}
            values: dict[str, float] = {}
            for part in parts:
                key, _, raw = part.partition("=")
                if key.strip() not in keys:
                    raise RiskSizingError(f"unknown risk key {key.strip()!r}")
                values[keys[key.strip()]] = _fraction(raw)
            return cls(**values, reference_guard=on)
        except (ValueError, TypeError) as exc:
            raise RiskSizingError(
                f"risk {text!r} is not understood ({exc}); give a CPU share such as 0.005 or 0.5%, or "
                "cpu=0.005,mem=0.001,mem_any=0.05, optionally with guard=on"
            ) from None

    def scaled(self, factor: float) -> RiskTarget:
        """Every share and the memory chance times `factor` (the chance capped below 1)."""
        return RiskTarget(
            self.cpu_share * factor, self.mem_share * factor, min(self.mem_any * factor, 0.9), self.reference_guard
        )

    def describe(self) -> str:
        return (
            f"CPU above the size in at most {self.cpu_share:.2%} of samples; memory in at most {self.mem_share:.2%}, "
            f"with at most a 1 in {1 / self.mem_any:.0f} chance of any memory sample above it"
            + (
                "; CPU no riskier than the p99.5 + 20% rule on the fleet's lookback split in time"
                if self.reference_guard
                else ""
            )
        )


def _fraction(text: str) -> float:
    text = text.strip()
    return float(text[:-1]) / 100.0 if text.endswith("%") else float(text)


@dataclass(frozen=True)
class Risk:
    """The risk expected at one size, from the fleet's calibration curves."""

    cpu_cores: float
    mem_gib: float
    cpu_share: float
    mem_share: float
    mem_any: float

    def words(self) -> str:
        p = self.mem_any
        chance = (
            "under a 1 in 100 chance" if p < 0.01 else f"a {p:.0%} chance" if p >= 0.5 else f"a 1 in {1 / p:.0f} chance"
        )
        return (
            f"{self.cpu_cores:.3g} cores / {self.mem_gib:.3g} GiB: CPU above it in {self.cpu_share:.2%} of samples, "
            f"memory in {self.mem_share:.3%}, {chance} ({p:.1%}) of any memory sample above it"
        )


class RiskSettings(BaseModel):
    """The stated risk a recommender sizes for (fields shared by the VM and the container settings)."""

    risk_cpu_share: float = Field(
        0.005, gt=0.0, lt=1.0, description="Stated risk: share of CPU samples above the size (throttling)."
    )
    risk_mem_share: float = Field(
        0.001, gt=0.0, lt=1.0, description="Stated risk: share of memory samples above the size (OOM risk)."
    )
    risk_mem_chance: float = Field(
        0.05, gt=0.0, lt=1.0, description="Stated risk: chance of any memory sample above the size over the horizon."
    )

    risk_reference_guard: bool = Field(
        True,
        description="No CPU size below the p99.5 + 20% rule's where the fleet's lookback, split in time, shows that "
        "rule letting a smaller share of samples through than the stated-risk model.",
    )

    def risk_target(self) -> RiskTarget:
        """The stated risk the fleet-calibrated sizer sizes for."""
        return RiskTarget(self.risk_cpu_share, self.risk_mem_share, self.risk_mem_chance, self.risk_reference_guard)
