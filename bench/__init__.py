"""Benchmarks run by `make bench`: scripts, never imported by the product."""
