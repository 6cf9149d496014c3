"""MkDocs hook: write docs/reference/ with scripts/gen_reference.py when it is missing, so `mkdocs build --strict`
and `mkdocs serve` work on a fresh clone. `make docs` regenerates it every time (pages go stale otherwise)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

PAGES = ("api.md", "cli.md")


def on_pre_build(config: Any, **kwargs: Any) -> None:
    out = Path(config["docs_dir"]) / "reference"
    if all((out / page).exists() for page in PAGES):
        return
    spec = importlib.util.spec_from_file_location("gen_reference", Path(__file__).with_name("gen_reference.py"))
    if spec is None or spec.loader is None:
        raise PluginError("scripts/gen_reference.py not found")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        module.main(["--out", str(out)])
    except (Exception, SystemExit) as exc:  # the generator imports the app: say which step failed, not a traceback
        raise PluginError(f"could not generate {out}: {exc!r}; run python scripts/gen_reference.py to see why") from exc
