"""A loopback HTTPS server speaking Azure's documented JSON: Entra ID tokens, ARM VMs and SKUs, getBatch, Cost Query.

Formats follow learn.microsoft.com (Entra ID v2.0 token endpoint and OpenID metadata; Virtual Machines - List All;
Resource Skus - List; Metrics Batch - Batch; Query - Usage) and the azure-rest-api-specs examples. One server
plays every endpoint: tests point authority_host, management_endpoint and metrics_endpoint at it.
"""

from __future__ import annotations

import hashlib
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "loopback-access-token"  # noqa: S105 - a fake token the server hands out and checks
GIB = 2**30
COST_PAGE_SIZE = 50
MAX_BATCH_IDS = 50  # getBatch takes at most 50 resource ids a call
BATCH_GRAINS = ("PT1M", "PT5M", "PT15M", "PT30M", "PT1H", "PT6H", "PT12H", "P1D")
VM_PAGE_SIZE = 20


@dataclass(frozen=True)
class FakeVm:
    subscription: str
    resource_group: str
    name: str
    location: str
    size: str
    tags: dict[str, str]

    @property
    def id(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.Compute/virtualMachines/{self.name}"
        )

    def as_arm(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "id": self.id,
            "type": "Microsoft.Compute/virtualMachines",
            "location": self.location,
            "tags": self.tags,
            "properties": {
                "vmId": hashlib.md5(self.id.encode(), usedforsecurity=False).hexdigest(),
                "hardwareProfile": {"vmSize": self.size},
                "storageProfile": {"osDisk": {"osType": "Linux", "name": f"{self.name}_OsDisk", "diskSizeGB": 30}},
                "provisioningState": "Succeeded",
            },
        }


# Azure's metric names -> which aggregation the server fills, and the unit it reports
SERVED_METRICS = {
    "Percentage CPU": ("average", "Percent"),
    "Available Memory Bytes": ("average", "Bytes"),
    "Network In Total": ("total", "Bytes"),
    "Network Out Total": ("total", "Bytes"),
    "Disk Write Bytes": ("total", "Bytes"),
}
SKUS = {"Standard_E4s_v5": (4, 32), "Standard_D2s_v3": (2, 8)}


