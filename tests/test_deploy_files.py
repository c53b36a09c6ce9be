"""The production manifests agree with the code: topic catalog and the shipped configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from keepword_events.topics import ALL_TOPICS, retention_ms
from keepword_ops.acls import render_kafka_users
from keepword_platform.kafka_acls import ACCESS, ADMIN_USER, SERVICES

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
        "insights",
    } <= set(compose["services"])


def test_strimzi_kafka_users_are_the_render_of_the_acl_table() -> None:
    committed = (ROOT / "deploy" / "k8s" / "kafka-users.yaml").read_text()

    assert committed == render_kafka_users(), (
        "regenerate: keepword acls k8s > deploy/k8s/kafka-users.yaml"
    )
    users = {
        u["metadata"]["name"]: u["spec"]
        for u in _documents(ROOT / "deploy" / "k8s" / "kafka-users.yaml")
    }
    assert sorted(users) == sorted(SERVICES)
    for spec in users.values():
        assert spec["authentication"] == {"type": "scram-sha-512"}
        assert all(
            acl["resource"].get("patternType", "literal") == "literal"
            for acl in spec["authorization"]["acls"]
        )
    # The notifier reads the messages topic and may not write it.
    notifier = {
        (acl["resource"].get("name"), op)
        for acl in users["notifier"]["authorization"]["acls"]
        for op in acl["operations"]
    }
    assert ("keepword.messages.v1", "Read") in notifier
    assert ("keepword.messages.v1", "Write") not in notifier


def test_the_acl_table_matches_what_each_service_documents() -> None:
    # The AsyncAPI documents (generated from the services' subscribers and publishers) name the
    # channels each service receives from and sends to: exactly those its principal may use.
    for access in ACCESS:
        document = yaml.safe_load((ROOT / "docs" / "asyncapi" / f"{access.user}.yaml").read_text())
        channels = {c["address"] for c in document["channels"].values()}
        assert channels == set(access.reads) | set(access.writes), access.user


def test_the_secure_compose_overlay_locks_every_client_in() -> None:
    """deploy/compose/secure.yml: each service logs in to Kafka over SASL_SSL as its own
    principal (the ACL table's), every password is required, PostgreSQL is reached over TLS."""
    overlay = yaml.safe_load((ROOT / "deploy" / "compose" / "secure.yml").read_text())
    services = overlay["services"]

    assert set(SERVICES) <= set(services)
    for name in (*SERVICES, "provision"):
        env = services[name]["environment"]
        assert env["KEEPWORD_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL", name
        assert env["KEEPWORD_KAFKA_SSL_CAFILE"] == "/secure/ca.crt", name
        assert env["KEEPWORD_KAFKA_SASL_USERNAME"] == (name if name != "provision" else ADMIN_USER)
        assert ":?" in env["KEEPWORD_KAFKA_SASL_PASSWORD"], f"{name}: the password is required"
        assert "sslmode=verify-full" in env["KEEPWORD_DATABASE_URL"], name
    assert "keepword acls apply" in " ".join(services["provision"]["command"])
    broker = services["kafka"]["environment"]
    assert "PLAINTEXT" not in broker["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].replace(
        "CONTROLLER:PLAINTEXT", ""
    )
    assert broker["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    scram_users = " ".join(services["kafka-format"]["command"])
    assert all(f"name={user}," in scram_users for user in (ADMIN_USER, *SERVICES))
    assert "hba_file=/secure/postgres/pg_hba.conf" in services["postgres"]["command"]
