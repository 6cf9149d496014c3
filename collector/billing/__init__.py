"""Billing files source: FOCUS 1.0-1.2, AWS CUR, Azure cost exports and GCP billing exports as FOCUS costs."""

from collector.billing.collector import BillingFilesCollector
from collector.billing.reader import BillingFileError, read_records

__all__ = ["BillingFilesCollector", "BillingFileError", "read_records"]
