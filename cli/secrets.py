"""CLI of secrets at rest: `headroom secrets rotate` re-seals the channel secrets after HEADROOM_SECRET_KEY changes."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.output import db_session, fail, out

secrets_cli = typer.Typer(help="Secrets at rest (alert channel URLs, tokens and passwords).", no_args_is_help=True)


@secrets_cli.command("rotate")
def rotate_command(
    old_key: Annotated[
        list[str] | None,
        typer.Option("--old-key", envvar="HEADROOM_OLD_SECRET_KEY", help="A previous HEADROOM_SECRET_KEY; repeat for "
                     "several. Omit it to seal secrets stored before sealing existed."),
    ] = None,
) -> None:
    """Re-seal every stored secret under the current HEADROOM_SECRET_KEY (set the new key first)."""
    from services.alerting.admin import reseal_channels
    from services.sealing import SealError
    from services.settings import get_settings

    try:
        with db_session() as session:
            count = reseal_channels(session, get_settings().alerts, old_keys=tuple(old_key or ()))
    except SealError as exc:
        raise fail(f"{exc} (pass every key used since the last rotation)") from None
    out.print(f"sealed the secrets of {count} channel(s) under the current HEADROOM_SECRET_KEY")


def register(cli: typer.Typer) -> None:
    """Add `headroom secrets ...` to the headroom command."""
    cli.add_typer(secrets_cli, name="secrets")
