"""The offline instance catalog: sizes and hourly prices per (provider, instance type, region)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from collector.base import CollectorError

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "config" / "catalog" / "instances.csv"
COLUMNS = (
    "provider", "instance_type", "family", "vcpus", "memory_gib", "region",
    "hourly_price", "currency", "price_1y", "price_3y", "price_spot", "source",
)  # fmt: skip


@dataclass(frozen=True)
class CatalogEntry:
    """One instance type in one region: its size and hourly prices (on-demand, 1y/3y commitment, spot)."""

    provider: str
    instance_type: str
    family: str
    vcpus: float
    memory_gib: float
    region: str
    hourly_price: float
    currency: str = "USD"
    price_1y: float | None = None
    price_3y: float | None = None
    price_spot: float | None = None
    source: str = ""


class Catalog:
    """Catalog entries with lookups by (provider, instance_type, region)."""

    def __init__(self, entries: list[CatalogEntry]) -> None:
        self.entries: tuple[CatalogEntry, ...] = tuple(entries)
        self._by_key = {(e.provider, e.instance_type, e.region): e for e in self.entries}

    @classmethod
    def load(cls, path: Path | str | None = None) -> Catalog:
        """Read a catalog CSV (default: config/catalog/instances.csv of this checkout)."""
        path = Path(path) if path is not None else DEFAULT_PATH
        try:
            with path.open(newline="") as fh:
                reader = csv.DictReader(fh)
                missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
                if missing:
                    raise CollectorError(
                        f"{path}: missing columns {', '.join(missing)}; rebuild it with scripts/build_catalog.py"
                    )
                entries = [_parse_row(path, line, row) for line, row in enumerate(reader, start=2)]
        except FileNotFoundError:
            raise CollectorError(f"{path}: catalog not found; build it with scripts/build_catalog.py") from None
        if not entries:
            raise CollectorError(f"{path}: catalog has no rows; rebuild it with scripts/build_catalog.py")
        return cls(entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[CatalogEntry]:
        return iter(self.entries)

    def find(self, provider: str, instance_type: str, region: str) -> CatalogEntry | None:
        """The entry for this type in this region, or None."""
        return self._by_key.get((provider, instance_type, region))

    def get(self, provider: str, instance_type: str, region: str) -> CatalogEntry:
        """The entry for this type in this region; KeyError naming what is missing otherwise."""
        entry = self.find(provider, instance_type, region)
        if entry is None:
            raise KeyError(f"no catalog entry for {provider} {instance_type} in {region}")
        return entry

    def select(self, provider: str | None = None, region: str | None = None) -> list[CatalogEntry]:
        """Entries of one provider and/or region, in catalog order."""
        return [
            e
            for e in self.entries
            if (provider is None or e.provider == provider) and (region is None or e.region == region)
        ]

    def regions(self, provider: str) -> list[str]:
        """Regions that have at least one entry for this provider, sorted."""
        return sorted({e.region for e in self.entries if e.provider == provider})


def _parse_row(path: Path, line: int, row: dict[str, str]) -> CatalogEntry:
    def number(column: str, required: bool = True) -> float | None:
        text = (row.get(column) or "").strip()
        if not text and not required:
            return None
        try:
            return float(text)
        except ValueError:
            raise CollectorError(f"{path}:{line}: column {column} must be a number (got {text!r})") from None

    return CatalogEntry(
        provider=row["provider"],
        instance_type=row["instance_type"],
        family=row["family"],
        vcpus=number("vcpus") or 0.0,
        memory_gib=number("memory_gib") or 0.0,
        region=row["region"],
        hourly_price=number("hourly_price") or 0.0,
        currency=row["currency"] or "USD",
        price_1y=number("price_1y", required=False),
        price_3y=number("price_3y", required=False),
        price_spot=number("price_spot", required=False),
        source=row["source"],
    )
