"""Per-stream planning and the budget gate: cadence, retry waits, backfill cursors, slowing and refusing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from services.db.models import IngestStreamRow
from services.ingest.spend import budget_gate
from services.ingest.streams import (
    advance_backfill,
    incremental_window,
    plan,
    prepare_backfill,
    record_failure,
    record_success,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SIX_HOURS = timedelta(hours=6)


def row() -> IngestStreamRow:
    return IngestStreamRow(source="aws", stream="costs", failures=0, last_error="", detail={})


def test_a_stream_is_due_at_its_cadence() -> None:
    r = row()
    assert plan(r, SIX_HOURS, NOW).due  # never run
    record_success(r, NOW)
    assert not plan(r, SIX_HOURS, NOW + timedelta(hours=5)).due
    assert plan(r, SIX_HOURS, NOW + SIX_HOURS).due
    assert plan(r, SIX_HOURS, NOW + timedelta(minutes=5), forced=True).due  # a backfill runs every stream


def test_a_failing_stream_waits_twice_as_long_after_each_failure_up_to_a_day() -> None:
    r = row()
    waits = []
    at = NOW
    for _ in range(6):
        record_failure(r, at, SIX_HOURS, "AWS denied ce:GetCostAndUsage")
        assert r.next_due_at is not None
        waits.append(r.next_due_at - at)
        assert not plan(r, SIX_HOURS, r.next_due_at - timedelta(minutes=1)).due
        at = r.next_due_at
    assert waits == [SIX_HOURS, 2 * SIX_HOURS, timedelta(hours=24), timedelta(hours=24), timedelta(hours=24),
                     timedelta(hours=24)]  # fmt: skip
    record_success(r, at)
    assert (r.failures, r.last_error, r.next_due_at) == (0, "", None)


def test_a_stream_without_cadence_retries_after_five_minutes_then_longer() -> None:
    r = row()
    record_failure(r, NOW, timedelta(0), "boom")
    assert r.next_due_at == NOW + timedelta(minutes=5)
    record_failure(r, NOW, timedelta(0), "boom")
    assert r.next_due_at == NOW + timedelta(minutes=10)


def test_a_backfill_is_a_cursor_that_survives_until_its_last_chunk() -> None:
    r = row()
    prepare_backfill(r, NOW, first_since=NOW - timedelta(days=3), backfill=None)
    assert (r.backfill_cursor, r.backfill_until, r.watermark) == (NOW - timedelta(days=3), NOW, None)
    advance_backfill(r, NOW - timedelta(days=2))
    assert r.backfill_cursor == NOW - timedelta(days=2) and r.watermark is None
    prepare_backfill(r, NOW + timedelta(hours=1), first_since=NOW, backfill=None)  # resumed, not restarted
    assert r.backfill_cursor == NOW - timedelta(days=2)
    advance_backfill(r, NOW)
    assert (r.backfill_cursor, r.backfill_until, r.watermark) == (None, None, NOW)
    assert incremental_window(r, NOW + timedelta(minutes=5), timedelta(minutes=10)) == (
        NOW - timedelta(minutes=10), NOW + timedelta(minutes=5))  # fmt: skip


def test_an_asked_backfill_widens_a_pending_one() -> None:
    r = row()
    r.watermark = NOW
    prepare_backfill(r, NOW, first_since=None, backfill=timedelta(days=7))
    prepare_backfill(r, NOW + timedelta(hours=1), first_since=None, backfill=timedelta(days=30))
    assert (r.backfill_cursor, r.backfill_until) == (NOW + timedelta(hours=1) - timedelta(days=30),
                                                     NOW + timedelta(hours=1))  # fmt: skip


def test_the_budget_lets_a_stream_run_when_the_month_can_pay_for_its_cadence() -> None:
    gate = budget_gate(budget=100.0, spent=Decimal("10"), last_run_usd=Decimal("0.01"), cadence=timedelta(minutes=5),
                       last_run_at=NOW - timedelta(minutes=5), now=NOW, stream="metrics")  # fmt: skip
    assert gate.due and gate.reason == ""  # 11 days x 288 runs x $0.01 = $31.68 < $90 left


def test_the_budget_slows_a_stream_then_refuses_it() -> None:
    slowed = budget_gate(budget=20.0, spent=Decimal("10"), last_run_usd=Decimal("0.01"), cadence=timedelta(minutes=5),
                         last_run_at=NOW - timedelta(minutes=5), now=NOW, stream="metrics")  # fmt: skip
    assert not slowed.due and "slowed to one run every 15 min" in slowed.reason  # 15,120 min / 1,000 runs
    refused = budget_gate(budget=20.0, spent=Decimal("19.995"), last_run_usd=Decimal("0.01"),
                          cadence=timedelta(minutes=5), last_run_at=None, now=NOW, stream="metrics")  # fmt: skip
    assert not refused.due and refused.reason.startswith("metrics refused") and "\n" not in refused.reason
    assert budget_gate(budget=None, spent=Decimal("1e6"), last_run_usd=Decimal("1"), cadence=timedelta(0),
                       last_run_at=None, now=NOW, stream="metrics").due  # fmt: skip


def test_a_metric_family_continues_from_the_sources_single_metrics_watermark(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from services.db.engine import session_scope
    from services.db.migrate import upgrade
    from services.ingest.streams import inherit_watermark, load_stream

    db_url = f"sqlite:///{tmp_path / 'h.db'}"
    upgrade(db_url)
    with session_scope(db_url) as session:
        load_stream(session, "aws", "metrics").watermark = NOW  # before metric families had streams of their own
    with session_scope(db_url) as session:
        family = load_stream(session, "aws", "metrics:ec2")
        inherit_watermark(session, family)
        assert family.watermark == NOW  # no new backfill of the history
