"""Stored recommendations on SQLite: realised savings measured from billing, idempotent refresh, the CLI's output."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from services.db.engine import session_scope
from services.ingest.ingest import upsert_costs
from services.recommend.outcomes import VerificationError, verify
from services.recommend.refresh import refresh_recommendations
from services.recommend.store import list_recommendations, transition
from services.settings import Settings, get_settings, load_settings
from tests.integration.recommend_fleet import EXPECTED_OPEN, build_fleet, cost_line, hour_now, write_catalog

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str) -> Settings:
    build_fleet(sqlite_url, hour_now())
    return load_settings(
        data_dir=tmp_path,
        database_url=sqlite_url,
        recommend={"catalog_path": str(write_catalog(tmp_path / "catalog.csv"))},
    )


def test_realised_savings_are_measured_from_billing_after_the_change(settings: Settings) -> None:
    refresh_recommendations(settings)
    url = settings.database_url
    changed = datetime(2026, 6, 10, 12, 0, tzinfo=hour_now().tzinfo)
    with session_scope(url) as session:
        rec = next(r for r in list_recommendations(session, kinds=("rightsize",))[0] if r.resource_key == "aws:i-big")
        transition(session, rec.id, "accepted", actor="t", now=changed)
        transition(session, rec.id, "implemented", actor="t", now=changed)
        rec_id = rec.id
    # 30 days at 0.80 x 24 = 19.20 before, then 4.80 (0.20 x 24) a day; i-idle keeps billing every day
    before = [cost_line(changed.date() - timedelta(days=d), "19.20") for d in range(1, 31)]
    after = [cost_line(changed.date() + timedelta(days=d), "4.80") for d in range(1, 6)]
    others = [cost_line(changed.date() + timedelta(days=d), "2.40", "i-idle") for d in range(1, 6)]
    with session_scope(url) as session:
        upsert_costs(session, "test", before + after[:2] + others[:2])
    with session_scope(url) as session, pytest.raises(VerificationError, match="needs 3\\+ days of cost records"):
        verify(session, rec_id, actor="t", now=changed + timedelta(days=3), min_days=3)
    with session_scope(url) as session:
        upsert_costs(session, "test", after[2:] + others[2:])
    with session_scope(url) as session:
        row = verify(session, rec_id, actor="t", now=changed + timedelta(days=6), min_days=3)
        # (19.20 - 4.80) a day x 730 / 24 = 438.00 a month
        assert row.status == "verified" and row.realised_savings_monthly == pytest.approx(438.0)
        assert row.realised_detail["method"] == "billing" and row.realised_detail["days_after"] == 5


def test_refresh_is_idempotent(settings: Settings) -> None:
    first = refresh_recommendations(settings)
    second = refresh_recommendations(settings)
    assert second.created == 0 and second.removed == 0 and second.updated == first.created
    with session_scope(settings.database_url) as session:
        rows, total = list_recommendations(session, size=1000)
    assert total == first.created == len({r.dedupe_key for r in rows})


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("HEADROOM_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HEADROOM_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HEADROOM_RECOMMEND__CATALOG_PATH", str(settings.recommend.catalog_path))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_cli_refresh_list_show_act_and_summarise(cli_env: CliRunner) -> None:
    from cli.main import cli

    r = cli_env.invoke(cli, ["recommend", "refresh"])
    assert r.exit_code == 0, r.output
    assert "created" in r.output
    r = cli_env.invoke(cli, ["recommend", "list", "--output", "json", "--limit", "500"])
    assert r.exit_code == 0, r.output
    listed = [x for x in json.loads(r.output) if x["kind"] != "runway"]
    assert {x["resource_key"]: (x["kind"], x["monthly_savings_list"]) for x in listed} == EXPECTED_OPEN
    assert all(
        {"coverage_hours", "percentile", "headroom", "projected_utilisation"} <= set(x["evidence"]) for x in listed
    )
    r = cli_env.invoke(cli, ["recommend", "list", "--kind", "idle", "--output", "csv"])
    rows = list(csv.DictReader(io.StringIO(r.output)))
    assert [(x["resource_key"], x["monthly_savings_list"]) for x in rows] == [("aws:i-idle", "73.00")]
    idle = next(x["id"] for x in listed if x["kind"] == "idle")
    r = cli_env.invoke(cli, ["recommend", "show", str(idle)])
    assert r.exit_code == 0 and "73.00 USD/month at list" in r.output
    r = cli_env.invoke(cli, ["recommend", "implement", str(idle)])
    assert r.exit_code == 2 and "open; it cannot become implemented" in r.output
    r = cli_env.invoke(cli, ["recommend", "dismiss", str(idle), "--reason", "a standby, kept on purpose"])
    assert r.exit_code == 0 and "is dismissed" in r.output
    r = cli_env.invoke(cli, ["summary", "--output", "json"])
    summary = json.loads(r.output)
    assert summary["identified_monthly_savings_list"] == pytest.approx(sum(v for _, v in EXPECTED_OPEN.values()) - 73)
    r = cli_env.invoke(cli, ["runway", "--flagged", "--output", "csv"])
    flagged = list(csv.DictReader(io.StringIO(r.output)))
    assert [(x["scope"], x["resource_key"], x["metric"]) for x in flagged] == [
        ("resource", "aws:i-grow", "cpu_utilization")
    ]
    r = cli_env.invoke(cli, ["recommend", "skipped", "--resource", "i-short", "--output", "json"])
    assert any("not enough data" in s["reason"] for s in json.loads(r.output))
    r = cli_env.invoke(cli, ["scenario", "create", "grow", "--growth", "10", "--environment", "staging"])
    assert r.exit_code == 0, r.output
    r = cli_env.invoke(cli, ["scenario", "compare", "1", "--output", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["resources"] == 2
    r = cli_env.invoke(cli, ["scenario", "create", "bad", "--launch", "tomorrow:5"])
    assert r.exit_code == 2 and "is not a date" in r.output


def test_summary_counts_one_saving_per_resource_even_if_two_are_stored(settings: Settings) -> None:
    from services.db.models import RecommendationRow
    from services.recommend.outcomes import summary

    refresh_recommendations(settings)
    with session_scope(settings.database_url) as session:
        # a second saving on i-big, as an older refresh might have left: 400 against the rightsize's 438
        session.add(
            RecommendationRow(
                resource_key="aws:i-big",
                dedupe_key="x" * 64,
                kind="schedule",
                status="open",
                title="t",
                monthly_savings_list=400.0,
                monthly_savings_effective=400.0,
            )
        )
    with session_scope(settings.database_url) as session:
        data = summary(session)
    assert data["not_counted_twice"] == 1
    assert data["identified_monthly_savings_list"] == pytest.approx(sum(v for _, v in EXPECTED_OPEN.values()))
    assert "schedule" not in {k["kind"] for k in data["by_kind"]}


def test_a_stored_forecast_raises_the_container_request(settings: Settings) -> None:
    from tests.integration.recommend_fleet import store_forecast

    # ctr-api requests 2 cores and uses 25% (0.5 cores); its p95 forecast says 50% (1.0 core) within the horizon
    store_forecast(settings.database_url, "ctr-api/cpu_utilization", "p95", hour_now(), step=3600,
                   mean=np.full(48, 50.0), band80=5.0, band95=10.0)  # fmt: skip
    refresh_recommendations(settings)
    with session_scope(settings.database_url) as session:
        (rec,), _ = list_recommendations(session, kinds=("container_rightsize",))
        assert rec.evidence["forecast_peak"] == {"cpu_cores": 1.0}
        assert rec.proposed["cpu_request"] == pytest.approx(1.05)  # max(0.5 observed, 1.0 forecast) x 1.05
        assert any("the stored forecast peaks at 1 cores" in reason for reason in rec.reasons)
