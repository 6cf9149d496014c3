"""AzureCollector: VMs from Resource Manager, metrics from metrics:getBatch, costs from Cost Management."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.core.credentials import TokenCredential
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.costmanagement import CostManagementClient
from azure.monitor.querymetrics import MetricsClient

from collector.base import Collector, CollectorError
from collector.catalog import Catalog
from collector.config import AzureSourceSettings
from collector.records import ApiUsage, CostRecord, Resource, SampleBatch

from .auth import build_credential, client_options
from .costs import COST_TYPES, Page, collect_subscription_costs, query_definition, query_pages
from .discovery import VmSizer, load_catalog, vm_resources
from .errors import COMPUTE, COSTS, METRICS, SKUS, translated
from .metrics import collect_vm_metrics, default_endpoint, planned_calls

PUBLIC_ARM = "https://management.azure.com"
PUBLIC_AUTHORITY = "https://login.microsoftonline.com"
METRICS_BATCH = "monitor:metrics.getBatch"
COST_QUERY = "costmanagement:query (free, throttled)"


class AzureCollector(Collector):
    """Azure VMs, their platform metrics and the subscriptions' daily costs."""

    def __init__(self, cfg: AzureSourceSettings, catalog: Catalog | None = None) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.stream_cadence = cfg.stream_cadence()
        self.monthly_budget_usd = cfg.monthly_budget_usd
        # Azure publishes platform metrics minutes late: each run reads the last interval (at least 10 min) again
        self.metrics_lookback = max(timedelta(minutes=10), timedelta(minutes=cfg.interval_minutes))
        self._catalog = catalog
        self._credential: TokenCredential | None = None
        self._vms: list[Resource] | None = None
        self._calls = {METRICS_BATCH: 0, COST_QUERY: 0}  # calls since the last take_usage

    # -- plumbing ----------------------------------------------------------------------------------------
    @property
    def arm_endpoint(self) -> str:
        return (self.cfg.management_endpoint or PUBLIC_ARM).rstrip("/")

    @property
    def credential(self) -> TokenCredential:
        if self._credential is None:
            self._credential = build_credential(self.cfg)
        return self._credential

    def _arm_options(self) -> dict[str, Any]:
        return {"credential_scopes": [f"{self.arm_endpoint}/.default"], **client_options(self.cfg)}

    def _compute(self, subscription: str) -> ComputeManagementClient:
        return ComputeManagementClient(self.credential, subscription, base_url=self.arm_endpoint, **self._arm_options())

    def _metrics_endpoint(self, region: str) -> str:
        return (self.cfg.metrics_endpoint or default_endpoint(region)).rstrip("/")

    def _require_subscriptions(self) -> list[str]:
        if not self.cfg.subscriptions:
            raise CollectorError(
                f"{self.name}: no subscriptions configured; list them in providers.azure.subscriptions"
            )
        return list(self.cfg.subscriptions)

    # -- Collector -----------------------------------------------------------------------------------------
    def check(self) -> None:
        """Acquire a token, then read the first page of VMs of each subscription."""
        subscriptions = self._require_subscriptions()
        authority = self.cfg.authority_host or PUBLIC_AUTHORITY
        with translated(self.cfg, COMPUTE, subscriptions[0], authority):
            self.credential.get_token(f"{self.arm_endpoint}/.default")
        for subscription in subscriptions:
            with translated(self.cfg, COMPUTE, subscription, self.arm_endpoint), self._compute(subscription) as client:
                next(iter(client.virtual_machines.list_all().by_page()), None)

    def discover(self) -> Iterable[Resource]:
        self._vms = list(self._discover())
        return list(self._vms)

    def _discover(self) -> Iterator[Resource]:
        catalog = self._catalog if self._catalog is not None else load_catalog()
        for subscription in self._require_subscriptions():
            with self._compute(subscription) as client:

                def list_skus(
                    region: str, client: ComputeManagementClient = client, sub: str = subscription
                ) -> list[Any]:
                    with translated(self.cfg, SKUS, sub, self.arm_endpoint):
                        return list(client.resource_skus.list(filter=f"location eq '{region}'"))

                sizer = VmSizer(catalog, list_skus)
                with translated(self.cfg, COMPUTE, subscription, self.arm_endpoint):
                    vms = list(client.virtual_machines.list_all())
                yield from vm_resources(subscription, vms, sizer, self.cfg.regions)

    def _usage(self, api: str, calls: int) -> ApiUsage:
        prices = self.cfg.prices
        if api == METRICS_BATCH:
            return ApiUsage("metrics", api, calls, calls, "request", prices.metrics_usd_per_1000_calls / 1000)
        return ApiUsage("costs", api, calls, calls, "request", prices.cost_query_usd_per_call)

    def estimate_run(self, interval: timedelta) -> list[ApiUsage]:
        """getBatch: the calls collect_metrics makes for the VMs discovered now (discovery is free) over an
        incremental window (interval + look-back); Cost Management: each cost type's first page per subscription
        (free, but throttled; more pages when the answer is longer)."""
        until = self._aligned(self.clock())
        since = self._aligned(until - interval - self.metrics_lookback)
        step = timedelta(minutes=self.cfg.interval_minutes)
        out = [self._usage(METRICS_BATCH, planned_calls(list(self._discover()), since, until, step))]
        if self.cfg.costs:
            out.append(self._usage(COST_QUERY, len(COST_TYPES) * len(self._require_subscriptions())))
        return out

    def take_usage(self) -> list[ApiUsage]:
        """The getBatch calls and Cost Management pages asked for since the last take."""
        out = [self._usage(api, calls) for api, calls in self._calls.items() if calls]
        self._calls = dict.fromkeys(self._calls, 0)
        return out

    def _counted(self, api: str, call: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self._calls[api] += 1
            return call(*args, **kwargs)

        return counted

    def _window_start(self, since: datetime | None, until: datetime) -> datetime:
        return since if since is not None else until - timedelta(days=self.cfg.history_days)

    def first_since(self, until: datetime) -> datetime:
        return until - timedelta(days=self.cfg.history_days)

    def _aligned(self, moment: datetime) -> datetime:
        """Down to a whole interval: a bucket still filling at `until` waits for the next run, never stored short."""
        step = self.cfg.interval_minutes * 60
        return datetime.fromtimestamp(int(moment.timestamp()) // step * step, UTC)

    def collect_metrics(self, since: datetime | None, until: datetime) -> Iterable[SampleBatch]:
        vms = self._vms if self._vms is not None else list(self._discover())
        start, until = self._aligned(self._window_start(since, until)), self._aligned(until)
        if not vms or start >= until:
            return
        clients: dict[str, MetricsClient] = {}

        def query_for_region(region: str) -> Any:
            endpoint = self._metrics_endpoint(region)
            if endpoint not in clients:
                clients[endpoint] = MetricsClient(endpoint, self.credential, **client_options(self.cfg))
            return self._counted(METRICS_BATCH, clients[endpoint].query_resources)

        try:
            for region_vms in _by_subscription(vms):
                sub = region_vms[0].account
                endpoint = self._metrics_endpoint(region_vms[0].region)
                with translated(self.cfg, METRICS, sub, endpoint):
                    yield from collect_vm_metrics(
                        query_for_region,
                        region_vms,
                        start,
                        until,
                        timedelta(minutes=self.cfg.interval_minutes),
                        self.name,
                    )
        finally:
            for client in clients.values():
                client.close()

    def collect_costs(self, since: datetime | None, until: datetime) -> Iterable[CostRecord]:
        if not self.cfg.costs:
            return
        start = self._window_start(since, until)
        settled = until - timedelta(days=self.cfg.settled_after_days)
        first_day = min(start, settled).astimezone(UTC).date()  # recent days change until Azure settles them
        last_day = (until - timedelta(microseconds=1)).astimezone(UTC).date()
        if first_day > last_day:
            return
        for subscription in self._require_subscriptions():
            with (
                translated(self.cfg, COSTS, subscription, self.arm_endpoint),
                CostManagementClient(self.credential, base_url=self.arm_endpoint, **self._arm_options()) as client,
            ):

                def pages_for(
                    cost_type: str, client: CostManagementClient = client, sub: str = subscription
                ) -> Iterator[Page]:
                    for page in query_pages(client, sub, query_definition(cost_type, first_day, last_day)):
                        self._calls[COST_QUERY] += 1
                        yield page

                yield from collect_subscription_costs(pages_for, subscription, first_day, last_day, self.name)


def _by_subscription(vms: Sequence[Resource]) -> Iterator[list[Resource]]:
    """VMs per (subscription, region), so a permission error names the right subscription and endpoint."""
    groups: dict[tuple[str, str], list[Resource]] = {}
    for vm in vms:
        groups.setdefault((vm.account, vm.region), []).append(vm)
    for key in sorted(groups):
        yield groups[key]
