"""`headroom demo`, the one-command first look, run whole as a user runs it: it migrates, loads the demo fleet,
trains the default model (the ensemble), refreshes recommendations, serves the API and the dashboard with a worker
and a beat, and stops all of them on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import func, select

from services.db.engine import session_scope
from services.db.models import ForecastRow, RecommendationRow
from services.settings import load_settings
from testbed.servers import free_port, port_open, wait_until

REPO = Path(__file__).resolve().parents[2]
RESOURCES = 2


def test_demo_trains_serves_and_stops_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADROOM_")} | {
        "HEADROOM_DATA_DIR": str(data),
        "HEADROOM_CONFIG_DIR": str(tmp_path / "no-config"),
        "HEADROOM_PROVIDERS__DEMO__DAYS": "4",
    }
    port = free_port()
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        demo = subprocess.Popen([sys.executable, "-m", "cli.main", "demo", "--port", str(port),
                                 "--resources", str(RESOURCES)], env=env,
                                cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: "Headroom is running" in log.read_text() or demo.poll() is not None,
                   what="the demo to serve", timeout=900, log=log)
        text = log.read_text()
        assert demo.poll() is None, text[-3000:]
        assert "forecasts trained" in text and "recommendations refreshed" in text
        token = re.search(r"admin token: (hdr_\S+)", text)
        assert token is not None, text[-3000:]
        base = f"http://127.0.0.1:{port}"
        fleet = httpx.get(f"{base}/api/fleet", headers={"Authorization": f"Bearer {token.group(1)}"}, timeout=30)
        assert fleet.status_code == 200 and fleet.json()["total"] == RESOURCES
        assert any(row["forecast_peak_14d"] is not None for row in fleet.json()["items"])
        assert httpx.get(f"{base}/api/fleet", timeout=30).status_code == 401
        assert "<div id=\"root\">" in httpx.get(base, timeout=30).text  # the built dashboard
        assert token.group(1) not in httpx.get(f"{base}/metrics", timeout=30).text
    finally:
        if demo.poll() is None:
            demo.send_signal(signal.SIGTERM)
        try:
            code = demo.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
            raise
    assert code == 0, log.read_text()[-3000:]
    assert "stopping" in log.read_text()
    assert not port_open(port), "the API went on serving after the demo stopped"
    settings = load_settings(data_dir=data)
    with session_scope(settings.database_url) as session:
        models = set(session.scalars(select(ForecastRow.model_name).distinct()))
        recommendations = session.scalar(select(func.count()).select_from(RecommendationRow))
    assert models == {settings.forecasting.model} == {"ensemble"}
    assert recommendations is not None and recommendations > 0
