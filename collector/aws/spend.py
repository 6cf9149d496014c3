"""The paid calls the AWS collector makes, priced by the settings, and a meter that counts them on the boto3 clients.

CloudWatch bills GetMetricData per metric requested and ListMetrics per request; Cost Explorer bills each
GetCostAndUsage request. Describe*, STS and the Price List API are free. The prices are AwsApiPrices settings
(defaults and their sources there); free tiers are left out: these are list prices.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from collector.config import AwsApiPrices
from collector.records import ApiUsage

# (botocore service name, operation) -> (stream, billed unit, USD per unit from the price settings)
PRICES: dict[tuple[str, str], tuple[str, str, Callable[[AwsApiPrices], Decimal]]] = {
    ("cloudwatch", "GetMetricData"): ("metrics", "metric", lambda p: p.get_metric_data_usd_per_1000_metrics / 1000),
    ("cloudwatch", "ListMetrics"): ("metrics", "request", lambda p: p.list_metrics_usd_per_1000_requests / 1000),
    ("ce", "GetCostAndUsage"): ("costs", "request", lambda p: p.cost_explorer_usd_per_request),
}


def usage(prices: AwsApiPrices, service: str, operation: str, calls: float, units: float) -> ApiUsage:
    stream, unit, price = PRICES[(service, operation)]
    return ApiUsage(stream, f"{service}:{operation}", calls, units, unit, price(prices))


class SpendMeter:
    """Counts paid requests as botocore builds them (each page of a paginator is a request AWS bills)."""

    def __init__(self, prices: AwsApiPrices) -> None:
        self.prices = prices
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
        out = [
            usage(self.prices, service, op, self.calls[(service, op)], self.units[(service, op)])
            for service, op in self.calls
        ]
        self.calls.clear()
        self.units.clear()
        return out
