"""The GCP source: Compute Engine instances, Cloud Monitoring metrics and the BigQuery billing export."""

from collector.gcp.collector import GcpCollector

__all__ = ["GcpCollector"]