def metric_value(resource_id: str, metric: str, epoch: int) -> float:
    """The deterministic value the server serves for one VM, metric and timestamp."""
    seed = int(hashlib.sha256(f"{resource_id.lower()}|{metric}".encode()).hexdigest()[:6], 16)
    step = (epoch // 300) % 12
    if metric == "Percentage CPU":
        return 5.0 + seed % 60 + step * 0.5
    if metric == "Available Memory Bytes":
        return float(GIB * (1 + seed % 3) + step * 1024)
    return float(1_000_000 + seed % 1000 * 1000 + step * 4096)


@dataclass(frozen=True)
class CostLine:
    cost_type: str
    day: date
    resource_id: str
    service: str
    cost: float


def cost_of(cost_type: str, day: date, resource_id: str, service: str) -> float:
    seed = int(hashlib.sha256(f"{day}|{resource_id}|{service}".encode()).hexdigest()[:6], 16)
    actual = round(1 + (seed % 5000) / 100.0, 6)
    return round(actual * 0.75, 6) if cost_type == "AmortizedCost" and service == "Virtual Machines" else actual


@dataclass
class Seen:
    """One request as the server saw it."""

    at: float
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int


@dataclass
class FakeAzure:
    """The state behind the server: the fleet, failure switches, and every request it answered."""

    vms: list[FakeVm]
    extra_cost_resources: list[tuple[str, str]] = field(default_factory=list)  # (resource id, service)
    token_error: bool = False  # the token endpoint answers 401 invalid_client
    arm_unauthorized: bool = False  # ARM answers 401 InvalidAuthenticationToken
    deny: set[str] = field(default_factory=set)  # "compute", "metrics", "costs": answer 403 AuthorizationFailed
    throttle_costs: int = 0  # this many cost queries are answered 429 first
    throttle_headers: dict[str, str] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    served_costs: list[CostLine] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""

    def requests_to(self, fragment: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if fragment in s.path]

    # -- handlers: (status, json body, extra headers) ------------------------------------------------------
    def handle(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, auth: str
    ) -> tuple[int, Any, dict[str, str]]:
        lowered = path.lower()
        if lowered.endswith("/.well-known/openid-configuration"):
            return 200, self.openid_configuration(path.split("/")[1]), {}
        if lowered.endswith("/oauth2/v2.0/token"):
            return self.token()
        if auth != f"Bearer {TOKEN}" or self.arm_unauthorized:
            return 401, arm_error("InvalidAuthenticationToken", "The access token is invalid."), {}
        if lowered.endswith("/providers/microsoft.compute/virtualmachines"):
            return self.denied("compute", "Microsoft.Compute/virtualMachines/read") or self.list_vms(path, query)
        if lowered.endswith("/providers/microsoft.compute/skus"):
            return 200, self.list_skus(query), {}
        if lowered.endswith("/metrics:getbatch"):
            return (self.denied("metrics", "Microsoft.Insights/metrics/read") or self.batch_refused(query, body)
                    or (200, self.metrics(query, body), {}))  # fmt: skip
        if lowered.endswith("/providers/microsoft.costmanagement/query"):
            return self.denied("costs", "Microsoft.CostManagement/query/read") or self.cost_query(path, query, body)
        return 404, arm_error("NotFound", f"no route {method} {path}"), {}

    def openid_configuration(self, tenant: str) -> dict[str, Any]:
        base = f"{self.base_url}/{tenant}"
        return {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "issuer": f"{base}/v2.0",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "tenant_region_scope": "NA",
        }

    def token(self) -> tuple[int, Any, dict[str, str]]:
        if self.token_error:
            return (
                401,
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent "
                    "in the request is the client secret value, not the client secret ID.",
                    "error_codes": [7000215],
                    "timestamp": "2026-11-20 12:00:00Z",
                    "trace_id": "00000000-0000-0000-0000-000000000000",
                    "correlation_id": "00000000-0000-0000-0000-000000000000",
                },
                {},
            )
        return 200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": TOKEN}, {}

    def denied(self, api: str, action: str) -> tuple[int, Any, dict[str, str]] | None:
        if api not in self.deny:
            return None
        message = (
            "The client '00000000-0000-0000-0000-00000000c1d0' with object id '00000000-0000-0000-0000-00000000c1d0' "
            f"does not have authorization to perform action '{action}' over scope '/subscriptions/...' or the "
            "scope is invalid. If access was recently granted, please refresh your credentials."
        )
        return 403, arm_error("AuthorizationFailed", message), {}

    def list_vms(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        subscription = path.split("/")[2]
        mine = [vm for vm in self.vms if vm.subscription == subscription]
        start = int(query.get("$skiptoken", ["0"])[0])
        page = mine[start : start + VM_PAGE_SIZE]
        body: dict[str, Any] = {"value": [vm.as_arm() for vm in page]}
        if start + VM_PAGE_SIZE < len(mine):
            body["nextLink"] = f"{self.base_url}{path}?api-version=2024-07-01&$skiptoken={start + VM_PAGE_SIZE}"
        return 200, body, {}

    def list_skus(self, query: dict[str, list[str]]) -> dict[str, Any]:
        location = query.get("$filter", [""])[0].split("'")[1] if "'" in query.get("$filter", [""])[0] else ""
        return {
            "value": [
                {
                    "resourceType": "virtualMachines",
                    "name": name,
                    "tier": "Standard",
                    "size": name.removeprefix("Standard_"),
                    "family": "standardFamily",
                    "locations": [location],
                    "locationInfo": [{"location": location, "zones": ["1", "2", "3"]}],
                    "capabilities": [{"name": "vCPUs", "value": str(cpus)}, {"name": "MemoryGB", "value": str(mem)}],
                    "restrictions": [],
                }
                for name, (cpus, mem) in SKUS.items()
            ]
        }

    def batch_refused(self, query: dict[str, list[str]], body: Any) -> tuple[int, Any, dict[str, str]] | None:
        """What getBatch refuses: more than 50 resource ids, and a time grain it does not offer."""
        ids = body.get("resourceids", []) if isinstance(body, dict) else []
        if len(ids) > MAX_BATCH_IDS:
            return 400, arm_error("BadRequest", f"The number of resource ids ({len(ids)}) exceeds the limit of "
                                                f"{MAX_BATCH_IDS}."), {}  # fmt: skip
        grain = query.get("interval", ["PT1M"])[0].upper()
        if grain not in BATCH_GRAINS:
            return 400, arm_error("BadRequest", f"Invalid interval {grain}; supported: {', '.join(BATCH_GRAINS)}"), {}
        return None

    def metrics(self, query: dict[str, list[str]], body: Any) -> dict[str, Any]:
        start = _parse_time(query["starttime"][0])
        end = _parse_time(query["endtime"][0])
        step = _iso_minutes(query["interval"][0]) * 60
        names = query["metricnames"][0].split(",")
        by_id = {vm.id.lower(): vm for vm in self.vms}
        values = []
        for rid in body["resourceids"]:
            vm = by_id[rid.lower()]
            first = -(-int(start.timestamp()) // step) * step
            stamps = range(first, int(end.timestamp()), step)
            metrics = []
            for name in names:
                aggregation, unit = SERVED_METRICS[name]
                data = [{"timeStamp": _iso(t), aggregation: metric_value(vm.id, name, t)} for t in stamps]
                metrics.append(
                    {
                        "id": f"{vm.id}/providers/Microsoft.Insights/metrics/{name}",
                        "type": "Microsoft.Insights/metrics",
                        "name": {"value": name, "localizedValue": name},
                        "displayDescription": f"{name} of the virtual machine",
                        "errorCode": "Success",
                        "unit": unit,
                        "timeseries": [{"metadatavalues": [], "data": data}],
                    }
                )
            values.append(
                {
                    "starttime": query["starttime"][0],
                    "endtime": query["endtime"][0],
                    "interval": query["interval"][0],
                    "value": metrics,
                    "namespace": "Microsoft.Compute/virtualMachines",
                    "resourceregion": vm.location,
                    "resourceid": vm.id,
                }
            )
        return {"values": values}

    def cost_query(self, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            throttled = self.throttle_costs > 0
            self.throttle_costs -= 1 if throttled else 0
        if throttled:
            return 429, arm_error("429", "Too many requests. Please retry."), dict(self.throttle_headers)
        subscription = path.split("/")[2]
        cost_type = body["type"]
        period = body["timePeriod"]
        first, last = _parse_time(period["from"]).date(), _parse_time(period["to"]).date()
        resources = [(vm.id.lower(), "Virtual Machines") for vm in self.vms if vm.subscription == subscription]
        resources += [(vm.id.lower(), "Bandwidth") for vm in self.vms if vm.subscription == subscription][:2]
        resources += [(rid, svc) for rid, svc in self.extra_cost_resources if f"/subscriptions/{subscription}/" in rid]
        lines = [
            CostLine(
                cost_type,
                first + timedelta(days=d),
                rid,
                service,
                cost_of(cost_type, first + timedelta(days=d), rid, service),
            )
            for d in range((last - first).days + 1)
            for rid, service in resources
        ]
        start = int(query.get("$skiptoken", ["0"])[0])
        page = lines[start : start + COST_PAGE_SIZE]
        with self.lock:
            self.served_costs.extend(page)
        props: dict[str, Any] = {
            "nextLink": None,
            "columns": [
                {"name": "Cost", "type": "Number"},
                {"name": "UsageDate", "type": "Number"},
                {"name": "ResourceId", "type": "String"},
                {"name": "ServiceName", "type": "String"},
                {"name": "Currency", "type": "String"},
            ],
            "rows": [[ln.cost, int(ln.day.strftime("%Y%m%d")), ln.resource_id, ln.service, "USD"] for ln in page],
        }
        if start + COST_PAGE_SIZE < len(lines):
            props["nextLink"] = (
                f"{self.base_url}/subscriptions/{subscription}/providers/Microsoft.CostManagement/query"
                f"?api-version=2025-03-01&$skiptoken={start + COST_PAGE_SIZE}"
            )
        query_id = hashlib.md5(json.dumps(body, sort_keys=True).encode(), usedforsecurity=False).hexdigest()
        return (
            200,
            {
                "id": f"subscriptions/{subscription}/providers/Microsoft.CostManagement/query/{query_id}",
                "name": query_id,
                "type": "Microsoft.CostManagement/query",
                "properties": props,
            },
            {},
        )


def arm_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _parse_time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_minutes(duration: str) -> int:
    """PT5M / PT1H / P1D as minutes (the intervals getBatch accepts)."""
    text = duration.upper()
    if text.startswith("PT") and text.endswith("M"):
        return int(text[2:-1])
    if text.startswith("PT") and text.endswith("H"):
        return int(text[2:-1]) * 60
    if text == "P1D":
        return 1440
    raise ValueError(f"unsupported interval {duration}")


class LoopbackAzure:
    """FakeAzure served over HTTPS on 127.0.0.1 in a thread; stop() shuts it down."""

    def __init__(self, fake: FakeAzure, cert: Path, key: Path) -> None:
        self.fake = fake
        handler = _handler_for(fake)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        fake.base_url = self.url
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="loopback-azure", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def _handler_for(fake: FakeAzure) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
            return

        def _serve(self) -> None:
            arrived = time.monotonic()
            split = urlsplit(self.path)
            query = parse_qs(split.query)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            content_type = self.headers.get("Content-Type", "")
            if raw and "json" in content_type:
                body: Any = json.loads(raw)
            else:
                body = parse_qs(raw.decode()) if raw else None
            status, payload, headers = fake.handle(
                self.command, split.path, query, body, self.headers.get("Authorization", "")
            )
            with fake.lock:
                fake.seen.append(Seen(arrived, self.command, split.path, query, body, status))
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-ms-request-id", "00000000-0000-0000-0000-000000000001")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = _serve  # noqa: N815 - http.server dispatches on these names
        do_POST = _serve  # noqa: N815

    return Handler
