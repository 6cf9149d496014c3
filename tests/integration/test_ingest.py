"""Ingest is idempotent: re-running a source, or backfilling over stored data, leaves the stores unchanged."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from collector.catalog import Catalog
from collector.config import DemoSourceSettings, FilesSourceSettings
from collector.demo import DemoCollector
from collector.files import FilesCollector
from services.db.engine import session_scope
from services.db.migrate import upgrade
from services.db.models import CostRow, IngestStreamRow, ResourceRow, SourceStatusRow
from services.ingest.ingest import IngestError, run_collector
from services.metrics import MetricStore, open_metric_store

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
NAB = Path(__file__).resolve().parents[1] / "fixtures" / "nab" / "realAWSCloudwatch"


def fingerprint(db_url: str, store: MetricStore) -> dict[str, object]:
    """Everything stored, reduced to counts and a digest of every sample."""
    digest = hashlib.sha256()
    points = 0
    for info in store.series():
        values = store.read(info.series_id, datetime(2000, 1, 1, tzinfo=UTC), NOW + timedelta(days=1))
        points += len(values)
        digest.update(info.series_id.encode())
        digest.update(values.index.asi8.tobytes())
        digest.update(values.to_numpy().round(9).tobytes())
    with session_scope(db_url) as session:
        resources = session.scalar(select(func.count()).select_from(ResourceRow))
        costs = session.scalar(select(func.count()).select_from(CostRow))
        cost_sum = session.scalar(select(func.sum(CostRow.billed_cost)))
    return {"series": len(store.series()), "points": points, "digest": digest.hexdigest(), "resources": resources,
            "costs": costs, "cost_sum": cost_sum}


@pytest.fixture(params=["embedded", "distributed"])
def stores(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "embedded":
        db_url = f"sqlite:///{tmp_path / 'h.db'}"
        metrics_url = db_url
    else:
        db_url = request.getfixturevalue("make_postgres_db")()
        metrics_url = request.getfixturevalue("influx_url") + f"/ingest_{abs(hash(tmp_path)) % 10**8}"
    upgrade(db_url)
    store = open_metric_store(metrics_url)
    yield db_url, store
    store.close()


def test_rerunning_ingest_stores_nothing_twice(stores) -> None:  # type: ignore[no-untyped-def]
    db_url, store = stores
    demo = DemoCollector(DemoSourceSettings(resources=6, days=4), Catalog.load(), now=NOW)
    files = FilesCollector(FilesSourceSettings(name="nab", path=NAB), now=None)
    first = [run_collector(c, db_url=db_url, metric_store=store, until=NOW) for c in (demo, files)]
    assert first[0].samples > 0 and first[0].costs > 0 and first[1].samples > 0
    before = fingerprint(db_url, store)
    again = run_collector(demo, db_url=db_url, metric_store=store, until=NOW)
    assert again.samples == 0  # the watermark says everything up to NOW is stored
    run_collector(files, db_url=db_url, metric_store=store, until=NOW)
    assert fingerprint(db_url, store) == before
    # a backfill re-collects stored history: upserts, no duplicates, same values
    run_collector(demo, db_url=db_url, metric_store=store, until=NOW, backfill=timedelta(days=3))
    assert fingerprint(db_url, store) == before
    with session_scope(db_url) as session:
        marks = {(w.source, w.stream): w.watermark for w in session.scalars(select(IngestStreamRow))}
        status = {s.source: s for s in session.scalars(select(SourceStatusRow))}
    assert marks[("demo", "metrics")] == NOW
    assert status["demo"].last_error == "" and status["demo"].last_success_at is not None


def test_incremental_windows_equal_one_window(stores) -> None:  # type: ignore[no-untyped-def]
    db_url, store = stores
    settings = DemoSourceSettings(resources=3, days=3)
    for until in (NOW - timedelta(days=1, hours=5), NOW - timedelta(hours=7), NOW):
        run_collector(DemoCollector(settings, Catalog.load(), now=NOW), db_url=db_url, metric_store=store, until=until)
    stepwise = fingerprint(db_url, store)
    assert stepwise["points"] > 0
    one = DemoCollector(settings, Catalog.load(), now=NOW)
    total = sum(len(b) for b in one.collect_metrics(None, NOW))
    assert stepwise["points"] == total


def test_a_failing_source_records_its_error_and_keeps_what_was_stored(stores, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db_url, store = stores
    demo = DemoCollector(DemoSourceSettings(resources=3, days=2), Catalog.load(), now=NOW)
    run_collector(demo, db_url=db_url, metric_store=store, until=NOW)
    before = fingerprint(db_url, store)
    empty = tmp_path / "empty"
    empty.mkdir()
    broken = FilesCollector(FilesSourceSettings(name="broken", path=empty), now=None)
    with pytest.raises(IngestError, match="broken"):
        run_collector(broken, db_url=db_url, metric_store=store, until=NOW)
    assert fingerprint(db_url, store) == before
    with session_scope(db_url) as session:
        status = session.get(SourceStatusRow, "broken")
        assert status is not None and status.last_error and status.last_success_at is None
        metrics = session.get(IngestStreamRow, ("broken", "metrics"))
        assert metrics is not None and metrics.watermark is None and metrics.failures == 1


def test_a_bad_file_among_good_ones_is_reported_not_silent(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'h.db'}"
    upgrade(db_url)
    store = open_metric_store(db_url)
    folder = tmp_path / "series"
    folder.mkdir()
    (folder / "good_cpu_utilization.csv").write_text(
        "timestamp,value\n" + "".join(f"2026-01-01 00:{m:02d}:00,{m}\n" for m in range(0, 60, 5))
    )
    (folder / "bad.csv").write_text("when,how much\nyesterday,lots\n")
    result = run_collector(FilesCollector(FilesSourceSettings(name="mixed", path=folder)), db_url=db_url,
                           metric_store=store, until=NOW)
    store.close()
    assert result.samples == 12
    assert len(result.notes) == 1 and result.notes[0].startswith("skipped bad.csv:")
    with session_scope(db_url) as session:
        status = session.get(SourceStatusRow, "mixed")
        assert status is not None and status.detail["notes"] == result.notes
