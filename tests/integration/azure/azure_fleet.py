"""The fleet and identities the loopback Azure serves, shared by the fixtures and the tests."""

from __future__ import annotations

from azure_loopback import FakeVm

SUB_A = "00000000-0000-0000-0000-0000000000aa"
SUB_B = "00000000-0000-0000-0000-0000000000bb"
TENANT = "11111111-1111-1111-1111-111111111111"
CLIENT_ID = "22222222-2222-2222-2222-222222222222"
SECRET_ENV = "HEADROOM_TEST_AZURE_SECRET"  # noqa: S105 - a variable name, not a secret
SECRET = "s3cr3t-value-never-printed"  # noqa: S105 - the fake secret tests look for in messages
STORAGE_ID = f"/subscriptions/{SUB_A}/resourcegroups/rg-data/providers/microsoft.storage/storageaccounts/logs01"


def fleet() -> list[FakeVm]:
    """55 VMs in one subscription and region (two getBatch calls, three ARM pages) plus a few elsewhere."""
    vms = [
        FakeVm(SUB_A, "RG-Web", f"web-{i:02d}", "eastus", "Standard_D2s_v3" if i % 2 else "Standard_E4s_v5",
               {"environment": "Staging" if i < 5 else "production", "team": "web"})
        for i in range(55)
    ]  # fmt: skip
    vms += [
        FakeVm(SUB_A, "RG-Batch", f"batch-{i}", "southcentralus", "Standard_D4s_v3", {"env": "dev"}) for i in range(2)
    ]
    vms += [FakeVm(SUB_B, "rg-eu", "eu-api-0", "westeurope", "Standard_E4s_v5", {})]
    return vms
