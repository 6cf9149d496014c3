"""Failures a user can act on: throttling retried (and exhausted), denied actions, missing credentials, no endpoint."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aws_fault_proxy import Canned, FaultProxy, ec2_error, json_error, query_error
from sqlalchemy import func, select

from collector.aws import AwsCollector
from collector.base import (
    CollectorError,
    EndpointUnreachableError,
    MissingCredentialsError,
    ThrottledError,
)
from services.db.engine import session_scope
from services.db.models import IngestStreamRow, ResourceRow
from services.ingest.ingest import run_collector
from services.metrics import SqlMetricStore

pytestmark = pytest.mark.integration
SINCE, UNTIL = datetime(2026, 11, 18, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC)


def check(c: AwsCollector) -> object:
    c.check()
    return c.account


def discover(c: AwsCollector) -> object:
    return list(c.discover())


def costs(c: AwsCollector) -> object:
    return list(c.collect_costs(SINCE, UNTIL))


THROTTLED = [
    pytest.param("GetCallerIdentity", query_error("Throttling", "Rate exceeded"), check, "standard", 2, id="sts-query"),
    pytest.param("DescribeInstances", ec2_error("RequestLimitExceeded", "Request limit exceeded.", 503), discover,
                 "adaptive", 1, id="ec2"),
    pytest.param("DescribeDBInstances", query_error("Throttling", "Rate exceeded"), discover, "standard", 1, id="rds"),
    pytest.param("GetCostAndUsage", json_error("ThrottlingException", "Rate exceeded"), costs, "adaptive", 1,
                 id="ce-json"),
]  # fmt: skip


@pytest.mark.parametrize(("action", "error", "call", "mode", "times"), THROTTLED)
def test_throttled_calls_are_retried_until_they_succeed(
    proxy: FaultProxy, make_settings: Any, action: str, error: Canned, call: Any, mode: str, times: int
) -> None:
    proxy.fail(action, times, error)
    collector = AwsCollector(make_settings(proxy.url, retry_mode=mode, services=["ec2", "rds"]))
    call(collector)  # no exception: the attempt after the throttled ones got through to moto
    assert proxy.seen[action] == times + 1
    assert len(proxy.bodies[action]) == 1  # exactly one request was forwarded


def test_throttling_past_the_last_attempt_is_a_throttled_error(proxy: FaultProxy, make_settings: Any) -> None:
    proxy.fail("GetCallerIdentity", 5, query_error("Throttling", "Rate exceeded"))
    collector = AwsCollector(make_settings(proxy.url, retry={"max_attempts": 2}))
    with pytest.raises(ThrottledError) as caught:
        collector.check()
    message = str(caught.value)
    assert "sts:GetCallerIdentity" in message and "after 2 attempts" in message and "max_attempts" in message
    assert "\n" not in message and proxy.seen["GetCallerIdentity"] == 2


DENIED = [
    pytest.param("DescribeInstances", ec2_error("UnauthorizedOperation", "You are not authorized to perform this "
                 "operation.", 403), "ec2:DescribeInstances", id="ec2"),
    pytest.param("DescribeDBInstances", query_error("AccessDenied", "User: arn:aws:iam::123456789012:user/ro is not "
                 "authorized to perform: rds:DescribeDBInstances", 403), "rds:DescribeDBInstances", id="rds"),
    pytest.param("DescribeAutoScalingGroups", query_error("AccessDenied", "not authorized", 403),
                 "autoscaling:DescribeAutoScalingGroups", id="asg"),
    pytest.param("GetCostAndUsage", json_error("AccessDeniedException", "User is not authorized to perform: "
                 "ce:GetCostAndUsage"), "ce:GetCostAndUsage", id="ce"),
]  # fmt: skip


@pytest.mark.parametrize(("action", "error", "iam_action"), DENIED)
def test_a_denied_action_names_the_permission_and_blocks_only_its_streams(
    proxy: FaultProxy, make_settings: Any, sqlite_stores: tuple[str, SqlMetricStore], action: str, error: Canned,
    iam_action: str,
) -> None:  # fmt: skip
    db_url, store = sqlite_stores
    proxy.fail(action, 50, error)
    collector = AwsCollector(make_settings(proxy.url))
    result = run_collector(collector, db_url=db_url, metric_store=store, until=UNTIL)
    # inventory refused: the metric families have nothing to read either; costs refused: only costs stop
    families = {"metrics:ec2", "metrics:rds", "metrics:cwagent"}
    failed = {"costs"} if action == "GetCostAndUsage" else {"inventory", *families}
    assert set(result.failures) == failed
    for message in result.failures.values():
        assert f"grant the IAM action {iam_action}" in message and "\n" not in message
    assert proxy.seen[action] == 1  # asked once in the run: a denial is not retried, nor asked again by each stream
    with session_scope(db_url) as session:
        streams = {s: session.get(IngestStreamRow, ("aws", s)) for s in ("inventory", "costs", *families)}
        assert {s for s, row in streams.items() if row is not None and row.failures} == failed
        assert all(row is not None and row.watermark is None for s, row in streams.items() if s in failed)
        if action != "GetCostAndUsage":  # inventory is refused before anything is stored
            assert session.scalar(select(func.count()).select_from(ResourceRow)) == 0
        else:
            assert all(streams[f].watermark == UNTIL for f in families)  # type: ignore[union-attr]


def test_no_credentials_anywhere_is_a_missing_credentials_error(
    proxy: FaultProxy, make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(MissingCredentialsError) as caught:
        AwsCollector(make_settings(proxy.url)).check()
    message = str(caught.value)
    assert "AWS_PROFILE" in message and "role_arn" in message and "config/providers.yml" in message
    assert "AWS_ACCESS_KEY_ID" in message and "\n" not in message  # says which chain it tried
    assert sum(proxy.seen.values()) == 0  # nothing was sent


def test_profiles_are_read_from_the_config_file_and_an_unknown_one_is_named(
    proxy: FaultProxy, make_settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret-not-used")
    config = tmp_path / "aws-config"
    config.write_text("[profile reader]\naws_access_key_id = AKIDREADER\naws_secret_access_key = s3cr3t-reader\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    collector = AwsCollector(make_settings(proxy.url, profile="reader"))
    collector.check()
    assert collector.account == "123456789012"
    with pytest.raises(MissingCredentialsError, match="'writer'") as caught:
        AwsCollector(make_settings(proxy.url, profile="writer")).check()
    assert "s3cr3t" not in str(caught.value) and "AKIDREADER" not in str(caught.value)


def test_an_unreachable_endpoint_is_named(make_settings: Any, unused_endpoint: str) -> None:
    with pytest.raises(EndpointUnreachableError) as caught:
        AwsCollector(make_settings(unused_endpoint, retry={"max_attempts": 2})).check()
    assert unused_endpoint in str(caught.value) and "sts:GetCallerIdentity" in str(caught.value)


def test_other_service_errors_are_one_line_collector_errors(proxy: FaultProxy, make_settings: Any) -> None:
    proxy.fail("GetCostAndUsage", 1, json_error("DataUnavailableException", "Data is not available.\nTry later."))
    with pytest.raises(CollectorError) as caught:
        costs(AwsCollector(make_settings(proxy.url, services=[])))
    assert (
        str(caught.value) == "ce:GetCostAndUsage in us-east-1 failed (DataUnavailableException): Data is not "
        "available. Try later."
    )
