"""`headroom serve --workers 2`: two API processes on one port, each answering, each logging as configured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from testbed.servers import headroom_serve

HEADROOM = Path(sys.executable).with_name("headroom")


def children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(c) for c in found]


def test_two_api_processes_share_one_port(tmp_path: Path) -> None:
    settings = {"HEADROOM_DATA_DIR": str(tmp_path), "HEADROOM_CONFIG_DIR": str(tmp_path),
                "HEADROOM_FRONTEND_DIST": str(tmp_path / "none"), "HEADROOM_DEPLOY__LOG_FORMAT": "json"}
    migrate = {k: v for k, v in os.environ.items() if not k.startswith("HEADROOM_")} | settings
    subprocess.run([str(HEADROOM), "migrate"], env=migrate, check=True, capture_output=True, timeout=120)
    log = tmp_path / "serve.log"
    with headroom_serve(settings, log, "--workers", "2") as (base, proc):
        apis = [c for c in children(proc.pid) if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]
        assert len(apis) == 2, f"expected two API processes under {proc.pid}, found {apis}"
        answers = [httpx.get(f"{base}/api/me", timeout=10) for _ in range(20)]  # no token: a 401, logged
        assert {a.status_code for a in answers} == {401}
    lines = [line for line in log.read_text().splitlines() if '"headroom.access"' in line and "/api/me" in line]
    assert lines and all(line.startswith("{") for line in lines)  # each process configured its JSON logging
