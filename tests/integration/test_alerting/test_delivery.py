"""The outbox and its worker: order, exactly-once per event id, backoff, Retry-After, dead letters, a killed worker.

"Five minutes down" is scaled down through the backoff settings (base 0.2 s, max 1 s) and a 3-second outage: the
same number of failed attempts and back-offs as a real five-minute outage with the default 30 s base, in seconds.
"""

from __future__ import annotations

import base64
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from services.alerting.config import AlertingSettings
from services.alerting.delivery import deliver_channel, due_channel_ids
from services.alerting.state import enqueue, sample_notification
from services.db.engine import session_scope
from services.db.migrate import upgrade
from services.db.models import AlertChannelRow, AlertDeliveryRow, AlertOutboxRow
from testbed.servers import RedisServer, start_celery_worker, stop_celery_worker
from tests.integration.test_alerting.conftest import alert_settings
from tests.integration.test_alerting.receivers import Answer, Receiver

QUIET = ("--without-gossip", "--without-mingle")

pytestmark = pytest.mark.integration
REDIS_DB = 11
SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def add_webhook(db_url: str, url: str) -> int:
    with session_scope(db_url) as session:
        row = AlertChannelRow(name="hook", type="webhook", config={"type": "webhook", "name": "hook", "url": url,
                                                                  "secrets": [SECRET]})
        session.add(row)
        session.flush()
        return row.id


def enqueue_events(db_url: str, channel_id: int, n: int) -> list[str]:
    with session_scope(db_url) as session:
        channel = session.get(AlertChannelRow, channel_id)
        assert channel is not None
        rows = [enqueue(session, channels=[channel], rule_id=None,
                        notification_for=lambda event_id: sample_notification(channel, event_id))[0] for _ in range(n)]
        return [r.event_id for r in rows]


def drain(db_url: str, settings: AlertingSettings, until: Callable[[], bool], timeout: float = 30) -> None:
    """What beat does: check_for_alert_deliveries every tick, deliver_alert_channel for each due channel."""
    deadline = time.monotonic() + timeout
    while not until() and time.monotonic() < deadline:
        with session_scope(db_url) as session:
            due = due_channel_ids(session)
        for channel_id in due:
            deliver_channel(db_url, channel_id, settings=settings)
        time.sleep(0.05)


def statuses(db_url: str) -> list[str]:
    with session_scope(db_url) as session:
        return list(session.scalars(select(AlertOutboxRow.status).order_by(AlertOutboxRow.id)))


def test_receiver_down_then_back_gets_every_event_once_in_order(db_url: str) -> None:
    receiver = Receiver()
    port = receiver.port
    receiver.stop()  # the receiver is down ...
    channel_id = add_webhook(db_url, f"http://127.0.0.1:{port}/hook")
    ids = enqueue_events(db_url, channel_id, 5)
    settings = alert_settings(max_attempts=50)
    down_until = time.monotonic() + 3.0
    drain(db_url, settings, until=lambda: time.monotonic() > down_until, timeout=10)
    assert statuses(db_url) == ["pending"] * 5  # nothing lost, nothing sent, the head is retrying
    receiver.port = port
    receiver.start()  # ... and back
    try:
        drain(db_url, settings, until=lambda: statuses(db_url) == ["delivered"] * 5)
        assert statuses(db_url) == ["delivered"] * 5
        assert [r.headers["webhook-id"] for r in receiver.requests] == ids  # each once, in order
        for req in receiver.requests:
            Webhook(SECRET).verify(req.body, req.headers)
        with session_scope(db_url) as session:
            log = list(session.scalars(select(AlertDeliveryRow).order_by(AlertDeliveryRow.id)))
        failures = [d for d in log if not d.ok]
        assert len(failures) >= 3 and all("ConnectError" in d.error for d in failures)
        assert [d.attempt for d in log if d.ok][0] == len(failures) + 1 and log[-1].status_code == 200
    finally:
        receiver.stop()


def test_retry_after_is_honoured(db_url: str, receiver: Receiver) -> None:
    receiver.answers.append(Answer(429, headers={"Retry-After": "2"}, body=b"rate limited"))
    channel_id = add_webhook(db_url, f"{receiver.url}/hook")
    [event] = enqueue_events(db_url, channel_id, 1)
    settings = alert_settings()  # backoff alone would retry after ≤ 0.2 s
    drain(db_url, settings, until=lambda: statuses(db_url) == ["delivered"])
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == event
    assert second.at - first.at >= 2.0
    with session_scope(db_url) as session:
        log = list(session.scalars(select(AlertDeliveryRow).order_by(AlertDeliveryRow.id)))
    assert [(d.status_code, d.ok) for d in log] == [(429, False), (200, True)] and "rate limited" in log[0].error


