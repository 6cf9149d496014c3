"""The fleet page's list of every series: listed by one request at a time, the others answering from the previous
list meanwhile (at 50,000 series a listing takes seconds, and 20 pages a second must not all list them)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from collector.records import SampleBatch, SeriesRef
from services import fleet
from services.db.migrate import upgrade
from services.metrics.base import SeriesInfo
from services.metrics.sql import SqlMetricStore


class SlowListing(SqlMetricStore):
    """A real SQLite store whose listing is slow and counted."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.listings = 0
        self.release = threading.Event()

    def series(self, filters: Mapping[str, str] | None = None) -> list[SeriesInfo]:
        self.listings += 1
        self.release.wait(timeout=30)
        return super().series(filters)


def test_one_request_lists_again_while_the_others_use_the_previous_list(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'metrics.db'}"
    upgrade(url)
    store = SlowListing(url)
    ts = np.arange(0, 3600 * 5, 3600, dtype=np.int64)
    store.write([SampleBatch(SeriesRef("i-1", "cpu_utilization", "percent"), ts, np.full(ts.size, 5.0))])
    fleet.clear_caches()
    store.release.set()
    first = fleet._series_by_resource(store)  # the first listing
    assert list(first) == ["i-1"] and store.listings == 1
    store.write([SampleBatch(SeriesRef("i-2", "cpu_utilization", "percent"), ts, np.full(ts.size, 5.0))])
    with fleet._CACHE_LOCK:  # the list is now older than its time to live
        fleet._SERIES_CACHE[repr(store)] = (time.monotonic() - fleet.SERIES_TTL_SECONDS - 1, first)
    store.release.clear()
    refresher = threading.Thread(target=fleet._series_by_resource, args=(store,))
    refresher.start()
    while store.listings < 2:
        time.sleep(0.01)
    answers = [fleet._series_by_resource(store) for _ in range(5)]  # while the listing is under way
    assert all(list(a) == ["i-1"] for a in answers) and store.listings == 2
    store.release.set()
    refresher.join(timeout=30)
    assert sorted(fleet._series_by_resource(store)) == ["i-1", "i-2"] and store.listings == 2
    store.close()
