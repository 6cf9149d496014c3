"""The dashboard's component tests (Vitest + Testing Library in jsdom), run as part of `make test`."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from testbed.demo_server import FRONTEND, DemoError, run


def test_vitest_component_tests_pass() -> None:
    if shutil.which("npm") is None:
        pytest.fail("npm is not installed: install Node.js 20+ (make test needs it for the dashboard)")
    env = dict(os.environ)
    try:
        if not (FRONTEND / "node_modules").is_dir():
            run(["npm", "ci", "--no-audit", "--no-fund"], env, FRONTEND)
    except DemoError as exc:
        pytest.fail(str(exc))
    done = subprocess.run(["npx", "vitest", "run", "--reporter=dot"], cwd=FRONTEND, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    print(done.stdout[-4000:])
    assert done.returncode == 0, f"vitest failed:\n{done.stdout[-8000:]}\n{done.stderr[-4000:]}"
