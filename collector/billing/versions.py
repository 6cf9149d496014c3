"""Which billing files in a folder are current: one version per export and billing period, as the providers mean.

Export folders keep every delivery. AWS CUR writes each version of a month under `<YYYYMMDD-YYYYMMDD>/<assemblyId>/`
and a `<report>-Manifest.json` whose `reportKeys` list the current one (CUR 2.0: `BILLING_PERIOD=YYYY-MM/` and
`dataFiles`). Azure month-to-date exports write a new file (or run folder with a manifest.json) into
`<YYYYMMDD-YYYYMMDD>/` every day, each holding the whole month so far. So, per export and period:

- a CUR manifest (the newest one, by its file time) names the current files;
- without one, the newest run wins: a run is a child folder of the period folder (a CUR assembly, an Azure run) or
  a file directly in it (an Azure `<export>_<guid>.csv`); an Azure run manifest's `runInfo.submittedTime` orders runs.

Files outside any period folder are loose: each is read as it is. An export whose name (or Azure manifest
`exportConfig.type`) says amortized or actual cost is marked so, and the collector keeps the two from being summed.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from collector.records import CostRecord

_RANGE = re.compile(r"^(\d{8})-(\d{8})$")  # CUR: end exclusive (1st of next month); Azure: end inclusive
_MONTH = re.compile(r"^BILLING_PERIOD=(\d{4})-(\d{2})$")


@dataclass
class Delivery:
    """The current files of one export's billing period (or one loose file), and which cost view they hold."""

    export: Path  # the export's folder (parent of the period folder); the loose file itself for loose files
    period: tuple[date, date] | None  # [start, end) these files replace; None for a loose file
    files: list[Path] = field(default_factory=list)
    view: str = ""  # "actual", "amortized", or "" when not known


def period_of(folder: Path) -> tuple[date, date] | None:
    """[start, end) named by a period folder, or None for any other folder."""
    match = _RANGE.match(folder.name)
    if match:
        start, end = (date(int(s[:4]), int(s[4:6]), int(s[6:])) for s in match.groups())
        return start, end if end.day == 1 and end > start else end + timedelta(days=1)
    match = _MONTH.match(folder.name)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)
    return None


def period_folder(path: Path, root: Path) -> Path | None:
    for parent in path.parents:
        if parent == root.parent or not parent.is_relative_to(root):
            return None
        if period_of(parent) is not None:
            return parent
    return None


def export_folder(period_dir: Path) -> Path:
    """CUR 2.0 keeps data/ and metadata/ apart under the export: both belong to the export's folder."""
    parent = period_dir.parent
    return parent.parent if parent.name in ("data", "metadata") else parent


def _json(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def view_of(name: str, manifest: dict[str, Any] | None = None) -> str:
    config = (manifest or {}).get("exportConfig") or {}
    text = f"{config.get('type', '') if isinstance(config, dict) else ''} {name}".lower()
    return "amortized" if "amortiz" in text else "actual" if "actual" in text else ""


def _matches(path: Path, key: str) -> bool:
    """A manifest key (an S3 key or URI) names this local copy: same file name and same folder above it."""
    parts = key.rstrip("/").split("/")
    return parts[-2:] == [path.parent.name, path.name] or (len(parts) == 1 and parts[0] == path.name)


def manifest_files(path: Path, files: list[Path]) -> list[Path] | None:
    """The files a CUR manifest lists (reportKeys, or CUR 2.0 dataFiles); None when it is no CUR manifest."""
    document = _json(path)
    keys = document.get("reportKeys", document.get("dataFiles"))
    if not isinstance(keys, list):
        return None
    return [f for f in files if any(_matches(f, str(k)) for k in keys)]


def _newest_run(period_dir: Path, files: list[Path]) -> list[Path]:
    runs: dict[Path, list[Path]] = defaultdict(list)
    for f in files:
        run = f if f.parent == period_dir else period_dir / f.relative_to(period_dir).parts[0]
        runs[run].append(f)

    def when(run: Path) -> tuple[str, float]:
        info = _json(run / "manifest.json").get("runInfo") if run.is_dir() else None
        submitted = str(info.get("submittedTime", "")) if isinstance(info, dict) else ""
        return submitted, max(f.stat().st_mtime for f in runs[run])

    return sorted(runs[max(runs, key=when)])


def current_deliveries(root: Path, files: list[Path], manifests: list[Path]) -> tuple[list[Delivery], list[Path]]:
    """The current delivery of every export period under root (and each loose file), and the superseded files."""
    by_period: dict[tuple[Path, tuple[date, date]], list[Path]] = defaultdict(list)
    loose: list[Delivery] = []
    for f in files:
        folder = period_folder(f, root)
        period = period_of(folder) if folder else None
        if folder is None or period is None:
            loose.append(Delivery(export=f, period=None, files=[f], view=view_of(f.name)))
            continue
        by_period[(export_folder(folder), period)].append(f)
    cur: dict[tuple[Path, tuple[date, date]], Path] = {}
    for m in manifests:  # the newest CUR manifest of each export period (a copy sits in every assembly folder)
        folder = period_folder(m, root)
        period = period_of(folder) if folder else None
        if folder is None or period is None or manifest_files(m, []) is None:
            continue
        key = (export_folder(folder), period)
        seen = cur.get(key)
        if seen is None or (m.stat().st_mtime, -len(m.parts)) > (seen.stat().st_mtime, -len(seen.parts)):
            cur[key] = m
    deliveries, superseded = list(loose), []
    for (export, period), found in sorted(by_period.items()):
        manifest = cur.get((export, period))
        if manifest is not None:
            keep = manifest_files(manifest, found) or []
        else:
            folders = {period_folder(f, root) for f in found}
            keep = [f for d in sorted(p for p in folders if p) for f in _newest_run(d, [x for x in found
                    if period_folder(x, root) == d])]  # fmt: skip
        run_manifest = _json(keep[0].parent / "manifest.json") if keep else {}
        deliveries.append(Delivery(export, period, keep, view_of(export.name, run_manifest)))
        superseded += [f for f in found if f not in keep]
    return deliveries, superseded


def split_view(record: CostRecord, view: str) -> CostRecord:
    """When an actual and an amortized export of a period are both read: billed cost comes from the actual one and
    effective cost from the amortized one (FOCUS), so summing their lines counts neither twice."""
    if view == "actual":
        return replace(record, effective_cost=Decimal(0))
    if view == "amortized":
        return replace(record, billed_cost=Decimal(0), list_cost=Decimal(0))
    return record
