"""Inventory of one region: EC2 instances, RDS DB instances, Auto Scaling groups and EBS volumes as Resources.

Facts the Resource record has no field for go into tags under the reserved `headroom:` prefix (AWS tag keys
cannot start with `aws:`, and ours never clash with a user's): headroom:state, headroom:size_gib, ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from collector.aws.errors import AwsCaller

DESCRIBE_INSTANCE_TYPES_MAX = 100  # InstanceTypes accepts at most 100 names per call
ENVIRONMENT_TAG_KEYS = ("environment", "env")


@dataclass(frozen=True)
class InstanceShape:
    vcpus: float
    memory_gib: float
    nitro: bool


@dataclass(frozen=True)
class Found:
    """One discovered thing, before prices are attached: enough to build a Resource and its metric queries."""

    resource_id: str
    kind: str  # vm, database, asg, volume
    name: str
    instance_type: str
    tags: dict[str, str]
    metric_key: str  # the CloudWatch dimension value: InstanceId, DBInstanceIdentifier, ...
    shape: InstanceShape | None = None


def tag_dict(tags: list[dict[str, Any]] | None) -> dict[str, str]:
    """[{'Key': k, 'Value': v}, ...] -> {k: v}."""
    return {str(t["Key"]): str(t.get("Value", "")) for t in tags or []}


def environment_of(tags: dict[str, str]) -> str | None:
    """The value of an `environment` or `env` tag (any case), lowercased; None when untagged."""
    lowered = {k.lower(): v for k, v in tags.items()}
    for key in ENVIRONMENT_TAG_KEYS:
        if lowered.get(key):
            return lowered[key].strip().lower()
    return None


def instance_shapes(ec2: AwsCaller, types: set[str]) -> dict[str, InstanceShape]:
    """vCPUs, memory and hypervisor of each type, from DescribeInstanceTypes (100 names per call)."""
    shapes: dict[str, InstanceShape] = {}
    names = sorted(types)
    for start in range(0, len(names), DESCRIBE_INSTANCE_TYPES_MAX):
        chunk = names[start : start + DESCRIBE_INSTANCE_TYPES_MAX]
        for page in ec2.pages("DescribeInstanceTypes", InstanceTypes=chunk):
            for it in page.get("InstanceTypes", []):
                shapes[it["InstanceType"]] = InstanceShape(
                    vcpus=float(it.get("VCpuInfo", {}).get("DefaultVCpus", 0)),
                    memory_gib=float(it.get("MemoryInfo", {}).get("SizeInMiB", 0)) / 1024.0,
                    nitro=it.get("Hypervisor", "nitro") == "nitro",
                )
    return shapes


def ec2_instances(ec2: AwsCaller) -> list[Found]:
    raw = [i for page in ec2.pages("DescribeInstances") for r in page.get("Reservations", []) for i in r["Instances"]]
    shapes = instance_shapes(ec2, {i["InstanceType"] for i in raw}) if raw else {}
    found = []
    for inst in raw:
        tags = tag_dict(inst.get("Tags"))
        found.append(
            Found(
                resource_id=inst["InstanceId"],
                kind="vm",
                name=tags.get("Name") or inst["InstanceId"],
                instance_type=inst["InstanceType"],
                tags={**tags, "headroom:state": inst.get("State", {}).get("Name", "")},
                metric_key=inst["InstanceId"],
                shape=shapes.get(inst["InstanceType"]),
            )
        )
    return found


def rds_instances(rds: AwsCaller) -> list[Found]:
    found = []
    for page in rds.pages("DescribeDBInstances"):
        for db in page.get("DBInstances", []):
            tags = tag_dict(db.get("TagList"))
            found.append(
                Found(
                    resource_id=db.get("DBInstanceArn") or db["DBInstanceIdentifier"],
                    kind="database",
                    name=db["DBInstanceIdentifier"],
                    instance_type=db["DBInstanceClass"],
                    tags={
                        **tags,
                        "headroom:state": db.get("DBInstanceStatus", ""),
                        "headroom:engine": db.get("Engine", ""),
                        "headroom:storage_gib": str(db.get("AllocatedStorage", "")),
                    },
                    metric_key=db["DBInstanceIdentifier"],
                )
            )
    return found


def auto_scaling_groups(autoscaling: AwsCaller) -> list[Found]:
    found = []
    for page in autoscaling.pages("DescribeAutoScalingGroups"):
        for group in page.get("AutoScalingGroups", []):
            instances = group.get("Instances", [])
            tags = tag_dict(group.get("Tags"))
            found.append(
                Found(
                    resource_id=group.get("AutoScalingGroupARN") or group["AutoScalingGroupName"],
                    kind="asg",
                    name=group["AutoScalingGroupName"],
                    instance_type=next((i["InstanceType"] for i in instances if i.get("InstanceType")), ""),
                    tags={
                        **tags,
                        "headroom:min_size": str(group.get("MinSize", "")),
                        "headroom:max_size": str(group.get("MaxSize", "")),
                        "headroom:desired_capacity": str(group.get("DesiredCapacity", "")),
                        "headroom:instances": str(len(instances)),
                    },
                    metric_key=group["AutoScalingGroupName"],
                )
            )
    return found


def ebs_volumes(ec2: AwsCaller) -> list[Found]:
    found = []
    for page in ec2.pages("DescribeVolumes"):
        for vol in page.get("Volumes", []):
            tags = tag_dict(vol.get("Tags"))
            attached = ",".join(a["InstanceId"] for a in vol.get("Attachments", []) if a.get("InstanceId"))
            found.append(
                Found(
                    resource_id=vol["VolumeId"],
                    kind="volume",
                    name=tags.get("Name") or vol["VolumeId"],
                    instance_type=vol.get("VolumeType", ""),
                    # "available" means unattached: a volume you pay for and nobody uses
                    tags={
                        **tags,
                        "headroom:state": vol.get("State", ""),
                        "headroom:size_gib": str(vol.get("Size", "")),
                        "headroom:attached_to": attached,
                        **({"headroom:iops": str(vol["Iops"])} if vol.get("Iops") else {}),
                    },
                    metric_key=vol["VolumeId"],
                )
            )
    return found


DISCOVERERS: dict[str, tuple[str, Callable[[AwsCaller], list[Found]]]] = {
    # config service name -> (botocore client, discoverer)
    "ec2": ("ec2", ec2_instances),
    "rds": ("rds", rds_instances),
    "asg": ("autoscaling", auto_scaling_groups),
    "ebs": ("ec2", ebs_volumes),
}


def discover_region(services: list[str], caller_for: Callable[[str], AwsCaller]) -> Iterator[Found]:
    """Everything of the configured services in one region."""
    for service in services:
        client, discover = DISCOVERERS[service]
        yield from discover(caller_for(client))
