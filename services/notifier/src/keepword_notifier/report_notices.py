"""The manager's weekly report of the indices: this week against the week before, the longest
waits, the broken promises, a chart and the dashboard link. Pure: the caller passes the event,
the company configuration and ways to make the links.

The waits and promises name their threads; a week's threads are a click away on the dashboard
(every number there links to its threads). The chart is a PNG carried inline (`report_chart`,
drawn when the email is recorded); the figures above it are its text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from keepword_events import WeeklyReportDue
from keepword_events.reports import WeekFigures
from keepword_platform.company import CompanyConfig

from .notices import Notice, staff_name

TEMPLATE = "weekly_report_manager"


class ReportLinks(Protocol):
    """The links of a report: the manager's dashboard (signed: it signs them in) and a week
    on it. The service signs with `keepword_platform.dashboard_links`; tests pass a fake."""

    def dashboard(self, manager: str) -> str:
        """The manager's signed dashboard link."""
        ...

    def week(self, first: date, last: date) -> str:
        """The dashboard filtered to the days `first` to `last` (once signed in)."""
        ...


def _seconds(value: float | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=value)


def _change(now: float | Decimal | None, before: float | Decimal | None) -> float | None:
    """This week minus the week before; None when either is unknown."""
    if now is None or before is None:
        return None
    return float(now) - float(before)


def _row(name: str, kind: str, now: Any, before: Any, better: str = "") -> dict[str, Any]:
    """One figure, this week and the week before; `better` ("lower"/"higher") says which way
    is good, and the row says which way it went."""
    row = {"name": name, "kind": kind, "now": now, "before": before}
    return row | {"direction": _direction(now, before, better)}


def _rows(now: WeekFigures, before: WeekFigures) -> list[dict[str, Any]]:
    a, b = now.first_reply, before.first_reply
    return [
        _row("First replies", "count", a.count, b.count),
        _row(
            "First reply, median", "time", _seconds(a.p50_seconds), _seconds(b.p50_seconds), "lower"
        ),
        _row(
            "First reply, 90th percentile",
            "time",
            _seconds(a.p90_seconds),
            _seconds(b.p90_seconds),
            "lower",
        ),
        _row(
            "First replies within the SLA",
            "percent",
            a.within_sla_percent,
            b.within_sla_percent,
            "higher",
        ),
        _row("Promises kept", "count", now.promises_kept, before.promises_kept, "higher"),
        _row("Promises broken", "count", now.promises_broken, before.promises_broken, "lower"),
        _row(
            "Escalations opened",
            "count",
            now.escalations_opened,
            before.escalations_opened,
            "lower",
        ),
        _row('"Handle it" answers', "count", now.handle_it, before.handle_it, "lower"),
        _row("Refunds", "count", now.refunds, before.refunds, "lower"),
        _row("Refunded", "money", now.refund_total, before.refund_total, "lower"),
    ]


def _direction(now: Any, before: Any, better: str) -> str:
    """ "better", "worse" or "same"; "" for a figure that is neither good nor bad, or unknown."""
    if isinstance(now, timedelta) and isinstance(before, timedelta):
        now, before = now.total_seconds(), before.total_seconds()
    change = _change(now, before)
    if change is None or not better:
        return ""
    if change == 0:
        return "same"
    return "better" if (change < 0) == (better == "lower") else "worse"


def _name(email: str, company: CompanyConfig) -> str:
    person = company.person(email)
    return person.name if person else email


def chart(now: WeekFigures, before: WeekFigures) -> list[dict[str, Any]]:
    """The chart's bars: each count of the week beside the week before's."""
    pairs = [
        ("Promises kept", now.promises_kept, before.promises_kept),
        ("Promises broken", now.promises_broken, before.promises_broken),
        ("Escalations opened", now.escalations_opened, before.escalations_opened),
        ('"Handle it"', now.handle_it, before.handle_it),
        ("Refunds", now.refunds, before.refunds),
    ]
    return [{"name": name, "now": a, "before": b} for name, a, b in pairs]


def weekly_report_for(event: WeeklyReportDue, company: CompanyConfig, links: ReportLinks) -> Notice:
    """The report's email to its manager."""
    manager = event.manager
    zone = ZoneInfo(event.timezone)
    first_day = event.week_starts_at.astimezone(zone)
    last_day = (event.week_ends_at - timedelta(hours=12)).astimezone(zone)  # the Sunday
    return Notice(
        template=TEMPLATE,
        recipient=str(manager.email),
        recipient_name=staff_name(manager, company),
        recipient_role=manager.role,
        internal=True,
        context={
            "week": event.week,
            "week_starts_at": event.week_starts_at,
            "last_day": last_day,
            "rows": _rows(event.this_week, event.week_before),
            "chart": chart(event.this_week, event.week_before),
            # Unique within the email, and the same when it is rendered again.
            "chart_cid": f"chart.{event.week}.{event.thread_id}@keepword",
            "waits": [
                {
                    "thread_id": w.thread_id,
                    "began_at": w.began_at,
                    "waited": timedelta(seconds=w.business_seconds),
                    "answered": w.answered,
                }
                for w in event.worst_waits
            ],
            "broken": [
                {
                    "thread_id": b.thread_id,
                    "kind": b.kind,
                    "maker": _name(b.maker_email, company),
                    "broken_at": b.broken_at,
                }
                for b in event.broken_promises
            ],
            "broken_more": event.broken_promises_more,
            "dashboard_url": links.dashboard(str(manager.email)),
            "week_url": links.week(first_day.date(), last_day.date()),
        },
        thread_id=event.thread_id,
    )


def week_link(insights_url: str, first: date, last: date) -> str:
    """The dashboard filtered to a week (its own form's query: from and to, local days)."""
    query = urlencode({"from": first.isoformat(), "to": last.isoformat()})
    return f"{insights_url.rstrip('/')}/dashboard?{query}"


@dataclass(frozen=True, slots=True)
class InlineChart:
    """A chart an email shows inline: its Content-ID, its bars and the week's label."""

    cid: str
    bars: Sequence[Mapping[str, Any]]
    label: str


def inline_chart(notice: Notice) -> InlineChart | None:
    """The chart `notice`'s email shows inline, if it has one (the weekly report)."""
    if notice.template != TEMPLATE:
        return None
    context = notice.context
    return InlineChart(str(context["chart_cid"]), context["chart"], str(context["week"]))
