"""One collection round of the demo source split by stream: metrics, inventory and costs, each timed on its own.

    .venv/bin/python bench/round_split.py FOLDER DATABASE_URL METRICS_URL [--resources N]

Against the databases of a bench/scale.py fleet (its folder and URLs, while they exist). The demo source has no
cadence, so its every round runs all three streams; a cloud source runs the metrics stream every 5 minutes, its
inventory hourly and its billing every 6 hours (CadenceSettings). This tells the three apart. Each stream's round
is 5 minutes after the previous one, after the fleet's round.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import scale  # noqa: E402

from services.ingest.ingest import run_collector  # noqa: E402
from services.ingest.sources import build_collector  # noqa: E402
from services.metrics import open_metric_store  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder")
    parser.add_argument("database_url")
    parser.add_argument("metrics_url")
    parser.add_argument("--resources", type=int, default=10_000)
    args = parser.parse_args()
    fleet = argparse.Namespace(folder=args.folder, n=args.resources, days=15, database_url=args.database_url,
                               metrics_url=args.metrics_url, broker_url=None)
    settings = scale._settings(fleet, 5)
    store = open_metric_store(settings.metrics_url)
    out = {}
    try:
        for k, stream in enumerate(("metrics", "inventory", "costs")):
            collector = build_collector(settings, "demo")
            collector.streams = (stream,)
            started, cpu = time.perf_counter(), os.times()
            result = run_collector(collector, db_url=settings.database_url, metric_store=store,
                                   until=scale.END + timedelta(minutes=10 + 5 * k))
            now = os.times()
            out[stream] = {"seconds": round(time.perf_counter() - started, 2),
                           "cpu_seconds": round(now.user + now.system - cpu.user - cpu.system, 2),
                           "points": result.samples, "resources": result.resources, "cost_rows": result.costs}
            print(stream, out[stream], flush=True)
    finally:
        store.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
