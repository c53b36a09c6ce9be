"""The insights service as a process fires a weekly report that fell due while it was down:
each manager's WeeklyReportDue reaches keepword.reports.v1 through the outbox, keyed by the
manager's report thread under the (week, manager) event id, and the next report is armed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from keepword_events import WeeklyReportDue, decode, topics
from keepword_insights.app import MIGRATIONS
from keepword_insights.report import report_event_id, report_thread
from keepword_insights.report_store import TIMER_KIND, TIMER_SUBJECT, report_timer
from keepword_insights.repository import SCHEMA
from keepword_insights.schedule import MONDAY_8, next_due, week_before
from keepword_platform.messaging.timers import set_timer
from keepword_platform.migrations import apply_migrations
from keepword_testkit.kafka_probe import TopicProbe
from keepword_testkit.processes import running_service

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

BERLIN = ZoneInfo("Europe/Berlin")
MANAGERS = ("ana.lead@example.com", "ben.director@example.com")
CONFIG = """
[company]
timezone = "Europe/Berlin"

[[people]]
email = "ana.lead@example.com"
name = "Ana"
role = "management"
level = 1

[[people]]
email = "ben.director@example.com"
name = "Ben"
role = "management"
level = 2

[[people]]
email = "sam@example.com"
name = "Sam"
role = "sales"
"""


async def test_a_report_due_while_insights_was_down_is_sent_when_it_starts(
    fresh_kafka: str, database_url: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    missed = next_due(now - timedelta(days=7), MONDAY_8, BERLIN)  # the last Monday 08:00
    week = week_before(missed, BERLIN).label
    db = await asyncpg.connect(database_url)
    try:
        await db.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        await apply_migrations(db, SCHEMA, MIGRATIONS)
        await set_timer(db, SCHEMA, TIMER_KIND, TIMER_SUBJECT, missed)
        config = tmp_path / "keepword.toml"
        config.write_text(CONFIG)
        env = {
            "KEEPWORD_KAFKA_BOOTSTRAP": fresh_kafka,
            "KEEPWORD_DATABASE_URL": database_url,
            "KEEPWORD_CONFIG": str(config),
        }
        async with TopicProbe(fresh_kafka, [topics.REPORTS], source="/keepword/insights") as probe:
            with running_service("insights", log_dir=tmp_path, env=env):
                for _ in range(300):
                    records = await probe.records()
                    if len(records) >= len(MANAGERS):
                        break
                    await asyncio.sleep(0.1)
            next_at = await report_timer(db)
    finally:
        await db.close()

    reports = [decode(r.value, r.headers) for r in records]
    assert sorted(e.id for e in reports) == sorted(report_event_id(week, m) for m in MANAGERS)
    assert all(isinstance(e.data, WeeklyReportDue) and e.data.week == week for e in reports)
    assert sorted(r.key for r in records if r.key) == sorted(
        report_thread(m).encode() for m in MANAGERS
    )
    assert next_at == next_due(now, MONDAY_8, BERLIN)
