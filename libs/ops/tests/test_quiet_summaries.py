"""The one-line summaries `make up` prints for topics and migrations (`--quiet`)."""

from __future__ import annotations

import pytest
from keepword_events.topics import ALL_TOPICS
from keepword_ops.cli import app
from keepword_ops.commands import SERVICE_SCHEMAS, migration_summary, topics_summary
from keepword_platform.migrations import load_migrations
from typer.testing import CliRunner

runner = CliRunner()
TOTAL = sum(len(load_migrations(p)) for _, packages in SERVICE_SCHEMAS for p in packages)


def test_topics_summary_counts_ready_and_created_topics() -> None:
    assert topics_summary({"a": "created", "b": "exists"}) == "topics: 2 ready (1 created)"
    assert topics_summary({"a": "exists"}) == "topics: 1 ready (nothing new)"
    assert topics_summary({"a": "exists", "b": "exists with 3 partitions (wanted 6)"}) == (
        "topics: 1 ready (nothing new), 1 with other partition counts"
    )


def test_migration_summary_counts_every_shipped_migration_and_the_new_ones() -> None:
    schemas: dict[str, list[str]] = {schema: [] for schema, _ in SERVICE_SCHEMAS}
    count = len(SERVICE_SCHEMAS)
    assert migration_summary(schemas) == f"migrated {TOTAL} in {count} schemas (nothing new)"
    schemas["intake"] = ["keepword_intake:0001_a.sql", "keepword_intake:0002_b.sql"]
    assert migration_summary(schemas) == f"migrated {TOTAL} in {count} schemas (2 new)"


@pytest.mark.kafka
@pytest.mark.postgres
def test_quiet_provisioning_prints_one_line_per_command(
    monkeypatch: pytest.MonkeyPatch, catalog_topics: str, database_url: str
) -> None:
    monkeypatch.setenv("KEEPWORD_KAFKA_BOOTSTRAP", catalog_topics)
    monkeypatch.setenv("KEEPWORD_DATABASE_URL", database_url)
    runner.invoke(app, ["db", "migrate"])  # whatever was pending, so that nothing is new below

    topics = runner.invoke(app, ["topics", "create", "--quiet"])
    migrated = runner.invoke(app, ["db", "migrate", "-q"])

    assert topics.exit_code == 0, topics.output
    assert topics.stdout == f"topics: {len(ALL_TOPICS)} ready (nothing new)\n"
    assert migrated.exit_code == 0, migrated.output
    assert migrated.stdout == f"migrated {TOTAL} in {len(SERVICE_SCHEMAS)} schemas (nothing new)\n"
