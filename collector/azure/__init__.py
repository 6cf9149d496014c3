"""Azure source: VMs (Resource Manager), metrics (metrics:getBatch) and costs (Cost Management Query)."""

from .collector import AzureCollector

__all__ = ["AzureCollector"]