def test_dead_letter_after_the_configured_attempts_then_the_next_event_goes(db_url: str, receiver: Receiver) -> None:
    receiver.answers.extend([Answer(500, body=b"down")] * 3)
    channel_id = add_webhook(db_url, f"{receiver.url}/hook")
    ids = enqueue_events(db_url, channel_id, 2)
    drain(db_url, alert_settings(max_attempts=3), until=lambda: statuses(db_url) == ["dead", "delivered"])
    assert statuses(db_url) == ["dead", "delivered"]
    assert [r.headers["webhook-id"] for r in receiver.requests] == [ids[0]] * 3 + [ids[1]]


def test_slack_gets_at_most_one_message_per_second(db_url: str, receiver: Receiver) -> None:
    with session_scope(db_url) as session:
        row = AlertChannelRow(name="slack", type="slack", config={"type": "slack", "name": "slack",
                                                                 "webhook_url": f"{receiver.url}/services/T/B/x"})
        session.add(row)
        session.flush()
        channel_id = row.id
    enqueue_events(db_url, channel_id, 3)
    report = deliver_channel(db_url, channel_id, settings=alert_settings())
    assert len(report.delivered) == 3
    times = [r.at for r in receiver.requests]
    assert all(b - a >= 0.99 for a, b in zip(times, times[1:], strict=False))


def test_a_worker_killed_mid_send_loses_nothing(tmp_path: Path, make_postgres_db: Callable[[], str],
                                                redis_server: RedisServer, receiver: Receiver) -> None:
    redis_server.flush(REDIS_DB)  # a database of its own: other sessions flush the shared default one
    redis_url = redis_server.url(REDIS_DB)
    db_url = make_postgres_db()
    upgrade(db_url)
    receiver.answers.append(Answer(200, delay=30.0))  # the first request hangs: the worker dies during it
    channel_id = add_webhook(db_url, f"{receiver.url}/hook")
    ids = enqueue_events(db_url, channel_id, 3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADROOM_")} | {
        "HEADROOM_DATABASE_URL": db_url, "HEADROOM_BROKER_URL": redis_url, "HEADROOM_RESULT_BACKEND": redis_url,
        "HEADROOM_DATA_DIR": str(tmp_path / "var"), "HEADROOM_CONFIG_DIR": str(tmp_path / "no-config"),
        "HEADROOM_ALERTS__ALLOWED_HOSTS": '["127.0.0.1"]', "HEADROOM_ALERTS__LEASE_SECONDS": "2",
        "HEADROOM_ALERTS__READ_TIMEOUT_SECONDS": "60", "HEADROOM_ALERTS__BACKOFF_BASE_SECONDS": "0.2",
    }
    from services.alerting import TASK_CHECK_FOR_ALERT_DELIVERIES, TASK_DELIVER_ALERT_CHANNEL
    from services.settings import load_settings
    from services.tasks import make_celery

    app = make_celery(load_settings(broker_url=redis_url, result_backend=redis_url, data_dir=tmp_path / "var"))
    first = start_celery_worker(env, tmp_path / "worker1.log", f"alerts-{time.monotonic_ns()}", extra=QUIET)
    try:
        app.send_task(TASK_DELIVER_ALERT_CHANNEL, args=[channel_id])
        deadline = time.monotonic() + 60
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.1)
        assert receiver.requests, (tmp_path / "worker1.log").read_text()[-2000:]
        os.killpg(first.pid, signal.SIGKILL)  # mid-send: the receiver has the request, the worker never saw a reply
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    assert statuses(db_url)[0] == "sending"
    second = start_celery_worker(env, tmp_path / "worker2.log", f"alerts-{time.monotonic_ns()}", extra=QUIET)
    try:
        deadline = time.monotonic() + 90
        while statuses(db_url) != ["delivered"] * 3 and time.monotonic() < deadline:
            app.send_task(TASK_CHECK_FOR_ALERT_DELIVERIES)  # the beat tick: picks the message up once its lease ends
            time.sleep(1.0)
    finally:
        stop_celery_worker(second)
    assert statuses(db_url) == ["delivered"] * 3, (tmp_path / "worker2.log").read_text()[-2000:]
    redis_server.flush(REDIS_DB)
    seen = [r.headers["webhook-id"] for r in receiver.requests]
    assert seen[0] == ids[0] and list(dict.fromkeys(seen)) == ids, f"{seen=} {ids=}"  # nothing lost, in order
    # the message in flight when the worker died is resent with its webhook-id; every other one goes once
    assert seen.count(ids[0]) == 2 and all(seen.count(i) == 1 for i in ids[1:]), f"{seen=} {ids=}"
