"""The recommendation refresh alone on a fresh demo fleet in the distributed mode, once per code tree given.

    .venv/bin/python bench/scale_recommend.py 10000 [CODE_TREE ...]

Starts PostgreSQL, Redis and InfluxDB as bench/scale.py does, backfills N demo resources (its backfill stage), then
runs its recommend stage (`headroom recommend refresh` over the whole fleet) once per code tree, each with that tree
on PYTHONPATH (default: this checkout), and prints seconds, CPU seconds and what the refresh did. Compare trees on
the same fleet in the order given: only the first run creates the recommendations, later ones update them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from scale import REPO, Servers, run_stage


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("resources", type=int)
    parser.add_argument("trees", nargs="*", default=[str(REPO)], help="Code trees to run the refresh with, in turn")
    parser.add_argument("--days", type=int, default=15, help="Days of hourly history, as bench/scale.py")
    cli = parser.parse_args()
    args = argparse.Namespace(days=cli.days, sample=24, database_url=None, metrics_url=None, broker_url=None)
    servers = Servers()
    try:
        servers.fresh(args, cli.resources)
        folder = Path(tempfile.mkdtemp(prefix=f"headroom-scale-recommend-{cli.resources}-"))
        print(f"backfill {run_stage('backfill', args, folder, cli.resources)['seconds']:.1f} s", flush=True)
        for tree in cli.trees:
            os.environ["PYTHONPATH"] = tree
            result = run_stage("recommend", args, folder, cli.resources)
            print(f"{tree}: refresh {result['seconds']:.1f} s, {result['cpu_seconds']:.1f} CPU s, "
                  f"peak {result['peak_rss_mib']:.0f} MiB: {result['result']}", flush=True)
    finally:
        servers.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
