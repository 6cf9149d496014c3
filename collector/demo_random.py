"""Counter-based random numbers for the demo: every draw is fixed by (key, counter) alone, so any sample or day
can be generated on its own and split windows agree with whole ones."""

from __future__ import annotations

import hashlib

import numpy as np

MASK64 = (1 << 64) - 1


def mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser on uint64 arrays: a counter-based hash, so any sample can be drawn alone."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def key(*parts: object) -> int:
    return int.from_bytes(hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=8).digest(), "little")


def uniform(stream: int, counter: np.ndarray) -> np.ndarray:
    """Uniform [0, 1) numbers, one per counter value, fixed by (stream, counter) alone."""
    k = np.uint64(stream)
    with np.errstate(over="ignore"):
        z = mix(mix(counter.astype(np.uint64) ^ k) + k)
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def normal(stream: int, counter: np.ndarray) -> np.ndarray:
    """Standard normal numbers by Box-Muller from two independent uniform streams."""
    u1 = uniform(stream, counter)
    u2 = uniform((stream * 0x9E3779B97F4A7C15 + 1) & MASK64, counter)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)
