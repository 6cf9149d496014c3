"""AWS discovery against moto's server: EC2 (several types), RDS, Auto Scaling groups, EBS; prices; roles."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_fault_proxy import Canned, FaultProxy, json_reply

from collector.aws import AwsCollector
from collector.aws.pricing import product_filters
from collector.records import Resource

pytestmark = pytest.mark.integration


def seed_fleet(aws: Any) -> dict[str, Any]:
    ec2 = aws("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]

    def run(instance_type: str, count: int, tags: dict[str, str]) -> list[str]:
        spec = [{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
        reply = ec2.run_instances(
            ImageId=image, MinCount=count, MaxCount=count, InstanceType=instance_type,
            **({"TagSpecifications": spec} if tags else {}),
        )  # fmt: skip
        return [i["InstanceId"] for i in reply["Instances"]]

    web = run("c5.large", 2, {"Name": "web", "environment": "Staging", "team": "shop"})
    batch = run("m4.xlarge", 1, {"Name": "batch", "env": "prod"})
    bare = run("t2.micro", 1, {})
    ec2.stop_instances(InstanceIds=bare)
    orphan = ec2.create_volume(
        Size=100, AvailabilityZone="us-east-1a", VolumeType="gp3",
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": "orphan-data"}]}],
    )["VolumeId"]  # fmt: skip
    aws("rds").create_db_instance(
        DBInstanceIdentifier="orders-db", DBInstanceClass="db.m4.large", Engine="postgres", AllocatedStorage=50,
        MasterUsername="admin", MasterUserPassword="not-a-secret-1",
        Tags=[{"Key": "team", "Value": "payments"}, {"Key": "Environment", "Value": "production"}],
    )  # fmt: skip
    ec2.create_launch_template(
        LaunchTemplateName="workers", LaunchTemplateData={"ImageId": image, "InstanceType": "t2.micro"}
    )
    aws("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName="workers", LaunchTemplate={"LaunchTemplateName": "workers", "Version": "$Latest"},
        MinSize=2, MaxSize=4, DesiredCapacity=2, AvailabilityZones=["us-east-1a"],
        Tags=[{"Key": "team", "Value": "batch", "PropagateAtLaunch": True}],
    )  # fmt: skip
    return {"web": web, "batch": batch, "bare": bare, "orphan": orphan}


def by_id(resources: list[Resource]) -> dict[str, Resource]:
    return {r.resource_id: r for r in resources}


def test_discovers_ec2_rds_asg_and_ebs_with_types_sizes_states_and_tags(aws: Any, moto_url: str, make_settings: Any):
    fleet = seed_fleet(aws)
    collector = AwsCollector(make_settings(moto_url))
    collector.check()
    resources = list(collector.discover())
    found = by_id(resources)
    kinds = [r.kind for r in resources]
    # 4 instances of ours + 2 launched by the Auto Scaling group
    assert kinds.count("vm") == 6 and kinds.count("database") == 1 and kinds.count("asg") == 1
    assert all(r.provider == "aws" and r.account == "123456789012" and r.region == "us-east-1" for r in resources)

    web = found[fleet["web"][0]]
    assert (web.name, web.instance_type, web.vcpus, web.memory_gib) == ("web", "c5.large", 2.0, 4.0)
    assert web.environment == "staging" and web.tags["team"] == "shop" and web.tags["headroom:state"] == "running"
    assert web.hourly_price == pytest.approx(0.085)  # pricing off: the shipped catalog's price
    batch = found[fleet["batch"][0]]
    assert (batch.instance_type, batch.vcpus, batch.memory_gib, batch.environment) == ("m4.xlarge", 4.0, 16.0, "prod")
    bare = found[fleet["bare"][0]]
    assert bare.name == bare.resource_id and bare.tags["headroom:state"] in {"stopping", "stopped"}
    assert bare.environment == "production"  # untagged: the domain default

    (db,) = [r for r in resources if r.kind == "database"]
    assert db.name == "orders-db" and db.instance_type == "db.m4.large" and db.resource_id.startswith("arn:aws:rds:")
    assert db.environment == "production" and db.tags["team"] == "payments" and db.tags["headroom:engine"] == "postgres"
    assert (db.vcpus, db.memory_gib) == (2.0, 8.0)  # the size of its EC2 twin, m4.large

    (asg,) = [r for r in resources if r.kind == "asg"]
    assert asg.name == "workers" and asg.instance_type == "t2.micro" and asg.tags["team"] == "batch"
    assert (asg.tags["headroom:min_size"], asg.tags["headroom:max_size"], asg.tags["headroom:instances"]) == (
        "2", "4", "2",
    )  # fmt: skip

    volumes = [r for r in resources if r.kind == "volume"]
    orphan = found[fleet["orphan"]]
    assert orphan.name == "orphan-data" and orphan.instance_type == "gp3"
    assert orphan.tags["headroom:state"] == "available" and orphan.tags["headroom:size_gib"] == "100"
    assert orphan.tags["headroom:attached_to"] == ""
    attached = [v for v in volumes if v.tags["headroom:state"] == "in-use"]
    assert len(attached) == 6 and all(v.tags["headroom:attached_to"].startswith("i-") for v in attached)


def price_list_reply(prices: dict[str, float], requests: list[dict[str, Any]]) -> Any:
    """A Price List GetProducts responder in the documented shape; a known type's price comes on page 2."""

    def respond(body: bytes) -> Canned:
        request = json.loads(body)
        requests.append(request)
        filters = {f["Field"]: f["Value"] for f in request["Filters"]}
        price = prices.get(filters["instanceType"])
        if price is None:
            return json_reply({"FormatVersion": "aws_v1", "PriceList": []})
        if "NextToken" not in request:
            return json_reply({"FormatVersion": "aws_v1", "PriceList": [], "NextToken": "page-2"})
        sku, offer = "SKU123", "JRTCKXETXF"
        product = {
            "product": {"productFamily": "Compute Instance", "sku": sku, "attributes": filters},
            "serviceCode": "AmazonEC2",
            "terms": {"OnDemand": {f"{sku}.{offer}": {
                "offerTermCode": offer, "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z", "termAttributes": {},
                "priceDimensions": {f"{sku}.{offer}.6YS6EN2CT7": {
                    "unit": "Hrs", "beginRange": "0", "endRange": "Inf", "appliesTo": [], "rateCode": "r",
                    "description": "On Demand Linux", "pricePerUnit": {"USD": f"{price:.10f}"},
                }},
            }}},
        }  # fmt: skip
        return json_reply({"FormatVersion": "aws_v1", "PriceList": [json.dumps(product)]})

    return respond


