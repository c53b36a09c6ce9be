"""Asking for the indices: the facts of a period from PostgreSQL, the company's SLA and
calendar from its configuration, and `indices` over them."""

from __future__ import annotations

from datetime import datetime

import asyncpg
from keepword_platform.business_hours import calendar_for
from keepword_platform.company import CompanyConfig
from keepword_platform.reply_deadline import ReplySla, business_due_in

from . import repository
from .indices import Clock, Json, Period, indices


def clock_of(config: CompanyConfig, now: datetime) -> Clock:
    """The company's SLA clock, asked at `now`."""
    return Clock(
        sla=ReplySla.of(config.sla),
        calendar=calendar_for(config.sla.business_hours, config.company.timezone),
        due_in=business_due_in(config),
        now=now,
        low_rating_at_most=config.feedback.low_at_most,
    )


async def indices_of(
    pool: asyncpg.Pool, config: CompanyConfig, period: Period, now: datetime
) -> Json:
    """Every index of `period`, as the facts stand now."""
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        facts = await repository.facts_of(conn, period)
    return indices(facts, period, clock_of(config, now))
