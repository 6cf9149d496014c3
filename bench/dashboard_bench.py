"""Dashboard benchmark: the resource page's time to interactive over 90 days of 5-minute data, and the JS bundle.

    .venv/bin/python bench/dashboard_bench.py [--runs 5] [--days 90]

Seeds a throwaway demo (one resource, 5-minute samples over --days, trained forecasts), serves the built
dashboard, and loads /resources/<id>?range=90d in Debian's chromium --runs times (bench/dashboard_bench.mjs).
Writes bench/results/dashboard.json and bench/results/dashboard.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from testbed.demo_server import FRONTEND, REPO, demo  # noqa: E402

RESULTS = REPO / "bench" / "results"


def bundle_sizes() -> dict[str, int]:
    """Bytes of the built JavaScript, raw and gzip -9 (what a server with compression sends): all of it, and the
    entry chunks index.html loads before anything else (views and the chart library load on first use)."""
    dist = FRONTEND / "dist"
    entry = set(re.findall(r'/assets/([^"]+\.js)', (dist / "index.html").read_text()))
    sizes = {"js_bytes": 0, "js_gzip_bytes": 0, "entry_js_bytes": 0, "entry_js_gzip_bytes": 0}
    for f in sorted((dist / "assets").glob("*.js")):
        data = f.read_bytes()
        packed = len(gzip.compress(data, 9))
        sizes["js_bytes"] += len(data)
        sizes["js_gzip_bytes"] += packed
        if f.name in entry:
            sizes["entry_js_bytes"] += len(data)
            sizes["entry_js_gzip_bytes"] += packed
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="headroom-bench-") as work, demo(
        Path(work), resources=1, days=args.days
    ) as running:
        env = {**running.env, "HEADROOM_URL": running.url, "HEADROOM_TOKEN": running.tokens["viewer"],
               "BENCH_RUNS": str(args.runs)}
        done = subprocess.run(["node", str(REPO / "bench" / "dashboard_bench.mjs")], env=env, cwd=REPO,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(done.stdout, done.stderr, file=sys.stderr)
            return done.returncode
        runs = json.loads(done.stdout)
    tti = [r["tti_ms"] for r in runs]
    drawn = [r["chart_ms"] for r in runs]
    result = {
        "days": args.days,
        "step_minutes": 5,
        "runs": runs,
        "tti_ms_median": statistics.median(tti),
        "tti_ms_max": max(tti),
        "chart_drawn_ms_median": statistics.median(drawn),
        "points_drawn": runs[0]["points"],
        **bundle_sizes(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "dashboard.json").write_text(json.dumps(result, indent=2) + "\n")
    md = (
        f"| measure | value |\n|---|---|\n"
        f"| resource page, {args.days} days of 5-minute data: time to interactive (median of {len(runs)}) "
        f"| {result['tti_ms_median']:.0f} ms (max {result['tti_ms_max']:.0f} ms) |\n"
        f"| of which: chart with forecast bands drawn | {result['chart_drawn_ms_median']:.0f} ms |\n"
        f"| points drawn (usage mean + p95 at 3 h steps, forecast) | {result['points_drawn']:,} |\n"
        f"| JavaScript loaded first (index.html) | {result['entry_js_bytes'] / 1024:.0f} KiB "
        f"({result['entry_js_gzip_bytes'] / 1024:.0f} KiB gzip) |\n"
        f"| JavaScript in all (views and ECharts load on first use) | {result['js_bytes'] / 1024:.0f} KiB "
        f"({result['js_gzip_bytes'] / 1024:.0f} KiB gzip) |\n"
    )
    (RESULTS / "dashboard.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
