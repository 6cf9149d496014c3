"""CLI of alerts: `headroom alerts ...` lists channels, rules, alerts and deliveries, sends test messages,
manages silences, evaluates the rules now and makes webhook secrets. register() adds them to the headroom command."""

from __future__ import annotations

import base64
import os
from typing import Annotated

import typer
from sqlalchemy import select

from cli.output import Output, OutputOpt, db_session, emit, fail, out

alerts_cli = typer.Typer(help="Alert channels, rules, alerts, silences and deliveries.", no_args_is_help=True)


@alerts_cli.command("channels")
def channels_command(output: OutputOpt = Output.table) -> None:
    """Configured channels (secrets masked)."""
    from services.alerting.admin import redacted_config
    from services.db.models import AlertChannelRow
    from services.settings import get_settings

    alerting = get_settings().alerts
    with db_session() as session:
        rows = [{"name": r.name, "type": r.type, "source": r.source, "config": redacted_config(r, alerting)}
                for r in session.scalars(select(AlertChannelRow).order_by(AlertChannelRow.name))]
    emit(rows, ["name", "type", "source", "config"], output, title="Alert channels")


@alerts_cli.command("rules")
def rules_command(output: OutputOpt = Output.table) -> None:
    """Alert rules with their kind, severity, channels and parameters."""
    from services.db.models import AlertRuleRow

    with db_session() as session:
        rows = [{c: getattr(r, c) for c in ("name", "kind", "severity", "channels", "enabled", "for_seconds",
                                            "repeat_seconds", "params", "scope", "source")}
                for r in session.scalars(select(AlertRuleRow).order_by(AlertRuleRow.name))]
    emit(rows, ["name", "kind", "severity", "channels", "enabled", "params"], output, title="Alert rules")


@alerts_cli.command("list")
def list_command(
    state: Annotated[str | None, typer.Option(help="pending, firing or resolved")] = None,
    output: OutputOpt = Output.table,
) -> None:
    """Alerts, newest first."""
    from services.db.models import AlertRow, AlertRuleRow

    query = select(AlertRow, AlertRuleRow.name).join(AlertRuleRow, AlertRuleRow.id == AlertRow.rule_id)
    if state:
        query = query.where(AlertRow.state == state)
    with db_session() as session:
        rows = [{"rule": name, "state": a.state, "subject": a.subject, "summary": a.summary,
                 "fired_at": a.fired_at, "resolved_at": a.resolved_at}
                for a, name in session.execute(query.order_by(AlertRow.last_seen_at.desc()).limit(500))]
    emit(rows, ["rule", "state", "subject", "summary", "fired_at"], output, title="Alerts")


@alerts_cli.command("test")
def test_command(channel: Annotated[str, typer.Argument(help="Channel name")]) -> None:
    """Send a marked test message through a channel now and show the outcome."""
    from services.alerting.admin import send_test
    from services.db.models import AlertChannelRow
    from services.settings import get_settings

    with db_session() as session:
        row = session.scalar(select(AlertChannelRow).where(AlertChannelRow.name == channel))
        if row is None:
            raise fail(f"no channel named {channel!r}: `headroom alerts channels` lists them")
        result = send_test(session, row, get_settings().alerts)
        status, error = result.status, result.last_error
    if status != "delivered":
        raise fail(f"test message to {channel} failed: {error}")
    out.print(f"[green]delivered[/green] a test message to {channel} (event {result.event_id})")


@alerts_cli.command("silence")
def silence_command(
    duration: Annotated[str, typer.Option("--for", help="How long, e.g. 90m, 12h, 2d")],
    rule: Annotated[str, typer.Option(help="Rule name; empty = every rule")] = "",
    match: Annotated[list[str] | None, typer.Option(help="Label equality key=value (repeatable)")] = None,
    comment: Annotated[str, typer.Option(help="Why")] = "",
) -> None:
    """Mute notifications of matching alerts until the silence expires."""
    from cli.main import parse_duration
    from services.alerting.admin import AlertConfigError, create_silence

    matchers = {}
    for item in match or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise fail(f"--match {item!r}: use key=value, e.g. --match resource_id=i-0abc")
        matchers[key] = value
    with db_session() as session:
        try:
            row = create_silence(session, rule=rule, matchers=matchers,
                                 minutes=parse_duration(duration).total_seconds() / 60, comment=comment,
                                 created_by=os.environ.get("USER", "cli"))
        except AlertConfigError as exc:
            raise fail(str(exc)) from None
        out.print(f"silence {row.id} until {row.expires_at:%Y-%m-%d %H:%M} UTC")


