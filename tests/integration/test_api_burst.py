"""A burst far beyond the database pool on PostgreSQL: every request is answered, none with a 500.

Before the gate's token checks had threads of their own (api.gate.GATE_THREADS) and requests a bounded number of
sessions (api.deps.SESSION_CONCURRENCY), a burst like this one deadlocked the API process: token checks waiting for
a connection took every thread of the shared pool, while the requests holding the connections waited for a thread
to serialise their answers; the database pool's 30 s timeout then failed them all with 500s."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx

from services.auth import create_token, ensure_user
from services.db.engine import session_scope
from services.db.migrate import upgrade
from testbed.servers import headroom_serve

BURST = 300  # 20 times the database pool of one API process


async def burst(base: str, token: str) -> list[int]:
    limits = httpx.Limits(max_connections=BURST)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, limits=limits,
                                 timeout=120) as client:
        answers = await asyncio.gather(*(client.get("/api/resources") for _ in range(BURST)))
    return [a.status_code for a in answers]


def test_a_burst_beyond_the_pool_is_answered_without_errors(postgres_url: str, tmp_path: Path) -> None:
    upgrade(postgres_url)
    with session_scope(postgres_url) as session:
        user = ensure_user(session, email="burst@localhost", role="viewer")
        token = create_token(session, user=user, name="burst", role="viewer", ttl=timedelta(days=1)).token
    settings = {"HEADROOM_DATA_DIR": str(tmp_path), "HEADROOM_CONFIG_DIR": str(tmp_path),
                "HEADROOM_FRONTEND_DIST": str(tmp_path / "none"), "HEADROOM_DATABASE_URL": postgres_url,
                "HEADROOM_LIMITS__PER_TOKEN": "100000/minute", "HEADROOM_LIMITS__PER_ADDRESS": "100000/minute"}
    log = tmp_path / "serve.log"
    with headroom_serve(settings, log) as (base, _):
        statuses = asyncio.run(burst(base, token))
    assert statuses.count(200) == BURST, f"{sorted(set(statuses))}; see {log}:\n{log.read_text()[-2000:]}"
    assert "QueuePool limit" not in log.read_text()
