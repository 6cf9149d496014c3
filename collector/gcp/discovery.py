"""Compute Engine instances of a project (every zone, one aggregated list) as Resources."""

from __future__ import annotations

import re
from collections.abc import Iterator

from google.api_core.retry import Retry
from google.cloud import compute_v1

from collector.catalog import Catalog, CatalogEntry
from collector.records import Resource

PAGE_SIZE = 500  # the API's maximum for maxResults
ENVIRONMENT_LABELS = ("environment", "env")
# custom-4-16384, n2-custom-8-32768, e2-custom-2-4096-ext: vCPUs then memory in MiB
CUSTOM_TYPE = re.compile(r"^(?:[a-z0-9]+-)?custom-(?P<cpus>\d+)-(?P<mib>\d+)(?:-ext)?$")


def last_segment(url: str) -> str:
    """zones/us-central1-a -> us-central1-a; .../machineTypes/e2-standard-4 -> e2-standard-4."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def zone_region(zone: str) -> str:
    """us-central1-a -> us-central1."""
    return zone.rsplit("-", 1)[0] if zone.count("-") >= 2 else zone


def machine_size(catalog: Catalog, machine_type: str, region: str) -> tuple[float | None, float | None]:
    """(vCPUs, memory GiB) from the catalog (sizes do not depend on region) or a custom type's name."""
    entry: CatalogEntry | None = catalog.find("gcp", machine_type, region)
    if entry is None:
        entry = next((e for e in catalog.select(provider="gcp") if e.instance_type == machine_type), None)
    if entry is not None:
        return entry.vcpus, entry.memory_gib
    custom = CUSTOM_TYPE.match(machine_type)
    if custom:
        return float(custom["cpus"]), round(int(custom["mib"]) / 1024, 3)
    return None, None


def to_resource(instance: compute_v1.Instance, project: str, catalog: Catalog) -> Resource:
    zone = last_segment(instance.zone)
    region = zone_region(zone)
    machine_type = last_segment(instance.machine_type)
    labels = dict(instance.labels)
    environment = next((labels[k] for k in ENVIRONMENT_LABELS if labels.get(k)), "production")
    vcpus, memory_gib = machine_size(catalog, machine_type, region)
    entry = catalog.find("gcp", machine_type, region)
    # label keys cannot contain ':' in GCP, so these never collide with a user's labels
    tags = {**labels, "gcp:zone": zone, "gcp:status": instance.status}
    return Resource(
        resource_id=str(instance.id),
        provider="gcp",
        name=instance.name,
        kind="vm",
        account=project,
        region=region,
        instance_type=machine_type,
        vcpus=vcpus,
        memory_gib=memory_gib,
        hourly_price=entry.hourly_price if entry else None,
        environment=environment,
        tags=tags,
    )


def list_instances(
    client: compute_v1.InstancesClient, project: str, *, retry: Retry, page_size: int = PAGE_SIZE
) -> Iterator[compute_v1.Instance]:
    """Every instance of the project, following nextPageToken; each page is retried on throttling."""
    request = compute_v1.AggregatedListInstancesRequest(project=project, max_results=page_size)
    for _scope, scoped in client.aggregated_list(request=request, retry=retry):
        yield from scoped.instances