@alerts_cli.command("silences")
def silences_command(output: OutputOpt = Output.table) -> None:
    """Silences, active and expired."""
    from services.db.models import AlertSilenceRow

    with db_session() as session:
        rows = [{c: getattr(s, c) for c in ("id", "rule", "matchers", "comment", "created_by", "expires_at")}
                for s in session.scalars(select(AlertSilenceRow).order_by(AlertSilenceRow.expires_at.desc()))]
    emit(rows, ["id", "rule", "matchers", "comment", "expires_at"], output, title="Silences")


@alerts_cli.command("unsilence")
def unsilence_command(silence_id: int) -> None:
    """End a silence now."""
    from services.db.models import AlertSilenceRow

    with db_session() as session:
        row = session.get(AlertSilenceRow, silence_id)
        if row is None:
            raise fail(f"no silence {silence_id}: `headroom alerts silences` lists them")
        session.delete(row)
    out.print(f"silence {silence_id} removed")


@alerts_cli.command("deliveries")
def deliveries_command(
    status: Annotated[str | None, typer.Option(help="pending, sending, delivered or dead")] = None,
    output: OutputOpt = Output.table,
) -> None:
    """The outbox: each message's status, attempts and last error."""
    from services.db.models import AlertChannelRow, AlertOutboxRow

    query = select(AlertOutboxRow, AlertChannelRow.name).join(AlertChannelRow,
                                                              AlertChannelRow.id == AlertOutboxRow.channel_id)
    if status:
        query = query.where(AlertOutboxRow.status == status)
    with db_session() as session:
        rows = [{"id": m.id, "event_id": m.event_id, "channel": name, "kind": m.kind, "status": m.status,
                 "attempts": m.attempts, "created_at": m.created_at, "last_error": m.last_error}
                for m, name in session.execute(query.order_by(AlertOutboxRow.id.desc()).limit(500))]
    emit(rows, ["id", "channel", "kind", "status", "attempts", "last_error"], output, title="Deliveries")


@alerts_cli.command("evaluate")
def evaluate_command() -> None:
    """Apply config/alerts.yml, evaluate every enabled rule now and deliver what is due (no worker needed)."""
    from services.alerting.admin import sync_config
    from services.alerting.delivery import deliver_channel, due_channel_ids
    from services.alerting.state import evaluate_rule
    from services.db.models import AlertRuleRow
    from services.settings import get_settings

    settings = get_settings()
    with db_session() as session:
        sync_config(session, settings.alerts)
        rules = list(session.scalars(select(AlertRuleRow).where(AlertRuleRow.enabled.is_(True))))
        with out.status("evaluating rules"):
            for rule in rules:
                r = evaluate_rule(session, rule, settings=settings.alerts)
                note = f"[red]{r.error}[/red]" if r.error else f"fired {len(r.fired)}, resolved {len(r.resolved)}"
                out.print(f"{rule.name}: {r.findings} findings; {note}")
                session.commit()
        due = due_channel_ids(session)
    for channel_id in due:
        report = deliver_channel(settings.database_url, channel_id, settings=settings.alerts)
        out.print(f"channel {channel_id}: delivered {len(report.delivered)}, retrying {len(report.failed)}, "
                  f"dead {len(report.dead)}")


@alerts_cli.command("new-secret")
def new_secret_command() -> None:
    """Print a fresh whsec_ secret for a signed webhook channel."""
    out.print("whsec_" + base64.b64encode(os.urandom(32)).decode(), soft_wrap=True)


def register(cli: typer.Typer) -> None:
    """Add `headroom alerts ...` to the headroom command."""
    cli.add_typer(alerts_cli, name="alerts")