def test_prices_come_from_the_price_list_api_with_the_catalog_as_fallback(
    aws: Any, proxy: FaultProxy, make_settings: Any
) -> None:
    fleet = seed_fleet(aws)
    requests: list[dict[str, Any]] = []
    proxy.answer("GetProducts", price_list_reply({"c5.large": 0.0891}, requests))
    found = by_id(list(AwsCollector(make_settings(proxy.url, pricing=True, services=["ec2"])).discover()))
    assert found[fleet["web"][0]].hourly_price == pytest.approx(0.0891)  # from the API, over two pages
    assert found[fleet["batch"][0]].hourly_price == pytest.approx(0.2)  # the API had none: catalog
    first = {f["Field"]: f["Value"] for f in requests[0]["Filters"]}
    assert requests[0]["ServiceCode"] == "AmazonEC2" and all(f["Type"] == "TERM_MATCH" for f in requests[0]["Filters"])
    assert first == {
        "instanceType": first["instanceType"], "regionCode": "us-east-1", "operatingSystem": "Linux",
        "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used",
    }  # fmt: skip
    # a region outside the US is asked for by its code: the Price List's names differ from botocore's
    ireland = {f["Field"]: f["Value"] for f in product_filters("m5.large", "eu-west-1")}
    assert ireland["regionCode"] == "eu-west-1" and "location" not in ireland
    # one lookup per instance type, however many instances share it
    assert proxy.seen["GetProducts"] == 1 + len({"c5.large", "m4.xlarge", "t2.micro"})


def test_a_failing_price_list_api_falls_back_to_the_catalog_after_one_call(
    aws: Any, proxy: FaultProxy, make_settings: Any
) -> None:
    fleet = seed_fleet(aws)
    proxy.answer(
        "GetProducts", lambda _body: Canned(400, b'{"__type":"AccessDeniedException"}', "application/x-amz-json-1.1")
    )
    found = by_id(list(AwsCollector(make_settings(proxy.url, pricing=True, services=["ec2"])).discover()))
    assert found[fleet["web"][0]].hourly_price == pytest.approx(0.085)
    assert found[fleet["batch"][0]].hourly_price == pytest.approx(0.2)
    assert proxy.seen["GetProducts"] == 1


def test_a_role_is_assumed_through_sts(moto_url: str, make_settings: Any) -> None:
    role = "arn:aws:iam::123456789012:role/headroom-reader"
    collector = AwsCollector(make_settings(moto_url, role_arn=role))
    collector.check()
    assert ":assumed-role/headroom-reader/headroom-collector" in collector.identity_arn
