"""AwsCollector: discovery, CloudWatch metrics and Cost Explorer costs of one AWS account over its regions."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from collector.aws import costs, metrics, spend
from collector.aws.discovery import Found, discover_region, environment_of
from collector.aws.errors import AwsCaller
from collector.aws.pricing import PriceBook
from collector.aws.session import COST_EXPLORER_REGION, PRICING_REGION, AwsSessions
from collector.base import Collector, CollectorError
from collector.catalog import Catalog
from collector.config import AwsSourceSettings
from collector.records import METRICS, ApiUsage, CostRecord, Resource, SampleBatch, SeriesRef

log = logging.getLogger(__name__)
PRICED_KINDS = ("vm",)


class AwsCollector(Collector):
    """One AWS account (or the role it assumes), over `cfg.regions`.

    collect_metrics reads whole CloudWatch periods: the period containing `since` is read again, so a
    period cut short by the previous run's end is completed (the stores upsert), and periods still
    running at `until` wait for the next run.
    """

    def __init__(self, cfg: AwsSourceSettings, catalog_loader: Callable[[], Catalog] = Catalog.load) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.stream_cadence = cfg.stream_cadence()
        self.monthly_budget_usd = cfg.monthly_budget_usd
        self.metrics_lookback = metrics.lookback(cfg.metrics_period_seconds)
        self.streams = ("inventory", "metrics", "costs") if cfg.cost_explorer else ("inventory", "metrics")
        # each family its own stream: without cloudwatch:ListMetrics only the agent's memory and disk stop
        wanted = {"ec2": "ec2" in cfg.services, "rds": "rds" in cfg.services, "cwagent": "ec2" in cfg.services}
        self.metric_families = tuple(f for f in metrics.FAMILIES if wanted[f])
        self._notes: set[str] = set()
        self.sessions = AwsSessions(cfg)
        self.prices = PriceBook(self._pricing if cfg.pricing else None, catalog_loader)
        self._account: str | None = None
        self.identity_arn = ""  # who check() found we are: the user, or the assumed role's session
        self._found: dict[str, list[Found]] | None = None  # region -> last discovery
        self._discovery_error: tuple[datetime | None, CollectorError] | None = None  # (run, why) of a failed one

    def _pricing(self) -> AwsCaller:
        return self.sessions.caller("pricing", PRICING_REGION)

    @property
    def account(self) -> str:
        if self._account is None:
            self.check()
        return self._account or ""

    def check(self) -> None:
        """sts:GetCallerIdentity: proves the credential chain, the role and the endpoint before anything is stored."""
        identity = self.sessions.caller("sts", self.cfg.regions[0]).call("GetCallerIdentity")
        self._account = str(identity.get("Account", ""))
        self.identity_arn = str(identity.get("Arn", ""))
        log.info("AWS source %s collects as %s", self.name, self.identity_arn)

    def _callers_in(self, region: str) -> Callable[[str], AwsCaller]:
        return lambda service: self.sessions.caller(service, region)

    # -- inventory -------------------------------------------------------------------------------
    def _discover_all(self) -> dict[str, list[Found]]:
        """Every region's resources; a discovery that failed in this run fails again without asking AWS again."""
        if self._discovery_error is not None and self._discovery_error[0] == self.as_of:
            raise self._discovery_error[1]
        found = {}
        try:
            for region in self.cfg.regions:
                found[region] = list(discover_region(list(self.cfg.services), self._callers_in(region)))
        except CollectorError as exc:
            self._discovery_error = (self.as_of, exc)
            raise
        self._found = found
        return found

    def _resource(self, item: Found, region: str) -> Resource:
        shape = item.shape
        entry = (
            self.prices.catalog_entry(item.instance_type.removeprefix("db."), region) if item.instance_type else None
        )
        env = environment_of(item.tags)
        return Resource(
            resource_id=item.resource_id,
            provider="aws",
            name=item.name,
            kind=item.kind,
            account=self.account,
            region=region,
            instance_type=item.instance_type,
            vcpus=shape.vcpus if shape else (entry.vcpus if entry and item.kind != "volume" else None),
            memory_gib=shape.memory_gib if shape else (entry.memory_gib if entry and item.kind != "volume" else None),
            hourly_price=self.prices.hourly(item.instance_type, region) if item.kind in PRICED_KINDS else None,
            tags=dict(item.tags),
            **({"environment": env} if env else {}),
        )

    def discover(self) -> Iterator[Resource]:
        for region, items in self._discover_all().items():
            for item in items:
                yield self._resource(item, region)

    # -- metrics ---------------------------------------------------------------------------------
    def first_since(self, until: datetime) -> datetime:
        return until - timedelta(days=self.cfg.history_days)

    def metric_chunks(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Pieces that each fit one GetMetricData call per batch, at the period their age allows."""
        found = self._found if self._found is not None else self._discover_all()
        queries = max(metrics.most_queries(items) for items in found.values()) if found else 1
        return metrics.retention_chunks(start, end, self.cfg.metrics_period_seconds, self.clock(), queries)

    def take_usage(self) -> list[ApiUsage]:
        return self.sessions.meter.take()

    def estimate_run(self, interval: timedelta) -> list[ApiUsage]:
        """GetMetricData: the batches of the queries of what is discovered now, each one call per time chunk of an
        incremental window (interval + look-back); ListMetrics as building the queries just made them; Cost
        Explorer: one request a run (two with a tag), more when its answer has more pages."""
        self.sessions.meter.take()  # start from zero
        period = self.cfg.metrics_period_seconds
        window = int((interval + self.metrics_lookback).total_seconds()) // period * period + period
        calls = metric_units = 0
        families: list[tuple[str, ...]] = [(f,) for f in self.metric_families] or [metrics.FAMILIES]  # batched apart
        for (region, items), family in ((r, f) for r in self._discover_all().items() for f in families):
            queries = metrics.build_queries(items, self.sessions.caller("cloudwatch", region), family)
            for batch in metrics.batches(queries):
                chunks = len(list(metrics.time_chunks(0, window, period, len(batch))))
                calls += chunks
                metric_units += chunks * len(batch)
        listed = [u for u in self.sessions.meter.take() if u.api == "cloudwatch:ListMetrics"]
        out = [spend.usage(self.cfg.prices, "cloudwatch", "GetMetricData", calls, metric_units), *listed]
        if self.cfg.cost_explorer:
            requests = 2 if self.cfg.cost_group_by_tag else 1
            out.append(spend.usage(self.cfg.prices, "ce", "GetCostAndUsage", requests, requests))
        return out

    def take_notes(self) -> list[str]:
        notes, self._notes = sorted(self._notes), set()
        return notes

    def collect_metrics(self, since: datetime | None, until: datetime) -> Iterator[SampleBatch]:
        return self._collect(metrics.FAMILIES, since, until)

    def collect_family(self, family: str, since: datetime | None, until: datetime) -> Iterator[SampleBatch]:
        return self._collect((family,), since, until)

    def _collect(self, families: tuple[str, ...], since: datetime | None, until: datetime) -> Iterator[SampleBatch]:
        first = since if since is not None else self.first_since(until)
        period = metrics.retained_period(self.cfg.metrics_period_seconds, first, self.clock())
        if period is None:
            self._notes.add(f"CloudWatch keeps no data older than 455 days: nothing before {until:%Y-%m-%d} was read")
            return
        if period != self.cfg.metrics_period_seconds:
            kept = metrics.kept_days(self.cfg.metrics_period_seconds)
            self._notes.add(f"CloudWatch keeps {self.cfg.metrics_period_seconds} s data for {kept} days: samples "
                            f"older than that were read at {period} s")  # fmt: skip
        start, end = int(first.timestamp()) // period * period, int(until.timestamp()) // period * period
        if end <= start:
            return
        found = self._found if self._found is not None else self._discover_all()
        for region, items in found.items():
            cloudwatch = self.sessions.caller("cloudwatch", region)
            refs = {item.resource_id: item for item in items}
            for batch in metrics.batches(metrics.build_queries(items, cloudwatch, families)):
                for chunk_start, chunk_end in metrics.time_chunks(start, end, period, len(batch)):
                    results = metrics.fetch_batch(cloudwatch, batch, chunk_start, chunk_end, period)
                    for (resource_id, metric), samples in results.items():
                        timestamps, values = samples.arrays()
                        if len(timestamps):
                            yield SampleBatch(self._series(refs[resource_id], metric, region), timestamps, values)

    def _series(self, item: Found, metric: str, region: str) -> SeriesRef:
        labels = {
            "provider": "aws",
            "account": self.account,
            "region": region,
            "instance_type": item.instance_type,
            "environment": environment_of(item.tags) or "production",
            "kind": item.kind,
        }
        return SeriesRef(resource_id=item.resource_id, metric=metric, unit=METRICS[metric], labels=labels)

    # -- costs -----------------------------------------------------------------------------------
    def collect_costs(self, since: datetime | None, until: datetime) -> Iterator[CostRecord]:
        if not self.cfg.cost_explorer:
            return
        start, end = costs.cost_days(
            since, until, settled_after_days=self.cfg.settled_after_days, history_days=self.cfg.history_days
        )
        if end <= start:
            return
        ce = self.sessions.caller("ce", COST_EXPLORER_REGION)
        records = costs.by_service_and_account(ce, start, end, self.name)
        if self.cfg.cost_group_by_tag:
            records = costs.split_by_tag(ce, records, start, end, self.cfg.cost_group_by_tag)
        yield from records
