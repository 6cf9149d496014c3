"""A loopback Google Cloud for tests: OAuth2 token endpoint, Compute v1 and BigQuery v2 over HTTP/JSON.

Responses follow the documented REST formats (InstanceAggregatedList, Job, GetQueryResultsResponse with
f/v rows, google.rpc error JSON); Cloud Monitoring (gRPC only in the SDK) is served by gcp_monitoring_grpc.
Faults can be armed per route: throttling (429 + Retry-After) for the next N calls, or a 403.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import sqlglot
from google.auth import jwt
from google.auth.exceptions import GoogleAuthError
from sqlglot import exp

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# google-auth signs the assertion for this audience, whatever token_uri says
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret
STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
          429: "RESOURCE_EXHAUSTED"}  # fmt: skip
BILLING_SCHEMA = [
    ("usage_date", "DATE"), ("service", "STRING"), ("project_id", "STRING"), ("region", "STRING"),
    ("resource_name", "STRING"), ("cost_type", "STRING"), ("currency", "STRING"), ("cost", "NUMERIC"),
    ("credits", "NUMERIC"),
]  # fmt: skip


class ApiError(Exception):
    """An error response in Google's JSON error format (or gRPC status)."""

    def __init__(self, code: int, message: str, reason: str = "", headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.reason, self.headers = code, message, reason, headers or {}

    def body(self) -> dict[str, Any]:
        error = {"message": self.message, "domain": "global", "reason": self.reason or STATUS[self.code].lower()}
        return {"error": {"code": self.code, "message": self.message, "errors": [error], "status": STATUS[self.code]}}


@dataclass
class Fault:
    throttle: int = 0  # answer the next N calls with 429
    retry_after: int = 1
    deny: str = ""  # the permission reported missing (403) on every call


@dataclass
class GoogleState:
    """What the fake cloud holds, and what it saw."""

    keys: dict[str, str] = field(default_factory=dict)  # private_key_id -> public key PEM
    accounts: dict[str, str] = field(default_factory=dict)  # service-account email -> private_key_id
    tokens: set[str] = field(default_factory=set)
    calls: Counter[str] = field(default_factory=Counter)
    faults: dict[str, Fault] = field(default_factory=dict)
    instances: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # project -> Instance JSON
    empty_zones: tuple[str, ...] = ("asia-east1-b",)
    compute_page_size: int = 2
    billing_table: str = ""
    billing_rows: list[dict[str, Any]] = field(default_factory=list)  # each a dict over BILLING_SCHEMA
    bigquery_page_size: int = 3
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    job_configs: list[dict[str, Any]] = field(default_factory=list)  # every jobs.insert configuration seen
    bytes_processed: int = 1024  # what every query of the export processes
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""

    @property
    def token_uri(self) -> str:
        return f"{self.base_url}/token"

    # -- auth ---------------------------------------------------------------------------------------------------
    def exchange_assertion(self, assertion: str) -> str:
        """The service-account JWT flow: a JWT signed with the account's key, for an access token."""
        try:
            self.verify_jwt(assertion, audience=GOOGLE_TOKEN_AUDIENCE)
        except (ValueError, GoogleAuthError):
            raise ApiError(400, "Invalid JWT Signature.", "invalid_grant") from None
        token = "ya29." + secrets.token_urlsafe(24)
        self.tokens.add(token)
        return token

    def verify_jwt(self, token: str, audience: str | None = None) -> dict[str, Any]:
        """Claims of a JWT signed by a registered service account's key (signature, expiry, issuer checked)."""
        claims: dict[str, Any] = jwt.decode(token, certs=self.keys, audience=audience)
        if self.accounts.get(claims.get("iss", "")) != jwt.decode_header(token).get("kid"):
            raise ValueError("issuer does not own the signing key")
        return claims

    def authenticate(self, authorization: str | None) -> None:
        """Accept a token we issued or a self-signed service-account JWT (what GAPIC clients send)."""
        scheme, _, credential = (authorization or "").partition(" ")
        if scheme == "Bearer" and credential in self.tokens:
            return
        if scheme == "Bearer" and credential.count(".") == 2:
            try:
                self.verify_jwt(credential)
                return
            except (ValueError, GoogleAuthError):
                pass
        raise ApiError(
            401,
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
            "valid authentication credential.",
            "authError",
        )

    def enter(self, route: str, authorization: str | None) -> None:
        """Count the call, check the caller, then fire any armed fault."""
        with self.lock:
            self.calls[route] += 1
            fault = self.faults.get(route)
            throttled = bool(fault and fault.throttle > 0)
            if fault and throttled:
                fault.throttle -= 1
        self.authenticate(authorization)
        if fault and throttled:
            raise ApiError(429, "Quota exceeded for quota metric 'Requests'.", "rateLimitExceeded",
                           {"Retry-After": str(fault.retry_after)})  # fmt: skip
        if fault and fault.deny:
            raise ApiError(403, f"Permission '{fault.deny}' denied on resource (or it may not exist).", "forbidden")

    # -- Compute v1 instances.aggregatedList -------------------------------------------------------------------
    def aggregated_instances(self, project: str, query: dict[str, str]) -> dict[str, Any]:
        listed = self.instances.get(project, [])
        start = int(query.get("pageToken") or 0)
        size = min(int(query.get("maxResults") or 500), self.compute_page_size)
        page = listed[start : start + size]
        items: dict[str, Any] = {}
        for instance in page:
            scope = "zones/" + instance["zone"].rsplit("/", 1)[-1]
            items.setdefault(scope, {"instances": []})["instances"].append(instance)
        for zone in self.empty_zones:
            items[f"zones/{zone}"] = {"warning": {"code": "NO_RESULTS_ON_PAGE", "message": "There are no results "
                                      f"for scope 'zones/{zone}' on this page.", "data": [{"key": "scope",
                                      "value": f"zones/{zone}"}]}}  # fmt: skip
        body: dict[str, Any] = {"kind": "compute#instanceAggregatedList", "id": f"projects/{project}/aggregated/"
                                "instances", "items": items, "selfLink": f"{self.base_url}/compute/v1/projects/"
                                f"{project}/aggregated/instances"}  # fmt: skip
        if start + size < len(listed):
            body["nextPageToken"] = str(start + size)
        return body

    # -- BigQuery v2 jobs.insert / jobs.get / jobs.getQueryResults ----------------------------------------------
    def insert_job(self, project: str, job: dict[str, Any]) -> dict[str, Any]:
        query = job.get("configuration", {}).get("query", {})
        if f"`{self.billing_table}`" not in query.get("query", ""):
            raise ApiError(404, f"Not found: Table {self.billing_table} was not found in location US", "notFound")
        self.job_configs.append(job.get("configuration", {}))
        check_billing_sql(query.get("query", ""), self.billing_table)
        processed = self.bytes_processed
        limit = query.get("maximumBytesBilled")
        if limit is not None and processed > int(limit) and not job.get("configuration", {}).get("dryRun"):
            raise ApiError(400, f"Query exceeded limit for bytes billed: {limit}. {processed} or higher required.",
                           "bytesBilledLimitExceeded")  # fmt: skip
        params = {p["name"]: p["parameterValue"]["value"] for p in query.get("queryParameters", [])}
        since, until = (_bq_timestamp(params[name]) for name in ("since", "until"))
        job_id = job.get("jobReference", {}).get("jobId") or secrets.token_hex(8)
        reference = {"projectId": project, "jobId": job_id, "location": "US"}
        now = str(int(datetime.now(UTC).timestamp() * 1000))
        resource: dict[str, Any] = {
            "kind": "bigquery#job", "id": f"{project}:US.{job_id}", "jobReference": reference,
            "configuration": {**job["configuration"], "jobType": "QUERY"},
            "status": {"state": "DONE"},
            "statistics": {"creationTime": now, "startTime": now, "endTime": now, "totalBytesProcessed": str(processed),
                           "query": {"totalBytesProcessed": str(processed), "statementType": "SELECT"}},
        }  # fmt: skip
        if not job.get("configuration", {}).get("dryRun"):
            resource["configuration"]["query"]["destinationTable"] = {
                "projectId": project, "datasetId": "_anon", "tableId": f"anon{job_id}"}  # fmt: skip
            rows = [r for r in self.billing_rows if since <= _midnight(r["usage_date"]) < until]
            self.jobs[job_id] = {"resource": resource, "rows": rows}
        return resource

    def get_job(self, job_id: str) -> dict[str, Any]:
        if job_id not in self.jobs:
            raise ApiError(404, f"Not found: Job {job_id}", "notFound")
        return dict(self.jobs[job_id]["resource"])

    def query_results(self, job_id: str, query: dict[str, str]) -> dict[str, Any]:
        job = self.get_job(job_id) and self.jobs[job_id]
        rows = job["rows"]
        start = int(query.get("pageToken") or query.get("startIndex") or 0)
        wanted = int(query["maxResults"]) if "maxResults" in query else self.bigquery_page_size
        size = min(wanted, self.bigquery_page_size)
        body: dict[str, Any] = {
            "kind": "bigquery#getQueryResultsResponse", "etag": secrets.token_hex(4),
            "schema": {"fields": [{"name": n, "type": t, "mode": "NULLABLE"} for n, t in BILLING_SCHEMA]},
            "jobReference": job["resource"]["jobReference"], "totalRows": str(len(rows)),
            "totalBytesProcessed": "1024", "jobComplete": True, "cacheHit": False,
        }  # fmt: skip
        if size:
            body["rows"] = [
                {"f": [{"v": _bq_cell(r[n])} for n, _ in BILLING_SCHEMA]} for r in rows[start : start + size]
            ]
            if start + size < len(rows):
                body["pageToken"] = str(start + size)
        return body


PARTITION_COLUMNS = {"_partitiontime", "_partitiondate"}


def partition_filters(sql: str) -> list[str]:
    """The WHERE predicates of a BigQuery query that bound an ingestion-time partition column, as SQL."""
    tree = sqlglot.parse_one(sql, read="bigquery")
    where = tree.find(exp.Where)
    if where is None:
        return []
    bounds = (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.EQ, exp.Between)
    return [node.sql(dialect="bigquery") for node in where.find_all(*bounds)
            if any(c.name.lower() in PARTITION_COLUMNS for c in node.find_all(exp.Column))]  # fmt: skip


def check_billing_sql(sql: str, table: str) -> None:
    """What BigQuery refuses: SQL its dialect does not parse, and (the export requiring a partition filter) a query
    of the export with no filter on its partitions."""
    try:
        filters = partition_filters(sql)
    except sqlglot.errors.ParseError as exc:
        raise ApiError(400, f"Syntax error: {str(exc).splitlines()[0]}", "invalidQuery") from None
    if not filters:
        raise ApiError(400, f"Cannot query over table '{table}' without a filter over column(s) '_PARTITION_LOAD_TIME',"
                       " '_PARTITIONDATE', '_PARTITIONTIME' that can be used for partition elimination", "invalidQuery")


def _bq_timestamp(text: str) -> datetime:
    """A TIMESTAMP query parameter as the client sends it ("2026-11-01 00:00:00+00:00" and similar)."""
    return datetime.fromisoformat(text.replace(" ", "T").replace("Z", "+00:00")).astimezone(UTC)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _bq_cell(value: object) -> str | None:
    if value is None:
        return None
    return (
        value.isoformat() if isinstance(value, date) else str(value) if isinstance(value, Decimal | str) else str(value)
    )


ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"^/token$"), "token"),
    ("GET", re.compile(r"^/v1/projects/-/serviceAccounts/(?P<account>[^/]+)/allowedLocations$"),
     "iam.allowedLocations"),
    ("GET", re.compile(r"^/compute/v1/projects/(?P<project>[^/]+)/aggregated/instances$"), "compute.aggregatedList"),
    ("POST", re.compile(r"^/bigquery/v2/projects/(?P<project>[^/]+)/jobs$"), "bigquery.jobs.insert"),
    ("GET", re.compile(r"^/bigquery/v2/projects/(?P<project>[^/]+)/jobs/(?P<job>[^/]+)$"), "bigquery.jobs.get"),
    ("GET", re.compile(r"^/bigquery/v2/projects/(?P<project>[^/]+)/queries/(?P<job>[^/]+)$"),
     "bigquery.getQueryResults"),
]  # fmt: skip


