"""A loopback HTTP proxy in front of moto's server: counts AWS actions, answers chosen ones with AWS's errors."""

from __future__ import annotations

import http.client
import json
import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}


@dataclass(frozen=True)
class Canned:
    """A response the proxy gives instead of forwarding."""

    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()


Responder = Callable[[bytes], Canned]
Predicate = Callable[[bytes], bool]


class Pager(Protocol):
    """Pages an action's answers itself (see metric_data_pager.MetricDataPager)."""

    def follow_up(self, content_type: str, body: bytes) -> Canned | None: ...

    def first_page(self, body: bytes, reply: bytes) -> Canned: ...


def always(_body: bytes) -> bool:
    return True


def query_error(code: str, message: str, status: int = 400) -> Canned:
    """The AWS query-protocol error document (STS, RDS, Auto Scaling)."""
    body = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return Canned(status, body.encode(), "text/xml")


def ec2_error(code: str, message: str, status: int) -> Canned:
    """The EC2-protocol error document."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>'
        f"{code}</Code><Message>{message}</Message></Error></Errors><RequestID>{uuid.uuid4()}</RequestID></Response>"
    )
    return Canned(status, body.encode(), "text/xml;charset=UTF-8")


def json_error(code: str, message: str, status: int = 400) -> Canned:
    """The AWS JSON 1.1 protocol error document (Cost Explorer, Price List)."""
    return Canned(status, json.dumps({"__type": code, "message": message}).encode(), "application/x-amz-json-1.1")


def json_reply(document: dict[str, object]) -> Canned:
    return Canned(200, json.dumps(document).encode(), "application/x-amz-json-1.1")


def action_of(path: str, headers: dict[str, str], body: bytes) -> str:
    """The AWS action of a request, whatever its protocol (query, ec2, JSON, RPC v2 CBOR)."""
    target = headers.get("x-amz-target", "")
    if target:
        return target.rsplit(".", 1)[-1]
    if "/operation/" in path:
        return path.rsplit("/operation/", 1)[1].split("?")[0]
    params = parse_qs(urlsplit(path).query)
    if not params.get("Action") and body:
        params = parse_qs(body.decode("utf-8", "replace"))
    return (params.get("Action") or [""])[0]


SIGNING_TO_IAM = {"monitoring": "cloudwatch"}  # SigV4 signing names that differ from the IAM service prefix


def iam_action(headers: dict[str, str], action: str) -> str:
    """The IAM action a signed request needs: the SigV4 credential scope's service, then the action."""
    scope = headers.get("authorization", "").split("Credential=", 1)[-1].split(",", 1)[0].split("/")
    service = scope[3] if len(scope) > 3 else ""
    return f"{SIGNING_TO_IAM.get(service, service)}:{action}"


def access_denied(headers: dict[str, str], needed: str) -> Canned:
    """AWS's refusal of an action the caller's policy lacks, in the protocol of the request."""
    message = f"User: arn:aws:iam::123456789012:user/headroom is not authorized to perform: {needed}"
    content_type = headers.get("content-type", "")
    if content_type.startswith("application/x-amz-json-1.0"):  # CloudWatch (awsQueryCompatible)
        body = json.dumps({"__type": "com.amazonaws.cloudwatch#AccessDenied", "message": message}).encode()
        return Canned(403, body, content_type, (("x-amzn-query-error", "AccessDenied;Sender"),))
    if content_type.startswith("application/x-amz-json"):
        return json_error("AccessDeniedException", message)
    if needed.startswith("ec2:"):
        return ec2_error("UnauthorizedOperation", message, 403)
    return query_error("AccessDenied", message, 403)


def past_cost_explorer_limits(now: date) -> Predicate:
    """Requests Cost Explorer refuses: a start before its 13 months of history (and the current month), or more than
    two GroupBy keys (use with FaultProxy.fail("GetCostAndUsage", n, json_error("ValidationException", ...)))."""
    months = now.year * 12 + now.month - 1 - 13
    oldest = date(months // 12, months % 12 + 1, 1)

    def refused(body: bytes) -> bool:
        request = json.loads(body or b"{}")
        start = date.fromisoformat(request.get("TimePeriod", {}).get("Start", now.isoformat()))
        return start < oldest or len(request.get("GroupBy", [])) > 2

    return refused


class FaultProxy:
    """Forwards to `upstream`; the first `times` requests of an action can get a canned answer instead, and a
    pager can cut an action's answers into pages.

    `seen` counts every request per action (faults included) and `bodies` keeps the ones not faulted.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.seen: Counter[str] = Counter()
        self.bodies: dict[str, list[bytes]] = defaultdict(list)
        self._faults: dict[str, list[tuple[Predicate, Responder]]] = defaultdict(list)
        self._always: dict[str, Responder] = {}
        self._pagers: dict[str, Pager] = {}
        self.allowed: set[str] | None = None  # an IAM policy's actions: others are refused (see enforce)
        self.denied: list[str] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                action = action_of(self.path, headers, body)
                canned = proxy._take(action, body) or proxy._enforce(headers, action)
                pager = proxy._pagers.get(action)
                if canned is None and pager is not None:
                    canned = pager.follow_up(headers.get("content-type", ""), body)
                if canned is None:
                    status, reply_headers, reply = proxy._forward(self.command, self.path, self.headers.items(), body)
                    if pager is not None and status == 200:
                        canned = pager.first_page(body, reply)
                if canned is not None:
                    status, reply = canned.status, canned.body
                    reply_headers = [("Content-Type", canned.content_type), *canned.headers]
                self.send_response(status)
                for name, value in reply_headers:
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def fail(self, action: str, times: int, canned: Canned, when: Predicate = always) -> None:
        """Answer the next `times` requests of `action` (those whose body passes `when`) with `canned`."""
        with self._lock:
            self._faults[action].extend([(when, lambda _body: canned)] * times)

    def answer(self, action: str, responder: Responder) -> None:
        """Answer every request of `action` with responder(request body) (for APIs moto lacks)."""
        with self._lock:
            self._always[action] = responder

    def page(self, action: str, pager: Pager) -> None:
        """Let `pager` answer follow-up requests of `action` and cut upstream's answers into pages."""
        with self._lock:
            self._pagers[action] = pager

    def enforce(self, allowed: set[str]) -> None:
        """Refuse, as AWS does, every action outside `allowed` (sts:GetCallerIdentity needs no permission)."""
        self.allowed = allowed | {"sts:GetCallerIdentity"}

    def _enforce(self, headers: dict[str, str], action: str) -> Canned | None:
        if self.allowed is None or "authorization" not in headers:
            return None
        needed = iam_action(headers, action)
        if needed in self.allowed:
            return None
        self.denied.append(needed)
        return access_denied(headers, needed)

    def _take(self, action: str, body: bytes) -> Canned | None:
        with self._lock:
            self.seen[action] += 1
            faults = self._faults[action]
            hit = next((n for n, (when, _) in enumerate(faults) if when(body)), None)
            if hit is not None:
                return faults.pop(hit)[1](body)
            responder = self._always.get(action)
            self.bodies[action].append(body)
        return responder(body) if responder else None

    def _forward(self, method: str, path: str, headers, body: bytes):  # type: ignore[no-untyped-def]
        conn = http.client.HTTPConnection(self.upstream.hostname or "127.0.0.1", self.upstream.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=dict(headers))
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
