"""AWS list prices of the paid calls the collector makes, and a meter that counts them on the boto3 clients.

CloudWatch bills GetMetricData per metric requested ($0.01 per 1,000) and ListMetrics per request ($0.01 per
1,000); Cost Explorer bills each GetCostAndUsage request $0.01. Describe*, STS and the Price List API are free.
Free tiers are left out: these are list prices. Source: aws.amazon.com/cloudwatch/pricing and
aws.amazon.com/aws-cost-management/aws-cost-explorer/pricing.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from collector.records import ApiUsage

# (botocore service name, operation) -> (stream, billed unit, USD per unit)
PRICES: dict[tuple[str, str], tuple[str, str, Decimal]] = {
    ("cloudwatch", "GetMetricData"): ("metrics", "metric", Decimal("0.00001")),
    ("cloudwatch", "ListMetrics"): ("metrics", "request", Decimal("0.00001")),
    ("ce", "GetCostAndUsage"): ("costs", "request", Decimal("0.01")),
}


def usage(service: str, operation: str, calls: float, units: float) -> ApiUsage:
    stream, unit, price = PRICES[(service, operation)]
    return ApiUsage(stream, f"{service}:{operation}", calls, units, unit, price)


class SpendMeter:
    """Counts paid requests as botocore builds them (each page of a paginator is a request AWS bills)."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        self.units: Counter[tuple[str, str]] = Counter()

    def attach(self, client: Any) -> None:
        service = client.meta.service_model.service_name
        for _, operation in (key for key in PRICES if key[0] == service):
            client.meta.events.register(f"before-parameter-build.{service}.{operation}",
                                        self._counter(service, operation))  # fmt: skip

    def _counter(self, service: str, operation: str) -> Any:
        def count(params: dict[str, Any], **_: Any) -> None:
            self.calls[(service, operation)] += 1
            self.units[(service, operation)] += len(params.get("MetricDataQueries", ())) or 1

        return count

    def take(self) -> list[ApiUsage]:
        out = [usage(service, op, self.calls[(service, op)], self.units[(service, op)]) for service, op in self.calls]
        self.calls.clear()
        self.units.clear()
        return out
