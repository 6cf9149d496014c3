"""GET /api/sources: each source's last run, last success, lag, last error, streams and this month's API spend."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from api.deps import CurrentPrincipal, SessionDep, SettingsDep
from api.schemas import SourcePage, SourceRead, StreamRead
from services.ingest.ingest import source_statuses
from services.ingest.sources import source_budgets, source_names
from services.ingest.spend import month_key
from services.ingest.streams import stream_rows

router = APIRouter(prefix="/sources", tags=["sources"])


@router.get("", response_model=SourcePage)
def read_sources(session: SessionDep, settings: SettingsDep, _: CurrentPrincipal) -> SourcePage:
    now = datetime.now(UTC)
    stored = {s.source: s for s in source_statuses(session)}
    budgets = source_budgets(settings)
    streams: dict[str, list[StreamRead]] = {}
    for r in stream_rows(session):
        spend = float(r.spend_usd or 0) if r.spend_month == month_key(now) else 0.0
        streams.setdefault(r.source, []).append(StreamRead(
            name=r.stream, watermark=r.watermark, last_success_at=r.last_success_at, next_due_at=r.next_due_at,
            failures=r.failures, last_error=r.last_error, spend_month_usd=spend,
        ))  # fmt: skip
    names = list(dict.fromkeys([*source_names(settings), *stored, *streams]))
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
                spend_month_usd=round(sum(st.spend_month_usd for st in streams.get(name, [])), 6),
                monthly_budget_usd=budgets.get(name),
                streams=streams.get(name, []),
            )
        )
    return SourcePage(items=items)
