"""Browser tests of the dashboard against a freshly seeded embedded Headroom (demo data, trained forecasts,
refreshed recommendations): every view, sign-in, filters, drill-down, editor and admin actions, upload,
reports, role checks and an axe-core accessibility check. The browser side is dashboard.e2e.mjs."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collector.catalog import Catalog
from collector.config import DemoSourceSettings
from collector.demo import DemoCollector
from services.recommend.runway import RunwaySettings
from services.settings import ForecastingSettings
from testbed.demo_server import REPO, Demo, DemoError, demo

pytestmark = pytest.mark.e2e
SCRIPT = Path(__file__).with_name("dashboard.e2e.mjs")
# a recommender installed only through its entry point: the Kind filter must offer it (it flags nothing here)
PLUGIN_ENV = {
    "PYTHONPATH": os.pathsep.join(
        p
        for p in (str(Path(__file__).resolve().parents[1] / "fixtures" / "plugins"), os.environ.get("PYTHONPATH"))
        if p
    ),
    "HEADROOM_RECOMMEND__PLUGINS__BUSY_CPU__THRESHOLD_PERCENT": "100",
}


RESOURCES, DAYS = 13, 35


def demo_truth() -> str:
    """What the demo generator defines, for the browser test to check the runway list against (as JSON): the true
    exhaustion cases a week's forecast can see (a saturating machine within the forecast horizon of its threshold,
    or over it), soonest first, and the machines whose nightly job peaks at the CPU threshold without growing."""
    source = DemoCollector(DemoSourceSettings(resources=RESOURCES, days=DAYS), Catalog.load())
    thresholds = RunwaySettings().thresholds
    reach = ForecastingSettings().horizon_hours / 24.0

    def case(c: Any) -> dict[str, Any]:
        return {"key": c.resource_key, "name": c.machine.name, "metric": c.metric, "days": c.days}

    return json.dumps(
        {
            "running_out": [case(c) for c in source.running_out(thresholds) if c.days is not None and c.days < reach],
            "routine_peaks": [case(c) for c in source.routine_peaks(thresholds)],
        }
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Demo]:
    try:
        # 13 machines (one of each behaviour, the saturating ones included) over 35 days: enough cost history for
        # the cost forecast behind the executive intervals, and real cases for the runway list
        with demo(tmp_path, resources=RESOURCES, days=DAYS, extra_env=PLUGIN_ENV) as running:
            yield running
    except DemoError as exc:
        pytest.fail(str(exc))


def test_dashboard_views_roles_and_actions(served: Demo, tmp_path: Path) -> None:
    env = {
        **served.env,
        "HEADROOM_URL": served.url,
        "HEADROOM_TOKEN": served.tokens["viewer"],
        "HEADROOM_EDITOR_TOKEN": served.tokens["editor"],
        "HEADROOM_ADMIN_TOKEN": served.tokens["admin"],
        "HEADROOM_ARTIFACTS": str(tmp_path / "artifacts"),
        "HEADROOM_DEMO_TRUTH": demo_truth(),
    }
    done = subprocess.run(
        ["node", str(SCRIPT)], env=env, cwd=REPO, capture_output=True, text=True, timeout=420, check=False
    )
    print(done.stdout)
    assert done.returncode == 0, f"browser test failed:\n{done.stdout[-8000:]}\n{done.stderr[-6000:]}"
