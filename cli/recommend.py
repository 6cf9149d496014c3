"""CLI of recommendations: `headroom recommend ...` (refresh, list, show, move through the lifecycle) and
`headroom runway`. register() adds them to the headroom command."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

import typer

from cli.output import Output, OutputOpt, db_session, emit, err, fail, out

recommend_cli = typer.Typer(
    help="Right-sizing, idle, schedules, commitments and runway: list, act on, refresh.", no_args_is_help=True
)
LIST_COLUMNS = (
    "id",
    "kind",
    "status",
    "resource_key",
    "title",
    "monthly_savings_list",
    "monthly_savings_effective",
    "risk",
)
RUNWAY_COLUMNS = (
    "resource_key", "metric", "severity", "current", "threshold", "p50_days", "p90_days", "lead_time_days",
)  # fmt: skip


def register(cli: typer.Typer) -> None:
    """Add this module's commands and sub-commands to cli."""
    cli.add_typer(recommend_cli, name="recommend")
    cli.command("runway")(runway_command)


@recommend_cli.command("refresh")
def refresh_command() -> None:
    """Run every recommender over the fleet now and store the outcome (idempotent)."""
    from services.recommend.refresh import refresh_recommendations
    from services.settings import get_settings

    with err.status("recommending over the fleet…"):
        result = refresh_recommendations(get_settings())
    out.print(
        f"created {result.created}, updated {result.updated}, kept {result.kept} (accepted or further), "
        f"removed {result.removed} no longer found; {result.skipped} skipped with a reason "
        "(`headroom recommend skipped`)"
    )


@recommend_cli.command("kinds")
def kinds_command(output: OutputOpt = Output.table) -> None:
    """Every kind of recommendation: the built-ins and those of installed plug-in packages."""
    from services.recommend.registry import RECOMMENDERS

    rows = [{"kind": kind, "label": p.label, "plugin": "yes" if p.recommend else "", "description": p.description}
            for kind, p in RECOMMENDERS]
    emit(rows, ("kind", "label", "plugin", "description"), output)


@recommend_cli.command("list")
def list_command(
    kind: Annotated[
        list[str] | None, typer.Option("--kind", help="Repeat for several; `headroom recommend kinds` lists them")
    ] = None,
    status: Annotated[list[str] | None, typer.Option("--status", help="Repeat for several")] = None,
    resource: Annotated[str | None, typer.Option(help="Text in the resource key")] = None,
    min_savings: Annotated[float | None, typer.Option(help="Least effective USD a month")] = None,
    sort: Annotated[str, typer.Option(help="savings, risk, created, kind, id; '-' first: descending")] = "-savings",
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 100,
    output: OutputOpt = Output.table,
) -> None:
    """Stored recommendations, largest saving first."""
    from services.plugins import PluginError
    from services.recommend.registry import check_kinds
    from services.recommend.store import list_recommendations, recommendation_view

    try:
        check_kinds(kind or ())
    except PluginError as exc:
        raise fail(f"--kind: {exc}") from None
    with db_session() as session:
        try:
            rows, total = list_recommendations(
                session,
                kinds=kind or (),
                statuses=status or (),
                resource=resource,
                min_savings=min_savings,
                sort=sort,
                size=limit,
            )
        except ValueError as exc:
            raise fail(str(exc)) from None
        views = [recommendation_view(r) for r in rows]
    emit(views, LIST_COLUMNS, output, title=f"{len(views)} of {total} recommendations")


@recommend_cli.command("skipped")
def skipped_command(
    resource: Annotated[str | None, typer.Option(help="Text in the resource key")] = None,
    kind: Annotated[str | None, typer.Option()] = None,
    output: OutputOpt = Output.table,
) -> None:
    """Why the last refresh made no recommendation (not enough data, an HPA, production, superseded...)."""
    from services.recommend.store import skipped

    with db_session() as session:
        rows = [
            {"resource_key": r.resource_key, "kind": r.kind, "reason": r.reason}
            for r in skipped(session, resource=resource, kind=kind)
        ]
    emit(rows, ("resource_key", "kind", "reason"), output)


