"""Safe by default: a service started without saying it is a development or test run refuses
the development link secret, and the deployment files give every service a real one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from keepword_testkit.processes import SERVICES

ROOT = Path(__file__).resolve().parents[1]
STARTS = ("intake", "escalation")


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_a_service_started_without_a_mode_or_a_secret_refuses_naming_each_problem() -> None:
    unset = {"KEEPWORD_ENV", "KEEPWORD_LINK_SECRET", "KEEPWORD_ESCALATION_PUBLIC_URL", "PGSSLMODE"}
    env = {name: value for name, value in os.environ.items() if name not in unset}
    # Nothing is reachable here: the refusal must come before any connection is tried.
    env |= {
        "KEEPWORD_KAFKA_BOOTSTRAP": "127.0.0.1:9",
        "KEEPWORD_DATABASE_URL": "postgresql://x@127.0.0.1:9/x",
    }
    processes = {
        name: subprocess.Popen(
            [sys.executable, "-m", f"keepword_{name}"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in STARTS  # each way a service starts: its own main, ConsumingService.main
    }
    ended = {name: process.communicate(timeout=120) for name, process in processes.items()}

    for name, process in processes.items():
        stderr = ended[name][1]
        assert process.returncode not in (0, None), name
        assert "refusing to start with KEEPWORD_ENV=production" in stderr, (name, stderr)
        for variable in (
            "KEEPWORD_LINK_SECRET",
            "KEEPWORD_ESCALATION_PUBLIC_URL",
            "KEEPWORD_DATABASE_URL",
        ):
            assert variable in stderr, (name, variable)
        assert "KEEPWORD_ENV=development" in stderr, name


def test_every_kubernetes_service_gets_the_link_secret_from_a_secret_in_production_mode() -> None:
    [env_map] = [
        doc
        for doc in _documents(ROOT / "deploy" / "k8s" / "config.yaml")
        if doc["metadata"]["name"] == "keepword-env"
    ]
    [secret] = _documents(ROOT / "deploy" / "k8s" / "secret.example.yaml")

    assert env_map["data"]["KEEPWORD_ENV"] == "production"
    assert env_map["data"]["KEEPWORD_ESCALATION_PUBLIC_URL"].startswith("https://")
    assert "KEEPWORD_LINK_SECRET" in secret["stringData"]
    assert "KEEPWORD_LINK_SECRET" not in env_map["data"]
    for service in SERVICES:
        [deployment] = [
            doc
            for doc in _documents(ROOT / "deploy" / "k8s" / f"{service}.yaml")
            if doc["kind"] == "Deployment"
        ]
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        variables = {variable["name"]: variable for variable in container.get("env", [])}
        config_maps = [
            s["configMapRef"]["name"] for s in container["envFrom"] if "configMapRef" in s
        ]

        key = variables["KEEPWORD_LINK_SECRET"]["valueFrom"]["secretKeyRef"]
        assert (key["name"], key["key"]) == (secret["metadata"]["name"], "KEEPWORD_LINK_SECRET")
        assert not key.get("optional", False), service
        assert "keepword-env" in config_maps, service


def test_compose_requires_the_link_secret_and_says_it_is_a_development_stack() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for service in SERVICES:
        environment = compose["services"][service]["environment"]
        # ${VAR:?message} stops `docker compose` when it is unset; ${VAR:-default} would not.
        assert re.fullmatch(
            r"\$\{KEEPWORD_LINK_SECRET:\?[^}]+\}", environment["KEEPWORD_LINK_SECRET"]
        )
        assert environment["KEEPWORD_ENV"] == "development", service
