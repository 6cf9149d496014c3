"""`headroom ready` and `headroom worker-ping`: the probes of the distributed mode's containers."""

from __future__ import annotations

import socket
from typing import Annotated

import typer
from rich.console import Console

from services.settings import get_settings

out = Console()
err = Console(stderr=True)


def ready(timeout: Annotated[float, typer.Option(min=0.5, max=60, help="Seconds to wait per dependency")] = 5.0,
          ) -> None:
    """Exit 0 when the database, the metric store and the broker answer; else name what is down (exit 1)."""
    from services.readiness import check_dependencies

    checks = check_dependencies(get_settings(), timeout_seconds=timeout)
    for name, outcome in checks.items():
        (out if outcome == "ok" else err).print(f"{name}: {outcome}", highlight=False, soft_wrap=True)
    if any(outcome != "ok" for outcome in checks.values()):
        raise typer.Exit(1)


def worker_node_name(pattern: str) -> str:
    """The Celery node name `headroom worker` takes on this host (%h is the host name, as Celery expands it)."""
    from celery.utils.nodenames import host_format

    return str(host_format(pattern, hostname=socket.gethostname()))


def worker_ping(timeout: Annotated[float, typer.Option(min=0.5, max=60, help="Seconds to wait for the reply")] = 10.0,
                ) -> None:
    """Liveness of this host's worker: `celery inspect ping` to its node name through the broker (exit 1 if silent)."""
    from services.tasks import app

    node = worker_node_name(get_settings().deploy.worker_name)
    replies = app.control.ping(destination=[node], timeout=timeout)
    if not any(node in reply for reply in replies):
        err.print(f"worker {node} did not answer a ping within {timeout:.0f}s")
        raise typer.Exit(1)
    out.print(f"worker {node}: pong")


def register(cli: typer.Typer) -> None:
    cli.command("ready")(ready)
    cli.command("worker-ping")(worker_ping)
