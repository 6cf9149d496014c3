"""The documentation: README is a short front door, and the MkDocs site builds in strict mode (a broken link, a
missing page or a stale nav entry fails), with the API and CLI references generated from the code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_readme_is_a_front_door() -> None:
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; move detail into docs/"
    text = "\n".join(lines)
    assert "make demo" in text and "make test" in text and "docs/" in text


def test_mkdocs_builds_strict_with_generated_references(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(REPO / "docs", docs, ignore=shutil.ignore_patterns("reference"))
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    gen = subprocess.run([sys.executable, str(REPO / "scripts" / "gen_reference.py"), "--out", str(docs / "reference")],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert gen.returncode == 0, gen.stderr[-4000:]
    cli_page = (docs / "reference" / "cli.md").read_text()
    api_page = (docs / "reference" / "api.md").read_text()
    assert "recommend kinds" in cli_page and "/api/recommendations/kinds" in api_page
    config = tmp_path / "mkdocs.yml"
    config.write_text((REPO / "mkdocs.yml").read_text().replace("scripts/mkdocs_hooks.py",
                                                                 str(REPO / "scripts" / "mkdocs_hooks.py")))
    site = tmp_path / "site"
    done = subprocess.run([str(bin_dir / "mkdocs"), "build", "--strict", "-f", str(config), "-d", str(site)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    assert (site / "index.html").is_file() and (site / "reference" / "cli" / "index.html").is_file()
