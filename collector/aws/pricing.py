"""On-demand Linux prices of EC2 instance types: the Price List API first, the shipped catalog as fallback."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from collector.aws.errors import AwsCaller
from collector.base import CollectorError
from collector.catalog import Catalog, CatalogEntry

log = logging.getLogger(__name__)


def product_filters(instance_type: str, region: str) -> list[dict[str, str]]:
    """GetProducts filters selecting the one on-demand, shared-tenancy Linux product of a type in a region."""
    terms = {
        "instanceType": instance_type,
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
    }
    # regionCode is the Price List's own region attribute; its `location` names ("EU (Ireland)") are not botocore's
    # region descriptions ("Europe (Ireland)"), so matching on those silently finds nothing outside the US
    terms["regionCode"] = region
    return [{"Type": "TERM_MATCH", "Field": field, "Value": value} for field, value in terms.items()]


def on_demand_hourly_usd(price_list: list[str]) -> float | None:
    """The hourly USD on-demand price in a GetProducts PriceList (JSON documents as strings), or None."""
    prices = []
    for document in price_list:
        product = json.loads(document) if isinstance(document, str) else document
        for offer in product.get("terms", {}).get("OnDemand", {}).values():
            for dimension in offer.get("priceDimensions", {}).values():
                usd = dimension.get("pricePerUnit", {}).get("USD")
                if usd is not None and dimension.get("unit", "").lower().startswith("hr") and float(usd) > 0:
                    prices.append(float(usd))
    return min(prices) if prices else None


class PriceBook:
    """Hourly prices per (instance type, region), cached for one collector; the first API failure switches
    to the catalog for the rest of the run, so a missing pricing:GetProducts permission costs one call."""

    def __init__(self, pricing: Callable[[], AwsCaller] | None, catalog_loader: Callable[[], Catalog]) -> None:
        self._pricing = pricing
        self._catalog_loader = catalog_loader
        self._catalog: Catalog | None = None
        self._prices: dict[tuple[str, str], float | None] = {}

    def catalog_entry(self, instance_type: str, region: str) -> CatalogEntry | None:
        if self._catalog is None:
            try:
                self._catalog = self._catalog_loader()
            except CollectorError as exc:
                log.warning("instance catalog unavailable: %s", exc)
                self._catalog = Catalog([])
        return self._catalog.find("aws", instance_type, region)

    def hourly(self, instance_type: str, region: str) -> float | None:
        key = (instance_type, region)
        if key not in self._prices:
            price = self._from_api(instance_type, region)
            if price is None:
                entry = self.catalog_entry(instance_type, region)
                price = entry.hourly_price if entry else None
            self._prices[key] = price
        return self._prices[key]

    def _from_api(self, instance_type: str, region: str) -> float | None:
        if self._pricing is None:
            return None
        try:
            caller = self._pricing()
            price_list: list[str] = []
            for page in caller.pages(
                "GetProducts", ServiceCode="AmazonEC2", Filters=product_filters(instance_type, region)
            ):
                price_list.extend(page.get("PriceList", []))
            return on_demand_hourly_usd(price_list)
        except (CollectorError, ValueError, KeyError) as exc:
            log.warning("Price List API unavailable, using the shipped catalog: %s", exc)
            self._pricing = None
            return None
