"""The reply deadline owed to a waiting customer: first_reply for a first contact, next_reply
after a person answered, counted from when the wait began, in the company's business time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from keepword_platform.company import CompanyConfig
from keepword_platform.reply_deadline import ReplySla, company_reply_deadline, reply_deadline

MONDAY_10_NEW_YORK = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
SLA = ReplySla(first_reply=timedelta(hours=24), next_reply=timedelta(hours=4), warn_fraction=0.75)


def plain(start: datetime, span: timedelta) -> datetime:
    return start + span


def test_a_first_contact_gets_first_reply_and_an_answered_thread_next_reply() -> None:
    first = reply_deadline(MONDAY_10_NEW_YORK, answered_before=False, sla=SLA, due_in=plain)
    after = reply_deadline(MONDAY_10_NEW_YORK, answered_before=True, sla=SLA, due_in=plain)
    assert (first.due_at, first.warn_at) == (
        MONDAY_10_NEW_YORK + timedelta(hours=24),
        MONDAY_10_NEW_YORK + timedelta(hours=18),
    )
    assert (after.due_at, after.warn_at) == (
        MONDAY_10_NEW_YORK + timedelta(hours=4),
        MONDAY_10_NEW_YORK + timedelta(hours=3),
    )


def test_the_company_deadline_counts_business_hours_in_its_time_zone() -> None:
    config = CompanyConfig.model_validate(
        {
            "company": {"timezone": "America/New_York"},
            "sla": {"first_reply": "24h", "next_reply": "4h", "business_hours": {}},
        }
    )
    first = company_reply_deadline(config, MONDAY_10_NEW_YORK, answered_before=False)
    after = company_reply_deadline(config, MONDAY_10_NEW_YORK, answered_before=True)
    assert first.due_at == datetime(2026, 11, 5, 15, 0, tzinfo=UTC)  # Thursday 10:00, 3 days on
    assert after.due_at == datetime(2026, 11, 2, 19, 0, tzinfo=UTC)  # Monday 14:00