@recommend_cli.command("show")
def show_command(rec_id: int, output: Annotated[Output, typer.Option("--output", "-o")] = Output.table) -> None:
    """One recommendation with its evidence, reasons and history."""
    from services.recommend.store import NotFoundError, get_recommendation, history, recommendation_view

    with db_session() as session:
        try:
            view = recommendation_view(get_recommendation(session, rec_id))
        except NotFoundError as exc:
            raise fail(str(exc)) from None
        view["history"] = [
            {"from": e.from_status, "to": e.to_status, "actor": e.actor, "note": e.note, "at": e.at.isoformat()}
            for e in history(session, rec_id)
        ]
    if output is not Output.table:
        emit([view], list(view), output)
        return
    ev = view["evidence"]
    out.print(f"[bold]#{view['id']} {view['title']}[/bold]  ({view['kind']}, {view['status']}, {view['finding']})")
    out.print(f"resource: {view['resource_key']}")
    out.print(
        f"savings: {view['monthly_savings_list']:.2f} USD/month at list, "
        f"{view['monthly_savings_effective']:.2f} effective; risk {view['risk']} of 4"
    )
    out.print(
        f"evidence: {ev['coverage_hours']:.0f} h of data ({ev['coverage_ratio']:.0%} of the lookback), "
        f"{ev['percentile']}, headroom {ev['headroom']:.0%}; projected {ev['projected_utilisation']}"
    )
    for reason in view["reasons"]:
        out.print(f"  • {reason}", highlight=False)
    for event in view["history"]:
        out.print(f"  {event['at']}: {event['from']} → {event['to']} by {event['actor']} {event['note']}")


def _move(rec_id: int, to: str, note: str) -> None:
    from services.recommend.outcomes import VerificationError, verify
    from services.recommend.store import LifecycleError, NotFoundError, transition
    from services.settings import get_settings

    settings = get_settings()
    try:
        with db_session() as session:
            now = datetime.now(UTC)
            if to == "verified":
                row = verify(session, rec_id, actor="cli", now=now, min_days=settings.recommend.verify_min_days)
            else:
                row = transition(session, rec_id, to, actor="cli", now=now, note=note)  # type: ignore[arg-type]
            message = f"#{row.id} is {row.status}"
            if row.realised_savings_monthly is not None:
                message += f"; realised {row.realised_savings_monthly:.2f} USD/month"
    except (NotFoundError, LifecycleError, VerificationError) as exc:
        raise fail(str(exc)) from None
    out.print(message)


def _transition_command(to: str, doc: str) -> Callable[..., None]:
    def command(rec_id: int, note: Annotated[str, typer.Option(help="Kept in the history")] = "") -> None:
        _move(rec_id, to, note)

    command.__doc__ = doc
    return command


recommend_cli.command("accept")(_transition_command("accepted", "Accept a recommendation (open → accepted)."))
recommend_cli.command("implement")(
    _transition_command("implemented", "Mark a recommendation carried out (accepted → implemented).")
)
recommend_cli.command("verify")(
    _transition_command("verified", "Measure realised savings from later billing or inventory (→ verified).")
)


@recommend_cli.command("dismiss")
def dismiss_command(rec_id: int, reason: Annotated[str, typer.Option(help="Why it does not apply (required)")]) -> None:
    """Dismiss a recommendation with a reason; later refreshes leave it dismissed."""
    if not reason.strip():
        raise fail("--reason: say why the recommendation does not apply")
    _move(rec_id, "dismissed", reason)


def runway_command(
    group_by: Annotated[
        str | None, typer.Option(help="Groups of this dimension: environment, account, provider, tag:<name>")
    ] = None,
    metric: Annotated[str | None, typer.Option(help="cpu_utilization, memory_utilization, disk_utilization")] = None,
    flagged: Annotated[bool, typer.Option("--flagged", help="Only runways shorter than the lead time")] = False,
    output: OutputOpt = Output.table,
) -> None:
    """Capacity runway: P50/P90 days until each threshold, per resource and per group (most severe first)."""
    from services.recommend.store import runways

    with db_session() as session:
        resources, groups, budgets, _ = runways(session, group_by=group_by, metric=metric, flagged=flagged)
    rows = [{"scope": "budget", **b} for b in budgets] + [{"scope": "group", **g} for g in groups]
    rows += [{"scope": "resource", **r} for r in resources]
    emit(rows, ("scope", *RUNWAY_COLUMNS), output, title="capacity runway (days)")
