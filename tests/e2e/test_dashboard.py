"""Browser test of the dashboard against a freshly seeded embedded Headroom (demo data, trained forecasts)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
FRONTEND = REPO / "frontend"
SCRIPT = Path(__file__).with_name("dashboard.e2e.mjs")
CHROMIUM = Path("/usr/bin/chromium")
HEADROOM = Path(sys.executable).with_name("headroom")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(args: list[str], env: dict[str, str], cwd: Path, timeout: float) -> str:
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        pytest.fail(
            f"`{' '.join(args)}` exited {done.returncode}\n--- stdout ---\n{done.stdout[-4000:]}"
            f"\n--- stderr ---\n{done.stderr[-4000:]}"
        )
    return done.stdout


def _ensure_frontend_built(env: dict[str, str]) -> None:
    """`make test` builds the dashboard first; build it here only when running this test on its own."""
    if (FRONTEND / "dist" / "index.html").is_file():
        return
    if not (FRONTEND / "node_modules").is_dir():
        _run(["npm", "ci"], env, FRONTEND, timeout=600)
    _run(["npm", "run", "build"], env, FRONTEND, timeout=600)


def _wait_for_health(url: str, server: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"`headroom serve` exited {server.returncode} before answering:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}api/health", timeout=2) as resp:  # noqa: S310 (loopback URL we built)
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    pytest.fail(f"`headroom serve` did not answer {url}api/health within {timeout:.0f}s:\n{log.read_text()[-4000:]}")


@pytest.fixture
def seeded_env(tmp_path: Path) -> dict[str, str]:
    """A fresh embedded Headroom: migrated, demo data ingested, forecasts trained."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: install Node.js 20+ (make test needs it for the dashboard)")
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make system-deps` (installs Debian's chromium)")
    if not HEADROOM.exists():
        pytest.fail(f"no `headroom` console script at {HEADROOM}: run `pip install -e .` in the virtualenv")
    env = {
        **os.environ,
        "HEADROOM_DATA_DIR": str(tmp_path / "data"),
        "HEADROOM_CONFIG_DIR": str(REPO / "config"),
        "HEADROOM_FRONTEND_DIST": str(FRONTEND / "dist"),
        "HEADROOM_PROVIDERS__DEMO__RESOURCES": "3",
        "HEADROOM_PROVIDERS__DEMO__DAYS": "10",
    }
    _ensure_frontend_built(env)
    cli = str(HEADROOM)
    _run([cli, "migrate"], env, REPO, timeout=120)
    _run([cli, "collect", "--source", "demo"], env, REPO, timeout=300)
    _run([cli, "train"], env, REPO, timeout=600)
    create = [cli, "token", "create", "--name", "e2e", "--role", "viewer", "--quiet"]
    token = _run(create, env, REPO, timeout=60).strip()
    assert token.startswith("hdr_"), f"`headroom token create --quiet` printed {token!r}, not a token"
    env["HEADROOM_TOKEN"] = token
    return env


@pytest.fixture
def served(seeded_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(HEADROOM), "serve", "--port", str(port)],
            env=seeded_env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_health(url, server, log)
        yield url, seeded_env
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


def test_dashboard_shows_usage_and_forecast_band(served: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    url, env = served
    env = {
        **env,
        "HEADROOM_URL": url,
        "HEADROOM_SCREENSHOT": env.get("HEADROOM_SCREENSHOT") or str(tmp_path / "dashboard.png"),
    }
    done = subprocess.run(
        ["node", str(SCRIPT)], env=env, cwd=REPO, capture_output=True, text=True, timeout=240, check=False
    )
    print(done.stdout)
    assert done.returncode == 0, f"browser test failed:\n{done.stdout[-6000:]}\n{done.stderr[-6000:]}"
