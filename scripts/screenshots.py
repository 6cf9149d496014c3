"""README screenshots of the SRE overview, a resource page and the executive view, made from the demo.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--resources 13] [--days 35]

Seeds a throwaway embedded Headroom (demo data, training, recommendations), serves the built dashboard and
photographs it with Debian's chromium through playwright-core (scripts/screenshots.mjs).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from testbed.demo_server import REPO, demo  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--resources", type=int, default=13, help="demo resources (default 13: one of each behaviour)")
    parser.add_argument("--days", type=int, default=35, help="days of demo history; 28+ gives cost forecasts")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="headroom-shots-") as work, demo(
        Path(work), resources=args.resources, days=args.days
    ) as running:
        env = {**running.env, "HEADROOM_URL": running.url, "HEADROOM_TOKEN": running.tokens["viewer"],
               "HEADROOM_SCREENSHOTS": str(args.out)}
        done = subprocess.run(["node", str(REPO / "scripts" / "screenshots.mjs")], env=env, cwd=REPO, check=False)
        return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
