"""The dashboard's figures: each count with the threads behind it, found again by its key;
the filters of its form; its charts drawn as SVG with the SLA line."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from keepword_insights.dashboard_charts import draw_all
from keepword_insights.dashboard_figures import EscalationRow, PromiseRow, figures
from keepword_insights.dashboard_filters import FilterError, filters_of
from keepword_insights.facts import Wait
from keepword_insights.reading import clock_of
from keepword_platform.company import CompanyConfig

COMPANY = CompanyConfig.model_validate(
    {
        "company": {"name": "Brightline", "timezone": "Europe/Berlin"},
        "sla": {
            "first_reply": "4h",
            "next_reply": "8h",
            "business_hours": {"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"},
        },
    }
)
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_9 = datetime(2025, 3, 17, 9, tzinfo=BERLIN).astimezone(UTC)
CLOCK = clock_of(COMPANY, MONDAY_9 + timedelta(days=30))


def _wait(thread: str, hours: float, *, next_reply: bool = False, role: str = "sales") -> Wait:
    return Wait(
        thread_id=thread,
        began_at=MONDAY_9,
        answered_before=next_reply,
        messages=1,
        replied_at=MONDAY_9 + timedelta(hours=hours),
        replier_email=f"{role}@brightline.example",
        replier_role=role,
    )


def _promise(n: int, role: str, status: str, verdict: str | None, weeks: int = 0) -> PromiseRow:
    return PromiseRow(
        commitment_id=f"p{n}",
        thread_id=f"t{n}",
        kind="delivery_date",
        maker_role=role,
        made_at=MONDAY_9 + timedelta(weeks=weeks),
        status=status,
        verdict=verdict,
        asked=verdict is not None or status == "awaiting_confirmation",
    )


def test_first_replies_are_bucketed_by_business_hours_and_checked_against_the_sla() -> None:
    waits = [
        _wait("a", 0.1),
        _wait("b", 3.5),
        _wait("c", 4),
        _wait("d", 5),
        _wait("n", 1, next_reply=True),
    ]

    found = figures(waits, [], [], CLOCK)

    assert found.first_replies.count == 4  # the next reply is not a first one
    assert set(found.within_sla.thread_ids) == {"a", "b", "c"}  # at the deadline is in time
    counted = {b.label: b.cell.thread_ids for b in found.reply_buckets if b.cell.count}
    assert counted == {"0 min to 15 min": ("a",), "2 h to 4 h": ("b", "c"), "4 h to 8 h": ("d",)}
    assert found.sla_hours == 4
    assert found.cell("reply:sla") == found.within_sla


def test_promises_kept_and_broken_per_team_and_week_and_the_gap_per_team() -> None:
    promises = [
        _promise(1, "sales", "kept", "confirmed"),
        _promise(2, "sales", "broken", "confirmed", weeks=1),
        _promise(3, "marketing", "rejected", "rejected"),
        _promise(4, "marketing", "renegotiated", "countered"),
        _promise(5, "marketing", "declared", None),
    ]

    found = figures([], promises, [], CLOCK)

    assert found.weeks == ("2025-W12", "2025-W13")
    assert found.promise_outcomes["sales"]["2025-W12"]["kept"].thread_ids == ("t1",)
    assert found.promise_outcomes["sales"]["2025-W13"]["broken"].thread_ids == ("t2",)
    assert found.promise_outcomes["marketing"]["2025-W12"]["kept"].count == 0
    gap = {team: {k: c.count for k, c in row.items()} for team, row in found.gap.items()}
    assert gap["marketing"] == {
        "made": 3,
        "asked": 2,
        "confirmed": 0,
        "rejected": 1,
        "countered": 1,
        "gap": 2,
    }
    assert gap["all"]["made"] == 5
    assert gap["all"]["gap"] == 2
    cell = found.cell("gap:marketing:gap")
    assert cell is not None
    assert cell.thread_ids == ("t3", "t4")


def test_escalations_per_rule_and_highest_level() -> None:
    rows = [
        EscalationRow("e1", "t1", "stalled", 1),
        EscalationRow("e2", "t2", "stalled", 2),
        EscalationRow("e3", "t2", "stalled", 2),
    ]

    found = figures([], [], rows, CLOCK)

    assert found.levels == (1, 2)
    assert found.escalations["stalled"][2].count == 2
    assert found.escalations["stalled"][2].thread_ids == ("t2",)  # a thread listed once
    assert found.escalations["promise_gap"][1].count == 0
    assert found.cell("escalation:stalled:1") == found.escalations["stalled"][1]


def test_the_filters_default_to_the_last_28_days_and_refuse_what_cannot_be_shown() -> None:
    today = date(2025, 4, 28)
    default = filters_of({}, today, BERLIN)
    assert (default.first, default.last, default.team) == (date(2025, 4, 1), today, None)
    period = filters_of({"from": "2025-03-30", "to": "2025-03-30"}, today, BERLIN).period()
    assert period.end - period.start == timedelta(hours=23)  # the day the clocks went forward
    assert "team=sales" in filters_of({"team": "sales"}, today, BERLIN).query(cell="x")
    for bad in ({"from": "31.3.2025"}, {"team": "customer"}, {"from": "2025-05-01"}):
        with pytest.raises(FilterError):
            filters_of(bad, today, BERLIN)
    with pytest.raises(FilterError, match="366"):
        filters_of({"from": "2023-01-01"}, today, BERLIN)


def test_every_chart_is_an_svg_with_its_text_and_the_sla_line() -> None:
    found = figures(
        [_wait("a", 1), _wait("b", 6)],
        [_promise(1, "sales", "kept", "confirmed")],
        [EscalationRow("e1", "t1", "stalled", 1)],
        CLOCK,
    )

    charts = draw_all(found)

    assert set(charts) == {"replies", "promises", "escalations"}
    for svg in charts.values():
        assert svg.startswith("<svg")
        assert svg.rstrip().endswith("</svg>")
    assert "SLA (first reply)" in charts["replies"]  # text stays text
    assert "2025-W12" in charts["promises"]
