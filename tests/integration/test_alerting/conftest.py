"""Fixtures of the alerting tests: a migrated SQLite database, settings that allow-list loopback, receivers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from services.alerting.config import AlertingSettings
from services.db.migrate import upgrade
from tests.integration.test_alerting.receivers import Receiver

LOOPBACK = ["127.0.0.1"]


def alert_settings(**overrides: Any) -> AlertingSettings:
    """Loopback allow-listed, short timeouts, and a fast backoff so retries happen within a test."""
    values: dict[str, Any] = {"allowed_hosts": LOOPBACK, "connect_timeout_seconds": 1.0, "read_timeout_seconds": 1.0,
                              "backoff_base_seconds": 0.2, "backoff_max_seconds": 1.0, "max_attempts": 5,
                              "lease_seconds": 3.0}
    return AlertingSettings(**(values | overrides))


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'alerts.db'}"
    upgrade(url)
    return url


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def alertmanager_url() -> Iterator[str]:
    """A real Prometheus Alertmanager (Debian's prometheus-alertmanager) on a free loopback port, data in a temp dir."""
    import tempfile

    import httpx

    from testbed.servers import ensure_binary, free_port, start_process, wait_until

    binary = ensure_binary("prometheus-alertmanager", "prometheus-alertmanager")
    workdir = Path(tempfile.mkdtemp(prefix="headroom-am-"))
    (workdir / "alertmanager.yml").write_text("route:\n  receiver: none\nreceivers:\n  - name: none\n")
    port = free_port()
    server = start_process("alertmanager", [
        binary, f"--config.file={workdir / 'alertmanager.yml'}", f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
    ], workdir, port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{url}/-/ready", timeout=1).status_code == 200, what="alertmanager",
                   timeout=30, log=server.log)
        yield url
    finally:
        server.stop()


@pytest.fixture
def use_alerts_yml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Call it with the text of config/alerts.yml: the process settings then read it, with data under tmp_path."""
    from services.settings import get_settings

    def use(text: str) -> None:
        config = tmp_path / "config"
        config.mkdir(exist_ok=True)
        (config / "alerts.yml").write_text("allowed_hosts: ['127.0.0.1']\n" + text)
        monkeypatch.setenv("HEADROOM_CONFIG_DIR", str(config))
        monkeypatch.setenv("HEADROOM_DATA_DIR", str(tmp_path / "var"))
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()
