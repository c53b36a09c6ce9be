"""The committed JSON Schemas match the models; regenerate with `keepword schemas export`."""

from __future__ import annotations

import json

import jsonschema
from keepword_events import EVENT_MODELS
from keepword_events.examples import every_event
from keepword_events.schemas import SCHEMA_DIR, drift, json_schemas


def test_committed_schemas_match_the_models() -> None:
    drifted = drift()
    assert not drifted, f"run `keepword schemas export` and commit: {drifted}"


def test_there_is_one_schema_per_event_type() -> None:
    assert sorted(p.stem for p in SCHEMA_DIR.glob("*.json")) == sorted(
        m.ce_type for m in EVENT_MODELS
    )


def test_every_example_validates_against_its_schema() -> None:
    schemas = json_schemas()
    for event in every_event():
        document = json.loads(event.model_dump_json())
        jsonschema.validate(document, schemas[event.ce_type])
