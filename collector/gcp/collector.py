"""GcpCollector: Compute Engine discovery, Cloud Monitoring metrics and BigQuery billing-export costs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cached_property

from google.auth.credentials import Credentials
from google.cloud import bigquery, compute_v1, monitoring_v3

from collector.base import Collector, CollectorError
from collector.catalog import Catalog
from collector.config import GcpSourceSettings
from collector.gcp import billing, clients, discovery, monitoring
from collector.gcp.errors import GoogleApi, translated
from collector.gcp.retrying import ThrottleRetry
from collector.records import ApiUsage, CostRecord, Resource, SampleBatch

CHECK_WINDOW = timedelta(minutes=10)
CHECK_READS = 1  # check() reads one headers-only page of one metric per project
MONITORING_READ = "monitoring:timeSeries.list"
BIGQUERY_QUERY = "bigquery:jobs.query"


class GcpCollector(Collector):
    """One GCP source: the projects of config/providers.yml (gcp), each collected with the same credential."""

    def __init__(self, cfg: GcpSourceSettings, catalog: Catalog | None = None) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.stream_cadence = cfg.stream_cadence()
        self.monthly_budget_usd = cfg.monthly_budget_usd
        self._catalog = catalog
        self.retry = ThrottleRetry.from_settings(cfg.retry)
        self.monitoring_api = GoogleApi(
            "Cloud Monitoring",
            clients.endpoint_label(cfg.monitoring_endpoint, clients.MONITORING_HOST),
            "roles/monitoring.viewer",
            "monitoring.timeSeries.list",
        )
        self.compute_api = GoogleApi(
            "Compute Engine",
            clients.endpoint_label(cfg.compute_endpoint, "compute.googleapis.com"),
            "roles/compute.viewer",
            "compute.instances.list",
        )
        self.bigquery_api = GoogleApi(
            "BigQuery",
            clients.endpoint_label(cfg.bigquery_endpoint, "bigquery.googleapis.com"),
            "roles/bigquery.dataViewer on the billing dataset and roles/bigquery.jobUser on the job project",
            "bigquery.tables.getData, bigquery.jobs.create",
        )
        # Cloud Monitoring shows a sample up to 240 s after it was taken, so the newest aligned period of one run
        # may be incomplete: the next run reads it again (ingest upserts)
        self.metrics_lookback = timedelta(seconds=cfg.alignment_period_seconds + 240)
        self._labels: dict[str, dict[str, str]] = {}  # instance id -> series labels, from the last discover()
        self._reads = 0  # Cloud Monitoring read calls (pages) since the last take_usage
        self._billed: list[int] = []  # bytes billed of each billing query since the last take_usage

    # -- clients, built on first use so that constructing a collector never touches the network ----------------
    @cached_property
    def credentials(self) -> Credentials:
        return clients.load_credentials(self.cfg)

    @cached_property
    def metric_client(self) -> monitoring_v3.MetricServiceClient:
        return clients.monitoring_client(self.cfg, self.credentials)

    @cached_property
    def instances_client(self) -> compute_v1.InstancesClient:
        return clients.instances_client(self.cfg, self.credentials)

    @cached_property
    def catalog(self) -> Catalog:
        return self._catalog or Catalog.load()

    @property
    def job_project(self) -> str:
        table_project, _, _ = billing.parse_table(self.cfg.billing_table or "")
        return self.cfg.billing_job_project or table_project

    @cached_property
    def bigquery_client(self) -> bigquery.Client:
        return clients.bigquery_client(self.cfg, self.credentials, self.job_project)

    def _projects(self) -> list[str]:
        if not self.cfg.projects:
            raise CollectorError(f"{self.name}: no projects configured; list project ids under gcp.projects")
        return self.cfg.projects

    # -- Collector ------------------------------------------------------------------------------------------------
    def check(self) -> None:
        """One cheap call per API and project: a one-instance page, a headers-only series page, a dry run."""
        until = datetime.now(UTC).replace(microsecond=0)
        timeout = self.cfg.timeout_seconds
        for project in self._projects():
            with translated(self.compute_api, call="instances.aggregatedList", scope=f"project {project}"):
                pager = self.instances_client.aggregated_list(
                    request=compute_v1.AggregatedListInstancesRequest(project=project, max_results=1),
                    retry=self.retry,
                    timeout=timeout,
                )
                del pager  # the first page was fetched when the pager was made
            spec = monitoring.METRIC_SPECS[0]
            request = monitoring.list_request(
                project, spec, until - CHECK_WINDOW, until, self.cfg.alignment_period_seconds, page_size=1, headers=True
            )
            with translated(self.monitoring_api, call="projects.timeSeries.list", scope=f"project {project}"):
                self.metric_client.list_time_series(request=request, retry=self.retry, timeout=timeout)
                self._count_read()  # a read call like any other, made at the start of every run
        if self.cfg.billing_table:  # validates the table, the columns and both permissions; free of charge
            with translated(self.bigquery_api, call="jobs.insert (dry run)", scope=self._billing_scope()):
                self._dry_run(until - CHECK_WINDOW, until)

    def _dry_run(self, since: datetime, until: datetime) -> int:
        config = billing.query_config(since, until, maximum_bytes_billed=self.cfg.maximum_bytes_billed, dry_run=True)
        return billing.dry_run_bytes(self.bigquery_client, billing.billing_query(str(self.cfg.billing_table)), config,
                                     retry=self.retry, timeout=self.cfg.timeout_seconds)  # fmt: skip

    def _reads_usage(self, calls: int) -> ApiUsage:
        price = self.cfg.prices.monitoring_read_usd_per_1000_calls / 1000
        return ApiUsage("metrics", MONITORING_READ, calls, calls, "request", price)

    def _query_usage(self, queries: int, billed: int) -> ApiUsage:
        return ApiUsage("costs", BIGQUERY_QUERY, queries, billed, "byte",
                        self.cfg.prices.bigquery_usd_per_tib / Decimal(billing.TIB))  # fmt: skip

    def estimate_run(self, interval: timedelta) -> list[ApiUsage]:
        """Cloud Monitoring: per project, check()'s one-page read that starts every run, then each metric's list
        request over an incremental window (interval + look-back), in the pages collect_metrics fetches for the
        instances discovered now (discovery is free). The billing query of a scheduled cost run, priced by the bytes
        a dry run says it would bill."""
        period = self.cfg.alignment_period_seconds
        points = monitoring.points_per_series(int((interval + self.metrics_lookback).total_seconds()), period)
        calls = 0
        for project in self._projects():
            with translated(self.compute_api, call="instances.aggregatedList", scope=f"project {project}"):
                series = sum(1 for _ in discovery.list_instances(self.instances_client, project, retry=self.retry))
            calls += CHECK_READS + len(monitoring.METRIC_SPECS) * monitoring.list_calls(series, points)
        out = [self._reads_usage(calls)]
        if not self.cfg.billing_table:
            return out
        until = self.clock()
        since = until - self.stream_cadence.get("costs", interval)
        start = billing.cost_window(since, until, history_days=self.cfg.history_days,
                                    settle_days=self.cfg.settled_after_days)  # fmt: skip
        with translated(self.bigquery_api, call="jobs.insert (dry run)", scope=self._billing_scope()):
            processed = self._dry_run(start, until)
        return [*out, self._query_usage(1, billing.bytes_billed(processed))]

    def take_usage(self) -> list[ApiUsage]:
        """The read calls and billing queries made since the last take, at list price."""
        out = [self._reads_usage(self._reads)] if self._reads else []
        if self._billed:
            out.append(self._query_usage(len(self._billed), sum(self._billed)))
        self._reads, self._billed = 0, []
        return out

    def _count_read(self) -> None:
        self._reads += 1

    def discover(self) -> Iterator[Resource]:
        for project in self._projects():
            found: list[Resource] = []
            with translated(self.compute_api, call="instances.aggregatedList", scope=f"project {project}"):
                for instance in discovery.list_instances(self.instances_client, project, retry=self.retry):
                    found.append(discovery.to_resource(instance, project, self.catalog))
            for resource in found:
                self._labels[resource.resource_id] = {
                    "region": resource.region,
                    "instance_type": resource.instance_type,
                    "environment": resource.environment,
                    "name": resource.name,
                }
            yield from found

    def first_since(self, until: datetime) -> datetime:
        return until - timedelta(days=self.cfg.history_days)

    def collect_metrics(self, since: datetime | None, until: datetime) -> Iterator[SampleBatch]:
        start = since if since is not None else until - timedelta(days=self.cfg.history_days)
        if start >= until:
            return
        period = self.cfg.alignment_period_seconds
        for project in self._projects():
            for spec in monitoring.METRIC_SPECS:
                request = monitoring.list_request(project, spec, start, until, period)
                with translated(self.monitoring_api, call=f"timeSeries.list {spec.metric_type}", scope=project):
                    points = monitoring.fetch_metric(
                        self.metric_client,
                        request,
                        retry=self.retry,
                        timeout=self.cfg.timeout_seconds,
                        on_page=self._count_read,
                    )
                yield from monitoring.to_batches(
                    spec, points, since=start, until=until, period_seconds=period, labels=self._labels, project=project
                )

    def collect_costs(self, since: datetime | None, until: datetime) -> Iterator[CostRecord]:
        if not self.cfg.billing_table:
            return
        start = billing.cost_window(
            since, until, history_days=self.cfg.history_days, settle_days=self.cfg.settled_after_days
        )
        sql = billing.billing_query(self.cfg.billing_table)
        with translated(self.bigquery_api, call="billing export query", scope=self._billing_scope()):
            # materialised inside the guard so that a failure on a later page is translated too
            rows = list(
                billing.run_query(
                    self.bigquery_client,
                    sql,
                    billing.query_config(start, until, maximum_bytes_billed=self.cfg.maximum_bytes_billed),
                    retry=self.retry,
                    timeout=self.cfg.timeout_seconds,
                    on_billed=self._billed.append,
                )
            )
        for row in rows:
            yield billing.to_cost_record(row, source=self.name)

    def _billing_scope(self) -> str:
        return f"table {self.cfg.billing_table} (jobs in project {self.job_project})"
