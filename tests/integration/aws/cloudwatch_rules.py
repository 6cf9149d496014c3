"""GetMetricData as CloudWatch answers it, in front of moto: its request limits, and its retention of periods.

moto keeps every datapoint at every period. CloudWatch refuses more than 500 queries a call and periods that are
not 1, 5, 10, 30 or a multiple of 60 seconds, and it keeps 60 s data 15 days, 300 s data 63 days and 3,600 s
data 455 days: a query at a finer period than its data's age allows comes back with no datapoints.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from aws_fault_proxy import Canned
from metric_data_pager import JSON_1_0, cloudwatch_error

RETENTION = ((60, 15), (300, 63), (3600, 455))  # period multiple of (s), kept (days)
HIGH_RESOLUTION = (1, 5, 10, 30)


def kept_for(period: int) -> timedelta:
    if period in HIGH_RESOLUTION:
        return timedelta(hours=3)
    return timedelta(days=max(days for tier, days in RETENTION if period % tier == 0))


class CloudWatchRules:
    """A pager for FaultProxy.page("GetMetricData", ...): refuses what CloudWatch refuses, drops what it has
    not kept (judged against `now`), and counts the datapoints it dropped."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.dropped = 0

    def follow_up(self, content_type: str, body: bytes) -> Canned | None:
        request: dict[str, Any] = json.loads(body or b"{}")
        queries = request.get("MetricDataQueries", [])
        if len(queries) > 500:
            return cloudwatch_error("ValidationError", "The collection MetricDataQueries must not have a size greater "
                                    "than 500.")  # fmt: skip
        for query in queries:
            period = int(query.get("MetricStat", {}).get("Period", 60))
            if period not in HIGH_RESOLUTION and period % 60:
                return cloudwatch_error("InvalidParameterValue", f"The parameter Period must be 1, 5, 10, 30 or a "
                                        f"multiple of 60; {period} is neither.")  # fmt: skip
        return None  # forwarded to moto; its answer comes back through first_page

    def first_page(self, body: bytes, reply: bytes) -> Canned:
        request = json.loads(body)
        periods = {q["Id"]: int(q.get("MetricStat", {}).get("Period", 60)) for q in request["MetricDataQueries"]}
        document = json.loads(reply)
        for result in document.get("MetricDataResults", []):
            oldest = self.now - kept_for(periods.get(result.get("Id"), 60))
            kept = [(t, v) for t, v in zip(result.get("Timestamps", []), result.get("Values", []), strict=True)
                    if datetime.fromtimestamp(float(t), oldest.tzinfo) >= oldest]  # fmt: skip
            self.dropped += len(result.get("Timestamps", [])) - len(kept)
            result["Timestamps"], result["Values"] = [t for t, _ in kept], [v for _, v in kept]
        return Canned(200, json.dumps(document).encode(), JSON_1_0)
