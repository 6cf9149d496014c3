"""Daily cost lines from the Cloud Billing export in BigQuery, as FOCUS-shaped CostRecords."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from google.api_core.retry import Retry
from google.cloud import bigquery

from collector.base import CollectorError
from collector.records import CostRecord

# project.dataset.table; project ids may carry a domain prefix ("example.com:proj")
TABLE_ID = re.compile(r"^(?P<project>[a-z0-9.:\-]+)\.(?P<dataset>\w+)\.(?P<table>\w+)$")
PAGE_SIZE = 10_000
# BigQuery on-demand analysis bills at least 10 MiB per table a query reads (cloud.google.com/bigquery/pricing);
# the price per TiB is a setting (GcpApiPrices.bigquery_usd_per_tib)
MINIMUM_BYTES_BILLED = 10 * 2**20
TIB = 2**40
CHARGE_CATEGORY = {"regular": "Usage", "tax": "Tax", "adjustment": "Adjustment", "rounding_error": "Adjustment"}

# The table name cannot be a query parameter; it is validated against TABLE_ID before it is quoted in.
# NUMERIC sums keep cents exact; credits are negative in the export and keep their sign.
# The export is partitioned by the day rows were written (_PARTITIONTIME), always after their usage: the
# partition filter from the window's first day prunes every older partition (bytes billed) and loses no late rows.
QUERY = """
SELECT
  DATE(usage_start_time) AS usage_date,
  IFNULL(service.description, '') AS service,
  IFNULL(project.id, '') AS project_id,
  IFNULL(location.region, '') AS region,
  {resource_name} AS resource_name,
  IFNULL(cost_type, 'regular') AS cost_type,
  currency,
  SUM(CAST(cost AS NUMERIC)) AS cost,
  SUM(IFNULL((SELECT SUM(CAST(c.amount AS NUMERIC)) FROM UNNEST(credits) AS c), 0)) AS credits
FROM `{table}`
WHERE _PARTITIONTIME >= @partition_from
  AND usage_start_time >= @since AND usage_start_time < @until
GROUP BY usage_date, service, project_id, region, resource_name, cost_type, currency
ORDER BY usage_date
"""


def parse_table(table: str) -> tuple[str, str, str]:
    """(project, dataset, table) of a billing export table id, or CollectorError saying what is expected."""
    match = TABLE_ID.match(table.strip())
    if not match:
        raise CollectorError(
            f"billing_table {table!r} must be project.dataset.table, e.g. my-proj.billing.gcp_billing_export_v1_XXXX"
        )
    return match["project"], match["dataset"], match["table"]


def billing_query(table: str) -> str:
    """The query over the standard or, when the table is one, the detailed (resource-level) export."""
    _project, _dataset, name = parse_table(table)
    detailed = "resource_v1" in name  # only gcp_billing_export_resource_v1_* has the resource column
    return QUERY.format(table=table.strip(), resource_name="IFNULL(resource.name, '')" if detailed else "''")


def cost_window(since: datetime | None, until: datetime, *, history_days: int, settle_days: int) -> datetime:
    """Start of the query window: whole UTC days, reaching back settle_days because the export keeps
    amending recent days (re-fetched days are upserted in place)."""
    start = since if since is not None else until - timedelta(days=history_days)
    start = start.replace(hour=0, minute=0, second=0, microsecond=0)
    return start - timedelta(days=settle_days)


def query_config(
    since: datetime, until: datetime, *, maximum_bytes_billed: int, dry_run: bool = False
) -> bigquery.QueryJobConfig:
    """Parameters of the window; BigQuery fails the job rather than bill more than maximum_bytes_billed."""
    partition_from = since.replace(hour=0, minute=0, second=0, microsecond=0)
    return bigquery.QueryJobConfig(
        query_parameters=[
            bigquery.ScalarQueryParameter("partition_from", "TIMESTAMP", partition_from),
            bigquery.ScalarQueryParameter("since", "TIMESTAMP", since),
            bigquery.ScalarQueryParameter("until", "TIMESTAMP", until),
        ],
        use_legacy_sql=False,
        maximum_bytes_billed=maximum_bytes_billed,
        dry_run=dry_run,
        use_query_cache=not dry_run,
    )


def dry_run_bytes(client: bigquery.Client, sql: str, config: bigquery.QueryJobConfig, *, retry: Retry,
                  timeout: float) -> int:  # fmt: skip
    """Bytes the query would process (a dry run is free and runs nothing)."""
    job = client.query(sql, job_config=config, retry=retry, timeout=timeout, job_retry=None)
    return int(job.total_bytes_processed or 0)


def bytes_billed(processed: int) -> int:
    """What BigQuery bills for a query of the export that processes `processed` bytes."""
    return max(processed, MINIMUM_BYTES_BILLED)


def run_query(
    client: bigquery.Client,
    sql: str,
    config: bigquery.QueryJobConfig,
    *,
    retry: Retry,
    timeout: float,
    on_billed: Callable[[int], None] = lambda billed: None,
) -> Iterator[Mapping[str, Any]]:
    """Run the job and page through its results (each page fetch retried on throttling); then on_billed(the bytes
    the job was billed)."""
    # job_retry=None: the library's default re-submits the job for up to 10 minutes, connection errors included;
    # throttled API calls are retried by `retry`, and a failed job is reported rather than re-run
    job = client.query(sql, job_config=config, retry=retry, timeout=timeout, job_retry=None)
    yield from job.result(page_size=PAGE_SIZE, retry=retry, timeout=timeout)
    billed = job.total_bytes_billed  # None when the job statistics leave it out: then as BigQuery would bill it
    on_billed(int(billed) if billed is not None else bytes_billed(int(job.total_bytes_processed or 0)))


def to_cost_record(row: Mapping[str, Any], *, source: str) -> CostRecord:
    day: date = row["usage_date"]
    cost = Decimal(row["cost"] or 0)
    credits = Decimal(row["credits"] or 0)
    return CostRecord(
        provider="gcp",
        charge_period_start=day,
        charge_period_end=day + timedelta(days=1),
        billed_cost=cost,
        effective_cost=cost + credits,
        list_cost=cost,
        charge_category=CHARGE_CATEGORY.get(row["cost_type"], "Adjustment"),
        service_name=row["service"],
        resource_id=row["resource_name"],
        region_id=row["region"],
        sub_account_id=row["project_id"],
        billing_currency=row["currency"] or "USD",
        source=source,
    )
