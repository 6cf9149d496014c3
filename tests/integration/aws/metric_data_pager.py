"""GetMetricData paged as AWS does: over a datapoint limit, one part per page, the rest behind a NextToken."""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from aws_fault_proxy import Canned

# botocore 1.44.5 lists CloudWatch as ["smithy-rpc-v2-cbor", "json", "query"] and picks the first of its own
# priority order (json, rest-json, rest-xml, smithy-rpc-v2-cbor, query, ec2): AWS JSON 1.0, i.e. a POST to /
# with X-Amz-Target GraniteServiceVersion20100801.<Operation>, timestamps as epoch seconds.
JSON_1_0 = "application/x-amz-json-1.0"


def cloudwatch_error(code: str, message: str, status: int = 400) -> Canned:
    """A CloudWatch error in AWS JSON 1.0; x-amzn-query-error carries the query code (awsQueryCompatible)."""
    body = json.dumps({"__type": f"com.amazonaws.cloudwatch#{code}", "message": message}).encode()
    return Canned(status, body, JSON_1_0, (("x-amzn-query-error", f"{code};Sender"),))


def throttled() -> Canned:
    return cloudwatch_error("Throttling", "Rate exceeded")


def has_next_token(body: bytes) -> bool:
    """A follow-up GetMetricData request (for FaultProxy.fail(..., when=has_next_token))."""
    return "NextToken" in json.loads(body or b"{}")


def split(document: dict[str, Any], limit: int, descending: bool) -> list[dict[str, Any]]:
    """The response cut into pages of at most `limit` datapoints, oldest (or newest) first over all queries.

    Every page names every query id; Timestamps[x] still belongs to Values[x]; all but the last page say
    PartialData, the last keeps the upstream status. Response-level Messages come with the first page.
    """
    results: list[dict[str, Any]] = document.get("MetricDataResults", [])
    points = [
        (float(ts), index, ts, value)
        for index, result in enumerate(results)
        for ts, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=True)
    ]
    points.sort(key=lambda p: (-p[0] if descending else p[0], p[1]))
    chunks = [points[at : at + limit] for at in range(0, len(points), limit)] or [[]]
    pages = []
    for number, chunk in enumerate(chunks):
        last = number == len(chunks) - 1
        series: list[dict[str, list[Any]]] = [{"Timestamps": [], "Values": []} for _ in results]
        for _key, index, ts, value in chunk:
            series[index]["Timestamps"].append(ts)
            series[index]["Values"].append(value)
        page_results = [
            {**result, **series[index], "StatusCode": result.get("StatusCode", "Complete") if last else "PartialData"}
            for index, result in enumerate(results)
        ]
        page: dict[str, Any] = {"MetricDataResults": page_results}
        if number == 0 and document.get("Messages"):
            page["Messages"] = document["Messages"]
        pages.append(page)
    return pages


@dataclass
class Pending:
    request: dict[str, Any]  # the request without its NextToken: a follow-up must repeat it exactly
    pages: list[dict[str, Any]]


class MetricDataPager:
    """Pages moto's (unpaged) GetMetricData answers at `max_datapoints` (or the request's smaller MaxDatapoints).

    `issued` lists every NextToken given out, `answered` every one a follow-up request brought back. A token
    is good once, and only with the parameters of the request that earned it (else InvalidNextToken).
    """

    def __init__(self, max_datapoints: int) -> None:
        self.max_datapoints = max_datapoints
        self.issued: list[str] = []
        self.answered: list[str] = []
        self._pending: dict[str, Pending] = {}
        self._lock = threading.Lock()

    def follow_up(self, content_type: str, body: bytes) -> Canned | None:
        """The next page for a request carrying a NextToken; None for a first request (to forward upstream)."""
        if not content_type.startswith(JSON_1_0):
            return cloudwatch_error("UnsupportedProtocol", f"the test proxy pages only {JSON_1_0}, not {content_type}")
        request = json.loads(body or b"{}")
        token = request.pop("NextToken", None)
        if token is None:
            return None
        with self._lock:
            pending = self._pending.pop(token, None)
            if pending is None or pending.request != request:
                return cloudwatch_error("InvalidNextToken", "The service returned an invalid NextToken.")
            self.answered.append(token)
        return self._reply(pending.request, pending.pages)

    def first_page(self, body: bytes, reply: bytes) -> Canned:
        """Page 1 of the upstream answer to a first request; the other pages wait behind a fresh NextToken."""
        request = json.loads(body)
        limit = min(self.max_datapoints, int(request.get("MaxDatapoints") or self.max_datapoints))
        descending = request.get("ScanBy", "TimestampDescending") == "TimestampDescending"
        return self._reply(request, split(json.loads(reply), limit, descending))

    def _reply(self, request: dict[str, Any], pages: list[dict[str, Any]]) -> Canned:
        page, rest = pages[0], pages[1:]
        if rest:
            token = secrets.token_urlsafe(48)  # opaque, like AWS's
            with self._lock:
                self._pending[token] = Pending(request, rest)
                self.issued.append(token)
            page = {**page, "NextToken": token}
        return Canned(200, json.dumps(page).encode(), JSON_1_0)
