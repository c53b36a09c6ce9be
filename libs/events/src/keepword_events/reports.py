"""Reports insights sends: the weekly report of the indices, one event per manager and week
(`WeeklyReportDue`, on `keepword.reports.v1`), which the notifier turns into one email."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from . import topics
from .base import Event, Identifier
from .checks import UtcTime
from .common import Person, Value

IsoWeek = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-W[0-9]{2}$")]


class ReplyTimes(Value):
    """First replies whose wait began in the week: business seconds, nearest-rank."""

    count: int = Field(ge=0)
    p50_seconds: float | None = Field(default=None, ge=0)
    p90_seconds: float | None = Field(default=None, ge=0)
    within_sla_percent: float | None = Field(default=None, ge=0, le=100)


class WeekFigures(Value):
    """The headline indices of one week (company time, Monday to Monday)."""

    first_reply: ReplyTimes
    promises_kept: int = Field(ge=0, description="Promises the ledger marked kept in the week.")
    promises_broken: int = Field(ge=0, description="Promises that broke in the week.")
    escalations_opened: int = Field(ge=0)
    handle_it: int = Field(ge=0, description='"Handle it" answers managers gave in the week.')
    refunds: int = Field(ge=0, description="Refunds decided in the week.")
    refund_total: Annotated[Decimal, Field(ge=0, decimal_places=2)] = Decimal(0)


class Wait(Value):
    """One of the week's longest waits for a person's reply."""

    thread_id: Identifier
    began_at: UtcTime
    business_seconds: float = Field(ge=0)
    answered: bool = Field(description="False: the customer was still waiting when reported.")


class BrokenPromise(Value):
    """A promise that broke in the week."""

    commitment_id: Identifier
    thread_id: Identifier
    kind: str
    maker_email: str
    broken_at: UtcTime


class WeeklyReportDue(Event):
    """The weekly report of the indices is due to one manager.

    One per manager and week: its event id is derived from (week, manager), and the thread id
    (the record key) names the manager's reports, so a manager's reports stay in order.
    """

    ce_type: ClassVar[str] = "keepword.report.weekly.v1"
    topic: ClassVar[str] = topics.REPORTS

    week: IsoWeek = Field(description="The ISO week reported, in company time: 2026-W49.")
    week_starts_at: UtcTime
    week_ends_at: UtcTime = Field(description="Not included: the next Monday 00:00.")
    timezone: str = Field(description="The company's time zone (IANA).")
    manager: Person
    this_week: WeekFigures
    week_before: WeekFigures
    worst_waits: tuple[Wait, ...] = Field(default=(), max_length=3)
    broken_promises: tuple[BrokenPromise, ...] = Field(
        default=(), max_length=50, description="The first 50, oldest first."
    )
    broken_promises_more: int = Field(default=0, ge=0, description="Broken beyond those listed.")
