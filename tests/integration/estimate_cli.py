"""`headroom collect --estimate` run through the CLI against a providers.yml of the test's making."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner


@dataclass(frozen=True)
class Estimate:
    rows: dict[str, dict[str, Any]]  # --output json, by API
    table: str  # the table as printed, with each source's month total


def collect_estimate(source: str, section: str, cfg: dict[str, Any], tmp_path: Path,
                     monkeypatch: pytest.MonkeyPatch) -> Estimate:  # fmt: skip
    """Write `cfg` as providers.yml's `section` (demo off), then run `collect --estimate --source source` twice:
    as JSON and as the table (printed, so that `pytest -s` shows what the README reports)."""
    from cli.main import cli
    from services.settings import get_settings

    config = tmp_path / "config"
    config.mkdir()
    (config / "providers.yml").write_text(yaml.safe_dump({"demo": {"enabled": False}, section: cfg}))
    monkeypatch.setenv("HEADROOM_CONFIG_DIR", str(config))
    monkeypatch.setenv("HEADROOM_DATABASE_URL", f"sqlite:///{tmp_path / 'h.db'}")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        shown = runner.invoke(cli, ["collect", "--estimate", "--source", source, "--output", "json"])
        table = runner.invoke(cli, ["collect", "--estimate", "--source", source], env={"COLUMNS": "200"})
    finally:
        get_settings.cache_clear()
    assert shown.exit_code == 0, shown.output
    assert table.exit_code == 0, table.output
    print(table.stdout)  # noqa: T201 - the figures README's table quotes, shown with pytest -s
    return Estimate({r["api"]: r for r in json.loads(shown.stdout)}, table.stdout)
