"""docker-compose.yml against the Compose Specification's JSON schema, and what the distributed mode needs of it."""

from __future__ import annotations

import copy
import shutil
import subprocess
from typing import Any

import jsonschema
import pytest
import typer

from cli.main import cli
from testbed.manifests import DASHBOARD, HEADROOM_SERVICES, ROOT, compose, compose_commands, compose_schema


def _errors(document: dict[str, Any]) -> list[str]:
    # the vendored schema declares draft 2019-09
    validator = jsonschema.Draft201909Validator(compose_schema(), format_checker=jsonschema.FormatChecker())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    assert _errors(compose()) == []


def test_the_schema_check_rejects_a_wrong_compose_file() -> None:
    broken = copy.deepcopy(compose())
    broken["services"]["api"]["replicas"] = 2  # belongs under deploy:
    broken["services"]["worker"]["depends_on"]["migrate"]["condition"] = 7
    errors = _errors(broken)
    assert any("replicas" in e for e in errors) and any("depends_on" in e for e in errors)


def test_headroom_services_run_headroom_commands_that_exist() -> None:
    commands = typer.main.get_command(cli).commands  # type: ignore[attr-defined]
    for service, argv in compose_commands().items():
        assert argv[0] == "headroom" and argv[1] in commands, f"{service}: {argv}"
    assert compose_commands() == {"migrate": ["headroom", "migrate"], "api": ["headroom", "serve"],
                                  "worker": ["headroom", "worker"], "beat": ["headroom", "beat"]}


def test_replicas_ordering_and_healthchecks() -> None:
    services = compose()["services"]
    assert services["api"]["deploy"]["replicas"] == 2
    assert services["beat"]["deploy"]["replicas"] == 1
    assert "replicas" not in services["worker"].get("deploy", {}) or services["worker"]["deploy"]["replicas"] >= 1
    for name in ("api", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
        assert services[name]["healthcheck"]["test"], name
    for name in ("postgres", "redis", "influxdb"):
        assert services[name]["healthcheck"]["test"], name
        assert services["migrate"]["depends_on"].get(name, {"condition": "service_healthy"})["condition"] == \
            "service_healthy"
    assert services["worker"]["healthcheck"]["test"][1:] == ["headroom", "worker-ping"]
    assert "/api/ready" in " ".join(services["api"]["healthcheck"]["test"])
    assert services["influxdb"]["image"].startswith("influxdb:1.")  # the v1 HTTP API


def test_settings_come_from_env_and_secrets_are_never_written_in() -> None:
    services = compose()["services"]
    for name in HEADROOM_SERVICES:
        env = services[name]["environment"]
        assert services[name]["env_file"] == ".env"
        assert env["HEADROOM_SECRET_KEY"].startswith("${HEADROOM_SECRET_KEY:?")
        for key in ("HEADROOM_DATABASE_URL", "HEADROOM_METRICS_URL"):
            assert "${" in env[key], f"{name}.{key} must take its password from .env"


def test_observability_profile_provisions_prometheus_and_grafana() -> None:
    services = compose()["services"]
    assert services["prometheus"]["profiles"] == ["observability"]
    assert services["grafana"]["profiles"] == ["observability"]
    for service in ("prometheus", "grafana"):
        for volume in services[service]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{service} mounts missing {source}"
    assert (ROOT / "deploy/grafana/dashboards").resolve() == DASHBOARD.parent.resolve()


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool comes with Debian's prometheus package")
def test_prometheus_config_is_accepted_by_promtool() -> None:
    proc = subprocess.run(["promtool", "check", "config", "--syntax-only",
                           str(ROOT / "deploy/prometheus/prometheus.yml")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
