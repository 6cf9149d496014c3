"""Over the demo fleet: a machine about to saturate fires one capacity alert to Slack and a real Alertmanager and
resolves when its forecast falls; a cost spike fires one cost-anomaly alert. Forecast rows are written directly."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from services.alerting.admin import sync_config
from services.alerting.config import AlertingSettings
from services.alerting.delivery import deliver_channel, due_channel_ids
from services.alerting.safety import UnsafeDestinationError, check_url
from services.alerting.state import evaluate_rule
from services.costs.cost_series import COST_STAT, COST_TOTAL, daily_costs
from services.db.engine import session_scope
from services.db.models import AlertRow, AlertRuleRow, CostRow, ForecastPointRow, ForecastRow, ResourceRow
from services.ingest.ingest import run_collector
from services.ingest.sources import build_collector
from services.metrics import open_metric_store
from services.settings import load_settings
from tests.integration.test_alerting.conftest import alert_settings
from tests.integration.test_alerting.receivers import Receiver

pytestmark = pytest.mark.integration


def write_forecast(session, series_id: str, stat: str, as_of: date, start: datetime, values: list[float],  # type: ignore[no-untyped-def]
                   step: timedelta, band: float) -> None:
    fc = ForecastRow(series_id=series_id, stat=stat, as_of=as_of, model_name="test",
                     step_seconds=int(step.total_seconds()))
    session.add(fc)
    session.flush()
    session.add_all([ForecastPointRow(forecast_id=fc.id, ts=start + i * step, mean=v, lo80=v - band, hi80=v + band,
                                      lo95=v - 2 * band, hi95=v + 2 * band) for i, v in enumerate(values)])


def evaluate_all(db_url: str, settings: AlertingSettings) -> dict[str, tuple[list[str], list[str]]]:
    out = {}
    with session_scope(db_url) as session:
        sync_config(session, settings)
        for rule in session.scalars(select(AlertRuleRow).order_by(AlertRuleRow.id)):
            result = evaluate_rule(session, rule, settings=settings)
            assert not result.error, result.error
            out[rule.name] = (result.fired, result.resolved)
    with session_scope(db_url) as session:
        due = due_channel_ids(session)
    for channel_id in due:
        deliver_channel(db_url, channel_id, settings=settings)
    return out


def am_alerts(url: str, rule: str) -> list[dict[str, object]]:
    alerts = httpx.get(f"{url}/api/v2/alerts", params={"filter": f'alertname="{rule}"'}, timeout=5).json()
    return [a for a in alerts if a["status"]["state"] == "active"]


def test_capacity_and_cost_alerts_over_the_demo(tmp_path: Path, receiver: Receiver, alertmanager_url: str) -> None:
    demo = load_settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'demo.db'}",
                         config_dir=tmp_path / "no-config")
    from services.db.migrate import upgrade

    upgrade(demo.database_url)
    demo.providers.demo.resources, demo.providers.demo.days = 3, 3
    store = open_metric_store(demo.metrics_url)
    run_collector(build_collector(demo, "demo"), db_url=demo.database_url, metric_store=store)
    store.close()
    db = demo.database_url
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    rule = f"cpu-saturation-{uuid.uuid4().hex[:6]}"  # Alertmanager is shared by the session
    with session_scope(db) as session:
        machines = list(session.scalars(select(ResourceRow).order_by(ResourceRow.resource_id)))
        hot, cool = machines[0].resource_id, machines[1].resource_id
        hours = [now + timedelta(hours=h) for h in range(7 * 24)]
        # the hot machine climbs from 60% to 95% over the week; the cool one stays at 30%
        write_forecast(session, f"{hot}/cpu_utilization", "mean", now.date(), hours[0],
                       [60 + 35 * h / len(hours) for h in range(len(hours))], timedelta(hours=1), 4.0)
        write_forecast(session, f"{cool}/cpu_utilization", "mean", now.date(), hours[0], [30.0] * len(hours),
                       timedelta(hours=1), 4.0)
        # the daily cost forecast says yesterday's level continues; today's bill is three times that
        days = daily_costs(session, COST_TOTAL, start=now.date() - timedelta(days=10), end=now.date())
        typical = float(days.iloc[-2])
        spike_day = now.date()
        write_forecast(session, COST_TOTAL, COST_STAT, spike_day - timedelta(days=1),
                       datetime.combine(spike_day, datetime.min.time(), UTC), [typical] * 7, timedelta(days=1),
                       0.05 * typical)
        already = float(days.get(str(spike_day), 0.0)) if len(days) else 0.0
        session.add(CostRow(dedup_key=f"spike-{uuid.uuid4().hex}", source="test", provider="aws",
                            charge_period_start=spike_day, charge_period_end=spike_day + timedelta(days=1),
                            billed_cost=Decimal(str(round(3 * typical - already, 2))),
                            effective_cost=Decimal(str(round(3 * typical - already, 2))),
                            list_cost=Decimal(str(round(3 * typical - already, 2))), service_name="EC2"))
    settings = alert_settings(
        channels=[{"type": "slack", "name": "slack", "webhook_url": f"{receiver.url}/services/T/B/x",
                   "min_interval_seconds": 0.0},
                  {"type": "alertmanager", "name": "am", "url": alertmanager_url}],
        rules=[{"name": rule, "kind": "capacity", "severity": "critical", "channels": ["slack", "am"],
                "params": {"metric": "cpu_utilization", "threshold": 80, "horizon_days": 30, "quantile": "p90"}},
               {"name": "cost-spike", "kind": "cost_anomaly", "channels": ["slack"], "params": {"ratio": 1.5}}],
    )
    fired = evaluate_all(db, settings)
    assert fired == {rule: ([f"{hot}/cpu_utilization"], []), "cost-spike": ([COST_TOTAL], [])}
    bodies = [r.json() for r in receiver.requests]
    assert len(bodies) == 2 and {b["text"].split("\n")[0] for b in bodies} == {
        f"[FIRING] {rule} (critical): 1 firing", "[FIRING] cost-spike (warning): 1 firing"}
    listed = am_alerts(alertmanager_url, rule)
    assert len(listed) == 1 and listed[0]["labels"]["subject"] == f"{hot}/cpu_utilization"
    with pytest.raises(UnsafeDestinationError, match="not https"):  # reachable only because it is allow-listed
        check_url(f"{alertmanager_url}/api/v2/alerts", allowed_hosts=[])

    # evaluated again while nothing changed: no second message (one incident = one alert)
    assert evaluate_all(db, settings) == {rule: ([], []), "cost-spike": ([], [])}
    assert len(receiver.requests) == 2

    # the forecast falls: the alert resolves, Slack hears it once and Alertmanager no longer lists it as active
    with session_scope(db) as session:
        write_forecast(session, f"{hot}/cpu_utilization", "mean", now.date() + timedelta(days=1), hours[0],
                       [50.0] * len(hours), timedelta(hours=1), 4.0)
    assert evaluate_all(db, settings)[rule] == ([], [f"{hot}/cpu_utilization"])
    assert receiver.requests[-1].json()["text"].startswith(f"[RESOLVED] {rule}")
    assert len(receiver.requests) == 3
    assert am_alerts(alertmanager_url, rule) == []
    with session_scope(db) as session:
        states = {a.subject: a.state for a in session.scalars(select(AlertRow))}
    assert states == {f"{hot}/cpu_utilization": "resolved", COST_TOTAL: "firing"}
