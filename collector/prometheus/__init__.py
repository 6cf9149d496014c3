"""Prometheus source: the HTTP API client, the PromQL we run, and the collector built on them."""

from collector.prometheus.collector import PrometheusCollector

__all__ = ["PrometheusCollector"]
