"""Time of evaluating the forecast-based alert rules (capacity, runway, growth) over a synthetic fleet.

    .venv/bin/python bench/alert_evaluation.py --series 500

Each series gets a stored 7-day hourly forecast (a ramp of a different slope); the first evaluation of each rule
creates its alerts, the second finds them unchanged (the steady state of the beat task).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from services.alerting.admin import sync_config
from services.alerting.config import AlertingSettings
from services.alerting.state import evaluate_rule
from services.db.engine import session_scope
from services.db.migrate import upgrade
from services.db.models import AlertRuleRow, ForecastPointRow, ForecastRow, ResourceRow

KINDS = ("capacity", "runway", "growth")


def build_fleet(db_url: str, n: int, now: datetime) -> None:
    with session_scope(db_url) as session:
        for i in range(n):
            session.add(ResourceRow(provider="aws", resource_id=f"i-{i:05d}", name=f"vm-{i}"))
            forecast = ForecastRow(series_id=f"i-{i:05d}/cpu_utilization", stat="mean", as_of=now.date(),
                                   model_name="bench")
            session.add(forecast)
            session.flush()
            slope = (i % 40) / 168
            session.execute(insert(ForecastPointRow), [
                {"forecast_id": forecast.id, "ts": now + timedelta(hours=h), "mean": 50 + slope * h,
                 "lo80": 47 + slope * h, "hi80": 53 + slope * h, "lo95": 44 + slope * h, "hi95": 56 + slope * h}
                for h in range(168)
            ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=500)
    args = parser.parse_args()
    db_url = f"sqlite:///{tempfile.mkdtemp(prefix='headroom-alert-bench-')}/bench.db"
    upgrade(db_url)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    build_fleet(db_url, args.series, now)
    settings = AlertingSettings(rules=[{"name": k, "kind": k, "params": {}} for k in KINDS])
    for label in ("first evaluation", "steady state"):
        with session_scope(db_url) as session:
            sync_config(session, settings)
            for rule in session.scalars(select(AlertRuleRow).order_by(AlertRuleRow.id)):
                started = time.perf_counter()
                result = evaluate_rule(session, rule, settings=settings, now=now)
                took = time.perf_counter() - started
                print(f"{label:16} {rule.kind:9} {args.series} series: {result.findings:5} findings in {took:5.2f} s "
                      f"({took / args.series * 1000:.1f} ms per series)")


if __name__ == "__main__":
    main()
