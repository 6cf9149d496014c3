"""Virtual machines of a subscription as Resources, sized from the shipped catalog or Azure's resource SKUs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from collector.base import CollectorError
from collector.catalog import Catalog
from collector.records import Resource

log = logging.getLogger(__name__)
PROVIDER = "azure"
ENVIRONMENT_TAGS = ("environment", "env", "stage")


@dataclass(frozen=True)
class VmSize:
    vcpus: float | None
    memory_gib: float | None


def load_catalog() -> Catalog | None:
    """The shipped catalog, or None when it is missing (sizes then come from resource SKUs alone)."""
    try:
        return Catalog.load()
    except CollectorError as exc:
        log.warning("azure: instance catalog unavailable (%s); sizing VMs from resource SKUs only", exc)
        return None


def environment_of(tags: dict[str, str]) -> str:
    lowered = {k.lower(): v for k, v in tags.items()}
    for key in ENVIRONMENT_TAGS:
        if lowered.get(key):
            return lowered[key].strip().lower()
    return "production"


def sku_size(sku: Any) -> VmSize:
    """vCPUs and memory from a ResourceSku's capabilities list."""
    caps = {c.name: c.value for c in (sku.capabilities or []) if c.name}

    def number(name: str) -> float | None:
        try:
            return float(caps[name])
        except (KeyError, TypeError, ValueError):
            return None

    return VmSize(vcpus=number("vCPUs"), memory_gib=number("MemoryGB"))


class VmSizer:
    """Sizes and prices of VM sizes: the catalog first; resource SKUs (one listing per region) for the rest."""

    def __init__(self, catalog: Catalog | None, list_skus: Callable[[str], Iterable[Any]]) -> None:
        self.catalog = catalog
        self._list_skus = list_skus
        self._sizes: dict[str, VmSize] = {}
        if catalog is not None:
            for entry in catalog.select(provider=PROVIDER):
                self._sizes.setdefault(entry.instance_type.lower(), VmSize(entry.vcpus, entry.memory_gib))
        self._regions_listed: set[str] = set()

    def size(self, vm_size: str, region: str) -> VmSize:
        key = vm_size.lower()
        if key not in self._sizes and region not in self._regions_listed:
            self._regions_listed.add(region)
            for sku in self._list_skus(region):
                if (sku.resource_type or "").lower() == "virtualmachines" and sku.name:
                    self._sizes.setdefault(sku.name.lower(), sku_size(sku))
        return self._sizes.get(key, VmSize(None, None))

    def hourly_price(self, vm_size: str, region: str) -> float | None:
        entry = self.catalog.find(PROVIDER, vm_size, region) if self.catalog else None
        return entry.hourly_price if entry else None


def vm_resources(subscription: str, vms: Iterable[Any], sizer: VmSizer, regions: list[str]) -> Iterator[Resource]:
    """Resources for the VMs ARM listed (regions, when given, filter by location)."""
    wanted = {r.lower() for r in regions}
    for vm in vms:
        location = (vm.location or "").lower()
        if wanted and location not in wanted:
            continue
        hardware = vm.hardware_profile
        vm_size = (hardware.vm_size if hardware else None) or ""
        size = sizer.size(vm_size, location) if vm_size else VmSize(None, None)
        tags = {str(k): str(v) for k, v in (vm.tags or {}).items()}
        yield Resource(
            resource_id=vm.id.lower(),  # ARM ids are case-insensitive; Cost Management returns them lower-cased
            provider=PROVIDER,
            name=vm.name or vm.id.rsplit("/", 1)[-1],
            kind="vm",
            account=subscription,
            region=location,
            instance_type=vm_size,
            vcpus=size.vcpus,
            memory_gib=size.memory_gib,
            hourly_price=sizer.hourly_price(vm_size, location) if vm_size else None,
            environment=environment_of(tags),
            tags=tags,
        )
