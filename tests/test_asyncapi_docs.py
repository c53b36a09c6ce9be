"""The committed AsyncAPI documents (docs/asyncapi/) are what `faststream docs gen` makes now.

The documents are compared as parsed YAML: FastStream lists publishers in no fixed order, so
a reordering is no drift, while any change of channel, operation or schema is.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from faststream import FastStream
from faststream._internal.cli.utils.imports import import_from_string
from keepword_events import models_on_topic
from keepword_events.topics import CATALOG, dead_letter_topic
from keepword_ops.asyncapi import SERVICES, produced_by

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "asyncapi"
FASTSTREAM = Path(sys.executable).with_name("faststream")
UNSHOWN_BOOTSTRAP = "203.0.113.1:9092"  # where the documents are made must not show in them


CLI_CHECKED = "intake"  # one service through the command itself; the others by its steps


def _by_the_cli(service: str, out: Path) -> Any:
    """The document `faststream docs gen` writes (a process that imports the service)."""
    path = out / f"{service}.yaml"
    run = subprocess.run(
        [
            str(FASTSTREAM),
            "docs",
            "gen",
            "--yaml",
            "--factory",
            f"keepword_ops.asyncapi:{service}",
            "--out",
            str(path),
        ],
        cwd=ROOT,
        env={**os.environ, "KEEPWORD_KAFKA_BOOTSTRAP": UNSHOWN_BOOTSTRAP},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, f"{service}: {run.stdout}{run.stderr}"
    return yaml.safe_load(path.read_text())


def _by_its_steps(service: str) -> Any:
    """The document by the command's own steps, in this process: a process per service (each
    importing it whole) took 20 s of the suite."""
    _, app = import_from_string(f"keepword_ops.asyncapi:{service}", is_factory=True)
    assert isinstance(app, FastStream)
    return yaml.safe_load(app.schema.to_specification().to_yaml())


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Each service's document, generated now."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KEEPWORD_KAFKA_BOOTSTRAP", UNSHOWN_BOOTSTRAP)
        documents = {service: _by_its_steps(service) for service in SERVICES}
    cli = _by_the_cli(CLI_CHECKED, tmp_path_factory.mktemp("asyncapi"))
    assert cli == documents[CLI_CHECKED], "the command and its steps made different documents"
    return documents


@pytest.mark.parametrize("service", list(SERVICES))
def test_the_committed_document_is_up_to_date(service: str, generated: dict[str, Any]) -> None:
    committed = DOCS / f"{service}.yaml"
    assert committed.exists(), f"{committed} is missing: run `make docs`"
    assert yaml.safe_load(committed.read_text()) == generated[service], (
        f"{committed.relative_to(ROOT)} is out of date: run `make docs` and commit it"
    )


@pytest.mark.parametrize("service", list(SERVICES))
def test_the_document_shows_what_the_service_reads_and_writes(
    service: str, generated: dict[str, Any]
) -> None:
    document = generated[service]
    operations = document["operations"].values()
    channels = document["channels"]

    def addresses(action: str) -> set[str]:
        return {
            channels[op["channel"]["$ref"].rsplit("/", 1)[1]]["address"]
            for op in operations
            if op["action"] == action
        }

    consumers = {spec.name for spec in CATALOG if service in spec.consumers}
    read = addresses("receive")
    assert document["info"]["title"] == f"Keepword {service}"
    assert document["servers"]["development"]["host"] == "127.0.0.1:9092"
    assert addresses("send") == set(produced_by(service)) | {dead_letter_topic(t) for t in read}
    assert produced_by(service) or service == "insights"  # the read side publishes nothing
    # What the service subscribes to is exactly what the catalog says it reads.
    assert read == consumers


def _named(ref: dict[str, str]) -> str:
    return ref["$ref"].rsplit("/", 1)[1]


@pytest.mark.parametrize("service", list(SERVICES))
def test_what_the_service_reads_is_documented_by_its_event_models(
    service: str, generated: dict[str, Any]
) -> None:
    document = generated[service]
    components = document["components"]
    received = [op for op in document["operations"].values() if op["action"] == "receive"]
    assert bool(received) == any(service in spec.consumers for spec in CATALOG)
    for operation in received:
        channel = document["channels"][_named(operation["channel"])]
        for message in channel["messages"].values():
            payload = components["messages"][_named(message)]["payload"]
            schema = components["schemas"][_named(payload)]
            models = {_named(ref) for ref in schema.get("anyOf", [payload])}
            # One subscriber reads all the service's topics, so its payload is any event of them.
            assert {m.__name__ for m in models_on_topic(channel["address"])} <= models
            assert all("properties" in components["schemas"][name] for name in models)
