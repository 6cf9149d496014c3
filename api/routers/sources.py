"""GET /api/sources: each source's last run, last success, lag and last error."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from api.deps import CurrentPrincipal, SessionDep, SettingsDep
from api.schemas import SourcePage, SourceRead
from services.ingest.ingest import source_statuses
from services.ingest.sources import source_names

router = APIRouter(prefix="/sources", tags=["sources"])


@router.get("", response_model=SourcePage)
def read_sources(session: SessionDep, settings: SettingsDep, _: CurrentPrincipal) -> SourcePage:
    now = datetime.now(UTC)
    stored = {s.source: s for s in source_statuses(session)}
    names = list(dict.fromkeys([*source_names(settings), *stored]))
    items = []
    for name in names:
        row = stored.get(name)
        success = row.last_success_at if row else None
        items.append(
            SourceRead(
                name=name,
                configured=name in source_names(settings),
                last_run_at=row.last_run_at if row else None,
                last_success_at=success,
                lag_seconds=(now - success).total_seconds() if success else None,
                last_error=row.last_error if row else "",
                samples_written=row.samples_written if row else 0,
            )
        )
    return SourcePage(items=items)
