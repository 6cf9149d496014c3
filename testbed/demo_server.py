"""A freshly seeded embedded Headroom serving the built dashboard: demo data collected, forecasts trained,
recommendations refreshed, a token per role. Used by the browser tests, scripts/screenshots.py and
bench/dashboard_bench.py, so all three see the same demo."""

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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FRONTEND = REPO / "frontend"
CHROMIUM = Path(os.environ.get("HEADROOM_CHROMIUM", "/usr/bin/chromium"))
HEADROOM = Path(sys.executable).with_name("headroom")
ROLES = ("viewer", "editor", "admin")


class DemoError(RuntimeError):
    """A step of bringing up the demo failed; the message carries the command's output."""


@dataclass(frozen=True)
class Demo:
    url: str
    env: dict[str, str]
    tokens: dict[str, str]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(args: list[str], env: dict[str, str], cwd: Path = REPO, timeout: float = 600) -> str:
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise DemoError(
            f"`{' '.join(args)}` exited {done.returncode}\n--- stdout ---\n{done.stdout[-4000:]}"
            f"\n--- stderr ---\n{done.stderr[-4000:]}"
        )
    return done.stdout


def check_tools() -> None:
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise DemoError(f"{tool} is not installed: install Node.js 20+ (the dashboard needs it)")
    if not CHROMIUM.exists():
        raise DemoError(f"no Chromium at {CHROMIUM}: run `make system-deps` (installs Debian's chromium)")
    if not HEADROOM.exists():
        raise DemoError(f"no `headroom` console script at {HEADROOM}: install the project in the virtualenv")


def ensure_frontend_built(env: dict[str, str]) -> None:
    """`make test` builds the dashboard first; build it here only when a test or script runs on its own."""
    if not (FRONTEND / "node_modules").is_dir():
        run(["npm", "ci", "--no-audit", "--no-fund"], env, FRONTEND)
    if not (FRONTEND / "dist" / "index.html").is_file():
        run(["npm", "run", "build"], env, FRONTEND)


def seed(
    data_dir: Path, *, resources: int = 3, days: int = 10, extra_env: dict[str, str] | None = None
) -> dict[str, str]:
    """Migrate, collect the demo source, train, refresh recommendations; returns the environment used."""
    check_tools()
    extra = extra_env or {}
    # this checkout's code first: the console script may belong to another checkout's editable install
    python_path = os.pathsep.join(p for p in (str(REPO), extra.get("PYTHONPATH"), os.environ.get("PYTHONPATH")) if p)
    env = {
        **os.environ,
        **extra,
        "PYTHONPATH": python_path,
        "HEADROOM_DATA_DIR": str(data_dir),
        "HEADROOM_CONFIG_DIR": str(REPO / "config"),
        "HEADROOM_FRONTEND_DIST": str(FRONTEND / "dist"),
        "HEADROOM_PROVIDERS__DEMO__RESOURCES": str(resources),
        "HEADROOM_PROVIDERS__DEMO__DAYS": str(days),
        # a monthly budget, so the executive view shows spend against it (the demo bills about $12 a day per
        # resource, less its monthly credits: a month's spend comes close to it)
        "HEADROOM_RECOMMEND__BUDGETS__TOTAL": str(400 * resources),
    }
    ensure_frontend_built(env)
    cli = str(HEADROOM)
    run([cli, "migrate"], env, timeout=120)
    run([cli, "collect", "--source", "demo"], env, timeout=600)
    run([cli, "train"], env, timeout=1200)
    run([cli, "recommend", "refresh"], env, timeout=600)
    return env


def issue_tokens(env: dict[str, str]) -> dict[str, str]:
    tokens = {}
    for role in ROLES:
        # one user per role, so a viewer's page names the viewer, not the demo's admin
        args = [str(HEADROOM), "token", "create", "--name", f"demo-{role}", "--role", role, "--email",
                f"demo-{role}@localhost", "--quiet"]
        token = run(args, env).strip()
        if not token.startswith("hdr_"):
            raise DemoError(f"`headroom token create --quiet` printed {token!r}, not a token")
        tokens[role] = token
    return tokens


def _wait_for_health(url: str, server: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise DemoError(f"`headroom serve` exited {server.returncode} before answering:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}api/health", timeout=2) as resp:  # noqa: S310 (loopback URL we built)
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise DemoError(
        f"`headroom serve` did not answer {url}api/health within {timeout:.0f}s:\n{log.read_text()[-4000:]}"
    )


@contextmanager
def serve(env: dict[str, str], log: Path) -> Iterator[str]:
    """`headroom serve` on a free loopback port and one `headroom worker` (ad-hoc forecasts are queued jobs), as
    `headroom demo` runs them; yields the API's URL and stops both afterwards."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    procs: list[subprocess.Popen[bytes]] = []
    with log.open("wb") as out, log.with_name(f"{log.stem}-worker.log").open("wb") as worker_out:
        procs.append(subprocess.Popen([str(HEADROOM), "serve", "--port", str(port)], env=env, cwd=REPO, stdout=out,
                                      stderr=subprocess.STDOUT))
        worker_env = {**env, "HEADROOM_DEPLOY__WORKER_METRICS_PORT": "0"}  # no fixed port: tests run side by side
        procs.append(subprocess.Popen([str(HEADROOM), "worker", "--concurrency", "1"], env=worker_env, cwd=REPO,
                                      stdout=worker_out, stderr=subprocess.STDOUT))
    try:
        _wait_for_health(url, procs[0], log)
        yield url
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


@contextmanager
def demo(
    workdir: Path, *, resources: int = 3, days: int = 10, extra_env: dict[str, str] | None = None
) -> Iterator[Demo]:
    """Seed a demo under workdir and serve it; extra_env is added to every command's environment."""
    env = seed(workdir / "data", resources=resources, days=days, extra_env=extra_env)
    tokens = issue_tokens(env)
    with serve(env, workdir / "serve.log") as url:
        yield Demo(url=url, env=env, tokens=tokens)
