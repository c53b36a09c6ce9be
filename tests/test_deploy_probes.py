"""The manifests probe the health endpoints the services serve: readiness at /healthz/ready,
liveness at /healthz/live (Kubernetes), readiness as the Compose healthcheck."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.routing import APIRoute
from keepword_testkit.processes import SERVICES

ROOT = Path(__file__).resolve().parents[1]


def _container(service: str) -> dict[str, Any]:
    documents = yaml.safe_load_all((ROOT / "deploy" / "k8s" / f"{service}.yaml").read_text())
    [deployment] = [d for d in documents if d and d["kind"] == "Deployment"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return dict(container)


def _routes(service: str) -> set[str]:
    app: FastAPI = importlib.import_module(f"keepword_{service}.app").create_app()
    return {route.path for route in app.routes if isinstance(route, APIRoute)}


@pytest.mark.parametrize("service", SERVICES)
def test_kubernetes_probes_use_liveness_and_readiness(service: str) -> None:
    container = _container(service)
    probes = {
        kind: container[kind]["httpGet"]["path"]
        for kind in ("startupProbe", "readinessProbe", "livenessProbe")
    }

    assert probes == {
        "startupProbe": "/healthz/live",
        "readinessProbe": "/healthz/ready",
        "livenessProbe": "/healthz/live",
    }
    assert set(probes.values()) | {"/healthz"} <= _routes(service)


def test_compose_healthcheck_is_readiness_and_a_dead_service_exits() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for service in SERVICES:
        spec = compose["services"][service]
        assert "/healthz/ready" in " ".join(spec["healthcheck"]["test"]), service
        assert spec["environment"]["KEEPWORD_EXIT_WHEN_NOT_LIVE"] == "true", service
        assert spec["restart"] == "unless-stopped", service
