"""The documented topic catalog (docs/architecture.md) says what the code does: consumers,
retention, every topic."""

from __future__ import annotations

import re
from importlib import import_module
from pathlib import Path

from keepword_events.topics import CATALOG, DAY_MS, EVENT_TOPICS, retention_ms

ARCHITECTURE = Path(__file__).resolve().parents[3] / "docs" / "architecture.md"
SERVICES = ("intake", "commitments", "escalation", "notifier", "insights")


def _catalog_rows() -> dict[str, list[str]]:
    text = ARCHITECTURE.read_text()
    start = text.index("\n## Topic catalog\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else len(text)]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| `"):
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def _readers(topic: str) -> set[str]:
    return {
        service
        for service in SERVICES
        if topic in getattr(import_module(f"keepword_{service}.app"), "INPUTS", ())
    }


def test_every_topic_has_a_row_with_its_real_consumers_and_retention() -> None:
    rows = _catalog_rows()
    assert set(EVENT_TOPICS) <= set(rows)
    for topic in EVENT_TOPICS:
        _producer, consumers, key, _schema, retention, _partitions = rows[topic]
        named = set(re.findall(r"\b(intake|commitments|escalation|notifier|insights)\b", consumers))
        assert named == _readers(topic), topic
        assert key == "thread_id"
        assert retention == f"{retention_ms(topic) // DAY_MS} days"
    dlq = next(cells for name, cells in rows.items() if name.endswith(".dlq"))
    assert dlq[4] == f"{retention_ms('x.dlq') // DAY_MS} days"


def test_the_catalog_names_the_services_that_subscribe_as_consumers() -> None:
    assert {spec.name: set(spec.consumers) for spec in CATALOG} == {
        spec.name: _readers(spec.name) for spec in CATALOG
    }
