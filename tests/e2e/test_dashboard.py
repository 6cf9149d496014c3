"""Browser tests of the dashboard against a freshly seeded embedded Headroom (demo data, trained forecasts,
refreshed recommendations): every view, sign-in, filters, drill-down, editor and admin actions, upload,
reports, role checks and an axe-core accessibility check. The browser side is dashboard.e2e.mjs."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from testbed.demo_server import REPO, Demo, DemoError, demo

pytestmark = pytest.mark.e2e
SCRIPT = Path(__file__).with_name("dashboard.e2e.mjs")
# a recommender installed only through its entry point: the Kind filter must offer it (it flags nothing here)
PLUGIN_ENV = {
    "PYTHONPATH": os.pathsep.join(
        p for p in (str(Path(__file__).resolve().parents[1] / "fixtures" / "plugins"), os.environ.get("PYTHONPATH"))
        if p
    ),
    "HEADROOM_RECOMMEND__PLUGINS__BUSY_CPU__THRESHOLD_PERCENT": "100",
}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Demo]:
    try:
        # 13 machines (one of each behaviour, the saturating ones included) over 35 days: enough cost history for
        # the cost forecast behind the executive intervals, and real cases for the runway list
        with demo(tmp_path, resources=13, days=35, extra_env=PLUGIN_ENV) as running:
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
    }
    done = subprocess.run(
        ["node", str(SCRIPT)], env=env, cwd=REPO, capture_output=True, text=True, timeout=420, check=False
    )
    print(done.stdout)
    assert done.returncode == 0, f"browser test failed:\n{done.stdout[-8000:]}\n{done.stderr[-6000:]}"
