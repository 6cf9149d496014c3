"""The shipped Grafana dashboard queries only metrics Headroom exports (PromQL parsed, not pattern-matched)."""

from __future__ import annotations

import json
from typing import Any

import promql_parser

from services.telemetry import EXPORTED_METRICS
from testbed.manifests import DASHBOARD, ROOT, dashboard_queries

HISTOGRAM_SERIES = ("_bucket", "_count", "_sum")


def metric_names(expr: str) -> set[str]:
    """Every metric a PromQL expression selects, found by walking the parsed expression."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            names.add(node.name or next(m.value for m in node.matchers.matchers if m.name == "__name__"))
        elif isinstance(node, promql_parser.MatrixSelector):
            walk(node.vector_selector)
        elif isinstance(node, promql_parser.BinaryExpr):
            walk(node.lhs)
            walk(node.rhs)
        elif isinstance(node, promql_parser.AggregateExpr):
            walk(node.expr)
            walk(node.param)
        elif isinstance(node, promql_parser.Call):
            for arg in node.args:
                walk(arg)
        elif isinstance(node, promql_parser.ParenExpr | promql_parser.UnaryExpr | promql_parser.SubqueryExpr):
            walk(node.expr)

    walk(promql_parser.parse(expr))
    return names


def exported_series(name: str) -> str | None:
    """The exported metric a series name belongs to (histograms expose _bucket, _count and _sum)."""
    if EXPORTED_METRICS.get(name) in ("gauge", "counter"):
        return name
    for suffix in HISTOGRAM_SERIES:
        base = name.removesuffix(suffix)
        if base != name and EXPORTED_METRICS.get(base) == "histogram":
            return base
    return None


def test_the_walker_finds_every_selector() -> None:
    expr = ('sum(rate(a_total{x="1"}[5m])) / on() group_left histogram_quantile(0.9, rate(b_bucket[1m]))'
            ' + {__name__="c"}')
    assert metric_names(expr) == {"a_total", "b_bucket", "c"}


def test_dashboard_queries_name_only_exported_metrics() -> None:
    queries = dashboard_queries()
    assert len(queries) >= 10
    used: set[str] = set()
    for expr in queries:
        for name in metric_names(expr):
            assert exported_series(name), f"{name!r} in {expr!r} is not a metric Headroom exports"
            used.add(exported_series(name) or name)
    # and every exported metric is on the dashboard somewhere
    assert used == set(EXPORTED_METRICS)


def test_dashboard_uses_the_provisioned_data_source() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    provisioned = (ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text()
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] in provisioned
