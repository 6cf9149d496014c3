"""Every k8s overlay rendered with `kubectl kustomize` and validated with kubernetes-validate (offline schemas)."""

from __future__ import annotations

import copy
from typing import Any

import kubernetes_validate
import pytest

from testbed.manifests import OVERLAYS, compose_commands, find, k8s_commands, render_overlay

K8S_VERSION = kubernetes_validate.latest_version()
WORKLOADS = (("Deployment", "headroom-api"), ("Deployment", "headroom-worker"), ("Deployment", "headroom-beat"),
             ("Job", "headroom-migrate"))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_and_every_object_is_valid(overlay: str) -> None:
    objects = render_overlay(overlay)
    assert len(objects) >= 12
    for obj in objects:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def test_validation_rejects_a_broken_object() -> None:
    deployment = copy.deepcopy(find(render_overlay("prod"), "Deployment", "headroom-api"))
    deployment["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)
    deployment["spec"]["replicas"] = 3
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}  # typo: strict mode refuses it
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_processes_are_the_ones_compose_runs(overlay: str) -> None:
    assert k8s_commands(overlay) == compose_commands()


def _pod(obj: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = obj["spec"]["template"]["spec"]
    return pod


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workloads_are_locked_down_probed_and_sized(overlay: str) -> None:
    objects = render_overlay(overlay)
    for kind, name in WORKLOADS:
        pod = _pod(find(objects, kind, name))
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["serviceAccountName"] == "headroom", name
        for container in pod["containers"]:
            sc = container["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"]["drop"] == ["ALL"], name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
            # settings: a ConfigMap, and the secrets only by reference to a Secret made outside the repository
            assert container["envFrom"] == [{"configMapRef": {"name": "headroom-config"}}]
            assert all("valueFrom" in e and "secretKeyRef" in e["valueFrom"] for e in container["env"]), name
    assert not [o for o in objects if o["kind"] == "Secret"], "Secret values never live in the repository"
    assert find(objects, "ServiceAccount", "headroom")["automountServiceAccountToken"] is False
    api = _pod(find(objects, "Deployment", "headroom-api"))["containers"][0]
    assert api["livenessProbe"]["httpGet"]["path"] == "/api/health"
    assert api["readinessProbe"]["httpGet"]["path"] == "/api/ready"
    worker = _pod(find(objects, "Deployment", "headroom-worker"))["containers"][0]
    assert worker["livenessProbe"]["exec"]["command"] == ["headroom", "worker-ping"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_one_beat_scaled_workers_and_guard_rails(overlay: str) -> None:
    objects = render_overlay(overlay)
    beat = find(objects, "Deployment", "headroom-beat")
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"]["type"] == "Recreate"
    hpa = find(objects, "HorizontalPodAutoscaler", "headroom-worker")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "headroom-worker"
    assert 1 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    kinds = {o["kind"] for o in objects}
    assert {"Service", "Ingress", "ConfigMap", "NetworkPolicy", "PodDisruptionBudget", "Job"} <= kinds
    namespaces = {o["metadata"].get("namespace") for o in objects}
    assert namespaces == {"headroom-dev" if overlay == "dev" else "headroom"}


def test_prod_is_bigger_than_dev_and_uses_tls() -> None:
    dev, prod = render_overlay("dev"), render_overlay("prod")
    assert find(prod, "Deployment", "headroom-api")["spec"]["replicas"] > \
        find(dev, "Deployment", "headroom-api")["spec"]["replicas"]
    assert find(prod, "HorizontalPodAutoscaler", "headroom-worker")["spec"]["maxReplicas"] > \
        find(dev, "HorizontalPodAutoscaler", "headroom-worker")["spec"]["maxReplicas"]
    assert find(prod, "Ingress", "headroom")["spec"]["tls"]
