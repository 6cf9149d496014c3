"""`headroom demo`: the whole embedded platform on one machine, started and stopped with one command."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta

from rich.console import Console

from services.settings import Settings, redact_url


def _wait_healthy(url: str, procs: list[subprocess.Popen[bytes]], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in procs:
            if p.poll() is not None:
                raise RuntimeError(f"{p.args!r} exited with code {p.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=2) as resp:  # noqa: S310 - our own loopback URL
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the API did not answer at {url}/api/health within {timeout:.0f}s")


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def run_demo(settings: Settings, *, port: int | None, serve: bool, console: Console) -> None:
    from services.auth import create_token, ensure_user
    from services.db.engine import session_scope
    from services.db.migrate import upgrade

    started = time.monotonic()
    console.rule("Headroom demo (embedded mode)")
    upgrade(settings.database_url)
    console.print(f"[green]✓[/green] database ready: {redact_url(settings.database_url)}")
    cmd = [sys.executable, "-m", "cli.main"]
    subprocess.run([*cmd, "collect"], check=True)
    console.print(f"[green]✓[/green] data loaded ({time.monotonic() - started:.0f}s)")
    subprocess.run([*cmd, "train"], check=True)
    console.print(f"[green]✓[/green] forecasts trained ({time.monotonic() - started:.0f}s)")
    subprocess.run([*cmd, "recommend", "refresh"], check=True)
    console.print(f"[green]✓[/green] recommendations refreshed ({time.monotonic() - started:.0f}s)")
    with session_scope(settings.database_url) as session:
        user = ensure_user(session, email="admin@localhost", name="Demo admin", role="admin")
        issued = create_token(session, user=user, name=f"demo {datetime.now(UTC):%Y-%m-%d %H:%M}", role="admin",
                              ttl=timedelta(days=30))
    if not serve:
        console.print(f"admin token: {issued.token}")
        return
    port = port or settings.api_port
    url = f"http://{settings.api_host}:{port}"
    # children get their own session so that Ctrl-C reaches only us, and we stop them in order
    procs = [
        subprocess.Popen([*cmd, "serve", "--port", str(port)], start_new_session=True),
        subprocess.Popen([*cmd, "worker", "--concurrency", "1"], start_new_session=True),
        subprocess.Popen([*cmd, "beat"], start_new_session=True),
    ]
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        _wait_healthy(url, procs)
        console.rule("[bold green]Headroom is running")
        console.print(f"dashboard:   {url}\nAPI docs:    {url}/docs\nadmin token: {issued.token}")
        console.print(f"ready in {time.monotonic() - started:.0f}s — press Ctrl-C to stop everything")
        while all(p.poll() is None for p in procs):
            time.sleep(1)
        raise RuntimeError("a Headroom process stopped unexpectedly; see its output above")
    except KeyboardInterrupt:
        console.print("stopping…")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
