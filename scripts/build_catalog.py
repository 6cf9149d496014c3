"""Build config/catalog/instances.csv from the public price data in ../shared/data (see config/catalog/README.md)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import yaml

COLUMNS = [
    "provider", "instance_type", "family", "vcpus", "memory_gib", "region",
    "hourly_price", "currency", "price_1y", "price_3y", "price_spot", "source",
]  # fmt: skip
HOURS_PER_MONTH = 730  # Cyclenerd's month_* prices are hourly rates x 730

AWS_FILE = "vantage-sh+ec2instances.info/www/instances.json"
AWS_REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
AWS_CATEGORIES = ("General purpose", "Compute optimized", "Memory optimized")
AWS_SOURCE = "vantage-sh/ec2instances.info@94e1f006 www/instances.json linux"

GCP_FILE = "Cyclenerd+google-cloud-pricing-cost-calculator/pricing.yml"
GCP_REGIONS = ("us-central1", "europe-west1")
GCP_FAMILIES = ("e2", "n2", "n2d", "c2")
GCP_SOURCE = "Cyclenerd/google-cloud-pricing-cost-calculator@fd66b26f pricing.yml"

# Azure: the only real VM meter prices in the shared data are two Dv3/Dsv3 rows of cost exports.
AZURE_OBSERVED = (
    # (region, instance_type, vcpus, hourly_price, source)
    (
        "southcentralus", "Standard_D2s_v3", 2, 0.11,
        "microsoft/finops-toolkit@04d370f3 EA_ActualCost_Small.csv: meter 'D2 v3/D2s v3' UnitPrice 0.11 per 1 Hour",
    ),
    (
        "northcentralus", "Standard_D4s_v3", 4, 0.23,
        "project-koku/koku@768be825 azure_version_2.csv: meter 'D4 v3/D4s v3' UnitPrice 0.23 (UnitOfMeasure "
        "'10 Hours' read as per hour); MeterRegion 'US North' mapped to northcentralus (assumption)",
    ),
)  # fmt: skip
AZURE_DV3_VCPUS = (2, 4, 8, 16, 32)
AZURE_DV3_GIB_PER_VCPU = 4  # Dv3/Dsv3 sizes have 4 GiB per vCPU (Azure's published size table)

ONPREM_VCPU_HOUR = 0.020  # USD per vCPU-hour: an assumption, not a measured price
ONPREM_GIB_HOUR = 0.0027  # USD per GiB-hour: an assumption, not a measured price
ONPREM_REGIONS = ("dc-fra1", "dc-ash1")
ONPREM_SIZES = (
    # (instance_type, family, vcpus, memory_gib)
    ("std-2x8", "std", 2, 8), ("std-4x16", "std", 4, 16), ("std-8x32", "std", 8, 32),
    ("std-16x64", "std", 16, 64), ("std-32x128", "std", 32, 128), ("cpu-16x32", "cpu", 16, 32),
    ("cpu-32x64", "cpu", 32, 64), ("mem-8x64", "mem", 8, 64), ("mem-16x128", "mem", 16, 128),
    ("mem-32x256", "mem", 32, 256),
)  # fmt: skip


def _num(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}".rstrip("0").rstrip(".")


def aws_rows(data_dir: Path) -> Iterator[dict[str, object]]:
    """Linux on-demand and 1y/3y standard reserved rates of current-generation general/compute/memory types."""
    instances = json.loads((data_dir / AWS_FILE).read_text())
    for inst in sorted(instances, key=lambda i: i["instance_type"]):
        if inst.get("generation") != "current" or inst.get("family") not in AWS_CATEGORIES:
            continue
        for region in AWS_REGIONS:
            linux = inst.get("pricing", {}).get(region, {}).get("linux", {})
            ondemand = _num(linux.get("ondemand"))
            if ondemand is None:
                continue
            reserved = linux.get("reserved", {})
            yield {
                "provider": "aws",
                "instance_type": inst["instance_type"],
                "family": inst["instance_type"].split(".")[0],
                "vcpus": inst["vCPU"],
                "memory_gib": inst["memory"],
                "region": region,
                "hourly_price": ondemand,
                "price_1y": _num(reserved.get("yrTerm1Standard.noUpfront")),
                "price_3y": _num(reserved.get("yrTerm3Standard.partialUpfront")),
                "price_spot": None,
                "source": f"{AWS_SOURCE}; 1y=yrTerm1Standard.noUpfront 3y=yrTerm3Standard.partialUpfront",
            }


def gcp_rows(data_dir: Path) -> Iterator[dict[str, object]]:
    """Hourly on-demand, spot and 1y/3y committed-use rates of the e2/n2/n2d/c2 machine types."""
    with (data_dir / GCP_FILE).open() as fh:
        pricing = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
    instances = pricing["compute"]["instance"]
    for name in sorted(instances):
        if name.split("-")[0] not in GCP_FAMILIES:
            continue
        spec = instances[name]
        for region in GCP_REGIONS:
            cost = spec.get("cost", {}).get(region)
            if not cost or _num(cost.get("hour")) is None:
                continue
            month_1y, month_3y = _num(cost.get("month_1y")), _num(cost.get("month_3y"))
            yield {
                "provider": "gcp",
                "instance_type": name,
                "family": name.split("-")[0],
                "vcpus": spec["cpu"],
                "memory_gib": spec["ram"],
                "region": region,
                "hourly_price": _num(cost["hour"]),
                "price_1y": None if month_1y is None else month_1y / HOURS_PER_MONTH,
                "price_3y": None if month_3y is None else month_3y / HOURS_PER_MONTH,
                "price_spot": _num(cost.get("hour_spot")),
                "source": f"{GCP_SOURCE}; 1y/3y=month_1y/month_3y divided by {HOURS_PER_MONTH}",
            }


def azure_rows() -> Iterator[dict[str, object]]:
    """Observed Dv3/Dsv3 meter prices, and the other Dsv3 sizes of the same region scaled per vCPU."""
    for region, observed_type, observed_vcpus, observed_price, source in AZURE_OBSERVED:
        per_vcpu = observed_price / observed_vcpus
        for vcpus in AZURE_DV3_VCPUS:
            instance_type = f"Standard_D{vcpus}s_v3"
            if instance_type == observed_type:
                price, row_source = observed_price, f"observed: {source}"
            else:
                price = per_vcpu * vcpus
                row_source = (
                    f"derived: {observed_type} {region} price x {vcpus}/{observed_vcpus} (Dv3 prices scale "
                    f"linearly with vCPUs) from {source}"
                )
            yield {
                "provider": "azure",
                "instance_type": instance_type,
                "family": "Dsv3",
                "vcpus": vcpus,
                "memory_gib": vcpus * AZURE_DV3_GIB_PER_VCPU,
                "region": region,
                "hourly_price": price,
                "price_1y": None,
                "price_3y": None,
                "price_spot": None,
                "source": row_source + f"; memory {AZURE_DV3_GIB_PER_VCPU} GiB/vCPU from Azure's Dsv3 size table",
            }


def onprem_rows() -> Iterator[dict[str, object]]:
    """On-premises sizes priced by the documented per-vCPU-hour and per-GiB-hour rates."""
    for region in ONPREM_REGIONS:
        for instance_type, family, vcpus, memory in ONPREM_SIZES:
            yield {
                "provider": "onprem",
                "instance_type": instance_type,
                "family": family,
                "vcpus": vcpus,
                "memory_gib": memory,
                "region": region,
                "hourly_price": vcpus * ONPREM_VCPU_HOUR + memory * ONPREM_GIB_HOUR,
                "price_1y": None,
                "price_3y": None,
                "price_spot": None,
                "source": (
                    f"assumption: {ONPREM_VCPU_HOUR} USD/vCPU-hour + {ONPREM_GIB_HOUR} USD/GiB-hour "
                    "(config/catalog/README.md)"
                ),
            }


def build(data_dir: Path, out: Path) -> int:
    """Write the catalog CSV and return its row count."""
    rows = [*aws_rows(data_dir), *gcp_rows(data_dir), *azure_rows(), *onprem_rows()]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    **row,
                    "currency": "USD",
                    "vcpus": _fmt(_num(row["vcpus"])),
                    "memory_gib": _fmt(_num(row["memory_gib"])),
                    **{k: _fmt(_num(row[k])) for k in ("hourly_price", "price_1y", "price_3y", "price_spot")},
                }
            )
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    repo = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data_dir", nargs="?", type=Path, default=repo.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=repo / "config" / "catalog" / "instances.csv")
    args = parser.parse_args(argv)
    for needed in (AWS_FILE, GCP_FILE):
        if not (args.data_dir / needed).is_file():
            print(f"error: {args.data_dir / needed} not found; pass the shared data directory", file=sys.stderr)
            return 2
    count = build(args.data_dir, args.out)
    print(f"wrote {count} rows to {args.out} ({args.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
