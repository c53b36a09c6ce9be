"""The production manifests agree with the code: topic catalog and the shipped configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from keepword_events.topics import ALL_TOPICS, retention_ms

ROOT = Path(__file__).resolve().parents[1]


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def test_strimzi_topics_match_the_catalog() -> None:
    topics = _documents(ROOT / "deploy" / "k8s" / "kafka-topics.yaml")

    by_name = {t["spec"]["topicName"]: t["spec"] for t in topics}

    assert sorted(by_name) == sorted(ALL_TOPICS)
    assert {spec["partitions"] for spec in by_name.values()} == {6}
    for name, spec in by_name.items():
        assert int(spec["config"]["retention.ms"]) == retention_ms(name), name


def test_the_k8s_config_map_carries_the_shipped_configuration_file() -> None:
    config_maps = _documents(ROOT / "deploy" / "k8s" / "config.yaml")
    [company] = [c for c in config_maps if c["metadata"]["name"] == "keepword-config"]

    shipped = (ROOT / "deploy" / "local" / "keepword.toml").read_text()

    assert company["data"]["keepword.toml"] == shipped


def test_compose_runs_every_service() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert {
        "kafka",
        "postgres",
        "mailcatcher",
        "intake",
        "commitments",
        "escalation",
        "notifier",
    } <= set(compose["services"])
