"""Benchmark harnesses behind `headroom eval` and `headroom rightsize-eval` (the protocols of docs/benchmarks.md)."""
