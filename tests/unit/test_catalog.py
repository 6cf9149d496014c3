"""The committed instance catalog: real prices from the public sources, lookups, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.base import CollectorError
from collector.catalog import DEFAULT_PATH, Catalog

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def test_every_provider_is_covered_and_keys_are_unique(catalog: Catalog) -> None:
    assert DEFAULT_PATH == REPO / "config" / "catalog" / "instances.csv"
    assert DEFAULT_PATH.stat().st_size < 1_000_000
    providers = {e.provider for e in catalog}
    assert providers == {"aws", "gcp", "azure", "onprem"}
    keys = [(e.provider, e.instance_type, e.region) for e in catalog]
    assert len(keys) == len(set(keys)) == len(catalog)
    assert catalog.regions("aws") == ["eu-west-1", "us-east-1", "us-west-2"]
    assert catalog.regions("gcp") == ["europe-west1", "us-central1"]
    assert all(e.source and e.currency == "USD" and e.hourly_price > 0 and e.vcpus > 0 for e in catalog)


def test_aws_prices_are_the_ec2instances_info_linux_rates(catalog: Catalog) -> None:
    # www/instances.json @94e1f006: m4.large us-east-1 linux ondemand "0.1", 1y no-upfront "0.062"
    m4 = catalog.get("aws", "m4.large", "us-east-1")
    assert (m4.vcpus, m4.memory_gib, m4.hourly_price, m4.price_1y, m4.price_spot) == (2, 8, 0.1, 0.062, None)
    assert catalog.get("aws", "c5.xlarge", "us-east-1").hourly_price == 0.17
    assert catalog.find("aws", "m1.small", "us-east-1") is None  # previous generation is left out
    assert catalog.find("aws", "p2.xlarge", "us-east-1") is None  # accelerated computing is left out


def test_gcp_prices_are_the_cyclenerd_rates(catalog: Catalog) -> None:
    # pricing.yml: e2-standard-4 us-central1 hour 0.13402284, hour_spot 0.080424, month_1y 61.63709156
    e2 = catalog.get("gcp", "e2-standard-4", "us-central1")
    assert (e2.vcpus, e2.memory_gib, e2.family) == (4, 16, "e2")
    assert e2.hourly_price == pytest.approx(0.13402284, abs=1e-6)
    assert e2.price_spot == pytest.approx(0.080424, abs=1e-6)
    assert e2.price_1y == pytest.approx(61.63709156 / 730, abs=1e-6)
    assert {e.family for e in catalog.select("gcp")} == {"e2", "n2", "n2d", "c2"}


def test_azure_rows_say_which_price_was_observed_and_which_derived(catalog: Catalog) -> None:
    observed = catalog.get("azure", "Standard_D2s_v3", "southcentralus")
    assert observed.hourly_price == 0.11 and observed.source.startswith("observed: microsoft/finops-toolkit")
    derived = catalog.get("azure", "Standard_D8s_v3", "southcentralus")
    assert derived.hourly_price == pytest.approx(0.44) and derived.source.startswith("derived:")
    assert catalog.get("azure", "Standard_D4s_v3", "northcentralus").source.startswith("observed: project-koku")
    assert sum(e.source.startswith("observed") for e in catalog.select("azure")) == 2


def test_onprem_prices_follow_the_documented_rates(catalog: Catalog) -> None:
    rows = catalog.select("onprem")
    assert len(rows) == 20
    for e in rows:
        assert e.hourly_price == pytest.approx(0.020 * e.vcpus + 0.0027 * e.memory_gib, abs=1e-6)
        assert e.source.startswith("assumption:")


def test_lookup_errors_name_what_is_missing(catalog: Catalog) -> None:
    with pytest.raises(KeyError, match="no catalog entry for aws m4.large in mars-north-1"):
        catalog.get("aws", "m4.large", "mars-north-1")


def test_bad_catalog_files_raise_collector_errors(tmp_path: Path) -> None:
    with pytest.raises(CollectorError, match="catalog not found"):
        Catalog.load(tmp_path / "missing.csv")
    header = DEFAULT_PATH.read_text().splitlines()[0]
    bad = tmp_path / "bad.csv"
    bad.write_text(header + "\naws,m4.large,m4,two,8,us-east-1,0.1,USD,,,,x\n")
    with pytest.raises(CollectorError, match=r"bad.csv:2: column vcpus must be a number \(got 'two'\)"):
        Catalog.load(bad)
    bad.write_text("provider,instance_type\naws,m4.large\n")
    with pytest.raises(CollectorError, match="missing columns family"):
        Catalog.load(bad)


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="the shared source data is not on this machine")
def test_committed_catalog_is_what_the_build_script_makes(tmp_path: Path) -> None:
    import runpy

    build = runpy.run_path(str(REPO / "scripts" / "build_catalog.py"))
    out = tmp_path / "instances.csv"
    assert build["main"]([str(SHARED_DATA), "--out", str(out)]) == 0
    assert out.read_text() == DEFAULT_PATH.read_text()
