"""`headroom alerts ...`: test message, silences, deliveries and evaluate, on a real SQLite database."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from cli.main import cli
from tests.integration.test_alerting.receivers import Receiver

pytestmark = pytest.mark.integration


def test_cli_round_trip(receiver: Receiver, use_alerts_yml: Callable[[str], None]) -> None:
    use_alerts_yml(
        f"channels:\n  - {{name: ops, type: slack, webhook_url: '{receiver.url}/services/T/B/SECRET'}}\n"
        "rules:\n  - {name: silent, kind: source_silent, channels: [ops]}\n")
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    evaluated = runner.invoke(cli, ["alerts", "evaluate"])
    assert evaluated.exit_code == 0 and "silent: 0 findings" in evaluated.output, evaluated.output
    channels = runner.invoke(cli, ["alerts", "channels", "-o", "json"])
    assert json.loads(channels.output)[0]["name"] == "ops" and "SECRET" not in channels.output
    sent = runner.invoke(cli, ["alerts", "test", "ops"])
    assert sent.exit_code == 0 and "delivered" in sent.output
    assert receiver.requests[-1].json()["text"].startswith("[TEST]")
    missing = runner.invoke(cli, ["alerts", "test", "nope"])
    assert missing.exit_code == 2 and "no channel named 'nope'" in missing.output
    silenced = runner.invoke(cli, ["alerts", "silence", "--for", "2h", "--rule", "silent", "--match",
                                   "source=aws", "--comment", "migration"])
    assert silenced.exit_code == 0 and "silence 1 until" in silenced.output, silenced.output
    listed = json.loads(runner.invoke(cli, ["alerts", "silences", "-o", "json"]).output)
    assert listed[0]["matchers"] == {"source": "aws"} and listed[0]["comment"] == "migration"
    deliveries = json.loads(runner.invoke(cli, ["alerts", "deliveries", "-o", "json"]).output)
    assert [(d["kind"], d["status"]) for d in deliveries] == [("test", "delivered")]
    assert runner.invoke(cli, ["alerts", "new-secret"]).output.startswith("whsec_")