class GoogleHandler(BaseHTTPRequestHandler):
    state: GoogleState  # set on the subclass made per server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's signature
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            for verb, pattern, route in ROUTES:
                match = pattern.match(url.path)
                if verb == method and match:
                    self._send(200, self._handle(route, match.groupdict(), query, raw))
                    return
            raise ApiError(404, f"no route {method} {url.path}")
        except ApiError as exc:
            body = exc.body() if exc.reason != "invalid_grant" else {"error": "invalid_grant",
                                                                     "error_description": exc.message}  # fmt: skip
            self._send(exc.code, body, exc.headers)

    def _handle(self, route: str, args: dict[str, str], query: dict[str, str], raw: bytes) -> dict[str, Any]:
        state = self.state
        if route == "token":
            with state.lock:
                state.calls[route] += 1
            form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
            if form.get("grant_type") != JWT_BEARER:
                raise ApiError(400, "unsupported grant_type", "invalid_grant")
            token = state.exchange_assertion(form.get("assertion", ""))
            return {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}
        state.enter(route, self.headers.get("Authorization"))
        if route == "iam.allowedLocations":  # google-auth's Regional Access Boundary lookup
            return {"locations": ["us-central1", "europe-west1"], "encodedLocations": "0xA30"}
        if route == "compute.aggregatedList":
            return state.aggregated_instances(args["project"], query)
        if route == "bigquery.jobs.insert":
            return state.insert_job(args["project"], json.loads(raw))
        if route == "bigquery.jobs.get":
            return state.get_job(args["job"])
        return state.query_results(args["job"], query)

    def _send(self, code: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if code == 401:
            self.send_header("WWW-Authenticate", 'Bearer realm="https://accounts.google.com/"')
        self.end_headers()
        self.wfile.write(data)


class GoogleHttpServer:
    """The HTTP part of the loopback cloud, in a daemon thread."""

    def __init__(self, state: GoogleState) -> None:
        handler = type("BoundGoogleHandler", (GoogleHandler,), {"state": state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        state.base_url = self.url
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
