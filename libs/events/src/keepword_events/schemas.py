"""JSON Schemas of every event type, generated from the models.

The generated files are committed under `libs/events/schemas/`; a test fails when a model and its
committed schema drift apart, so a contract change is always a visible diff.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .registry import EVENT_MODELS

# Where the committed schemas live in a source checkout (the workspace installs it editable).
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each event type's data, keyed by its CloudEvents type."""
    found: dict[str, dict[str, Any]] = {}
    for model in EVENT_MODELS:
        schema = model.model_json_schema(mode="serialization")
        schema["$id"] = f"urn:keepword:schema:{model.ce_type}"
        schema["x-cloudevents-type"] = model.ce_type
        schema["x-kafka-topic"] = model.topic
        found[model.ce_type] = schema
    return found


def render(schema: dict[str, Any]) -> str:
    """The canonical text of a schema file."""
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def export(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write every schema into `directory` (one file per type) and remove stale ones."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for ce_type, schema in json_schemas().items():
        path = directory / f"{ce_type}.json"
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    for stale in set(directory.glob("*.json")) - set(written):
        stale.unlink()
    return written


def drift(directory: Path = SCHEMA_DIR) -> list[str]:
    """Types whose committed schema differs from the model (or is missing, or is stale)."""
    expected = {f"{t}.json": render(s) for t, s in json_schemas().items()}
    present = {p.name: p.read_text(encoding="utf-8") for p in directory.glob("*.json")}
    return sorted(
        name for name in expected.keys() | present.keys() if expected.get(name) != present.get(name)
    )
