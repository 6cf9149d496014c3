"""Model artifacts on S3 (s3://bucket/prefix) through boto3, against moto's real server."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.db.engine import session_scope
from services.db.migrate import upgrade
from services.forecasting.registry import NewVersion, S3ArtifactStore, open_artifact_store, register_version, rollback
from services.forecasting.training import latest_forecast

pytestmark = pytest.mark.integration


def test_versions_and_rollback_with_artifacts_on_s3(moto_url: str, aws: Any, tmp_path: Path) -> None:
    aws("s3").create_bucket(Bucket="headroom-models")
    store = open_artifact_store("s3://headroom-models/prod/registry", endpoint_url=moto_url)
    assert isinstance(store, S3ArtifactStore)
    url = f"sqlite:///{tmp_path / 'headroom.db'}"
    upgrade(url)
    first = datetime(2026, 11, 2, tzinfo=UTC)
    for n, mase in enumerate((0.8, 0.9), start=1):  # v1 active, v2 a worse candidate
        new = NewVersion(
            series_id="i-0abc/cpu_utilization", stat="p95", as_of=date(2026, 11, n), model_name="AutoETS",
            params={"state": {"model": "AAN"}}, metrics={"mase": mase}, data_start=first - timedelta(days=7),
            data_end=first, step_seconds=3600,
            points=[{"ts": first + timedelta(hours=h), "mean": 10.0 * n, "lo80": None, "hi80": None, "lo95": None,
                     "hi95": None} for h in range(3)],
        )
        with session_scope(url) as session:
            row = register_version(session, new, artifacts=store)
            assert row.artifact_uri == f"s3://headroom-models/prod/registry/i-0abc%2Fcpu_utilization/p95/v{n}.json"
    listed = aws("s3").list_objects_v2(Bucket="headroom-models", Prefix="prod/registry/")["Contents"]
    assert sorted(o["Key"] for o in listed) == [f"prod/registry/i-0abc%2Fcpu_utilization/p95/v{n}.json" for n in (1, 2)]
    body = aws("s3").get_object(Bucket="headroom-models", Key=listed[1]["Key"])["Body"].read()
    assert json.loads(body)["metrics"]["mase"] == 0.9
    # serving the candidate by hand restores its forecast from the S3 artifact
    with session_scope(url) as session:
        assert rollback(session, "i-0abc/cpu_utilization", "p95", artifacts=store, to_version=2).status == "active"
        served = latest_forecast(session, "i-0abc/cpu_utilization", "p95")
        assert served is not None and [p.mean for p in served.points] == [20.0, 20.0, 20.0]
