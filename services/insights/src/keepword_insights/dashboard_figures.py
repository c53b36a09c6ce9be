"""The dashboard's figures, as pure functions: fact rows in, counts with the threads behind
each one out. No SQL, no clock of its own, no drawing.

The rules are those of `indices`: replies by when the wait began (the team is who replied),
promises by when they were made (the team is who made them), escalations by when they opened;
"within the SLA" is a reply at or before `reply_deadline`'s deadline. Every count is a `Cell`
with a key, so that the threads page finds the same threads again from the key alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from math import inf

from keepword_events import CommitmentStatus, EscalationRule
from keepword_platform.reply_deadline import reply_deadline

from .facts import Wait
from .indices import GAP_VERDICTS, Clock

HOUR = 3600.0
# Bucket edges of the first-reply chart, in business hours (the SLA's own is added).
REPLY_EDGES_HOURS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 24.0, 40.0)
OUTCOMES = (CommitmentStatus.KEPT.value, CommitmentStatus.BROKEN.value)
GAP_COLUMNS = ("made", "asked", "confirmed", "rejected", "countered", "gap")


@dataclass(frozen=True, slots=True)
class PromiseRow:
    """A promise made in the period, as it stands now."""

    commitment_id: str
    thread_id: str
    kind: str
    maker_role: str
    made_at: datetime
    status: str
    verdict: str | None
    asked: bool  # production was asked to confirm it


@dataclass(frozen=True, slots=True)
class EscalationRow:
    """An escalation opened in the period, and the highest level it reached."""

    escalation_id: str
    thread_id: str
    rule: str
    level: int


@dataclass(frozen=True, slots=True)
class Cell:
    """One number of the dashboard: how many, and the threads behind it (each once)."""

    key: str
    count: int
    thread_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReplyBucket:
    """First replies that took more than `low` and at most `high` business hours (one at the
    SLA exactly is on the SLA line's left, with the replies in time)."""

    label: str
    low_hours: float
    high_hours: float
    cell: Cell


@dataclass(frozen=True, slots=True)
class Figures:
    """Everything the dashboard shows for a period."""

    sla_hours: float
    reply_buckets: tuple[ReplyBucket, ...]
    first_replies: Cell
    within_sla: Cell
    weeks: tuple[str, ...]
    # team -> week -> kept/broken
    promise_outcomes: Mapping[str, Mapping[str, Mapping[str, Cell]]]
    rules: tuple[str, ...]
    levels: tuple[int, ...]
    escalations: Mapping[str, Mapping[int, Cell]]  # rule -> level
    gap: Mapping[str, Mapping[str, Cell]]  # team (and "all") -> column
    cells: Mapping[str, Cell] = field(default_factory=dict)

    def cell(self, key: str) -> Cell | None:
        """The number a link names, if the figures have it."""
        return self.cells.get(key)


def _cell(key: str, items: Iterable[str]) -> Cell:
    items = list(items)
    return Cell(key, len(items), tuple(dict.fromkeys(items)))


def hours_label(hours: float) -> str:
    """A duration in business hours for people: 15 min, 1 h, 1.5 h."""
    if hours == inf:
        return "∞"
    if hours < 1:
        return f"{round(hours * 60)} min"
    return f"{hours:g} h"


def _span(low: float, high: float) -> str:
    return f"{hours_label(low)} to {hours_label(high)}" if high != inf else f"≥ {hours_label(low)}"


def _edges(sla_hours: float) -> list[float]:
    return [*sorted({*REPLY_EDGES_HOURS, sla_hours}), inf]


def reply_buckets(
    waits: Iterable[Wait], clock: Clock
) -> tuple[tuple[ReplyBucket, ...], Cell, Cell]:
    """First-reply times in buckets of business hours, all first replies, and those within the
    SLA (by the deadline escalation would have set)."""
    first = [w for w in waits if not w.answered_before]
    sla_hours = clock.sla.first_reply.total_seconds() / HOUR
    edges = _edges(sla_hours)
    bucketed: dict[int, list[str]] = defaultdict(list)
    within: list[str] = []
    for wait in first:
        hours = clock.business_seconds(wait.began_at, wait.replied_at) / HOUR
        index = next(i for i in range(len(edges) - 1) if hours <= edges[i + 1])
        bucketed[index].append(wait.thread_id)
        due = reply_deadline(
            wait.began_at, answered_before=False, sla=clock.sla, due_in=clock.due_in
        ).due_at
        if wait.replied_at <= due:
            within.append(wait.thread_id)
    buckets = tuple(
        ReplyBucket(
            label=_span(low, high),
            low_hours=low,
            high_hours=high,
            cell=_cell(f"reply:{i}", bucketed[i]),
        )
        for i, (low, high) in enumerate(pairwise(edges))
    )
    return buckets, _cell("reply:all", (w.thread_id for w in first)), _cell("reply:sla", within)


def iso_week(moment: datetime, clock: Clock) -> str:
    """The ISO week of `moment` on the company's calendar, e.g. 2025-W14."""
    year, week, _ = moment.astimezone(clock.calendar.zone).isocalendar()
    return f"{year}-W{week:02d}"


def promise_outcomes(
    promises: Iterable[PromiseRow], clock: Clock
) -> tuple[tuple[str, ...], dict[str, dict[str, dict[str, Cell]]]]:
    """Promises kept and broken, per team of their makers and ISO week they were made in."""
    found: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    weeks: set[str] = set()
    teams: set[str] = set()
    for p in promises:
        week = iso_week(p.made_at, clock)
        weeks.add(week)
        teams.add(p.maker_role)
        if p.status in OUTCOMES:
            found[(p.maker_role, week, p.status)].append(p.thread_id)
    ordered = tuple(sorted(weeks))
    table = {
        team: {
            week: {
                outcome: _cell(f"promise:{team}:{week}:{outcome}", found[(team, week, outcome)])
                for outcome in OUTCOMES
            }
            for week in ordered
        }
        for team in sorted(teams)
    }
    return ordered, table


def escalation_levels(
    escalations: Iterable[EscalationRow],
) -> tuple[tuple[str, ...], tuple[int, ...], dict[str, dict[int, Cell]]]:
    """Escalations opened, per rule and the highest level they reached."""
    found: dict[tuple[str, int], list[str]] = defaultdict(list)
    rows = list(escalations)
    for e in rows:
        found[(e.rule, e.level)].append(e.thread_id)
    levels = tuple(sorted({1, *(e.level for e in rows)}))
    rules = tuple(rule.value for rule in EscalationRule)
    rules += tuple(sorted({e.rule for e in rows} - set(rules)))
    table = {
        rule: {level: _cell(f"escalation:{rule}:{level}", found[(rule, level)]) for level in levels}
        for rule in rules
    }
    return rules, levels, table


def _gap_row(team: str, promises: list[PromiseRow]) -> dict[str, Cell]:
    def column(name: str) -> Iterable[str]:
        for p in promises:
            if (
                name == "made"
                or (name == "asked" and p.asked)
                or (name == "gap" and p.verdict in GAP_VERDICTS)
                or p.verdict == name
            ):
                yield p.thread_id

    return {name: _cell(f"gap:{team}:{name}", column(name)) for name in GAP_COLUMNS}


def promise_gap(promises: Iterable[PromiseRow]) -> dict[str, dict[str, Cell]]:
    """What each team promised against what production answered: made, asked of production,
    confirmed, rejected, countered, and the gap (rejected or countered), with "all" last."""
    by_team: dict[str, list[PromiseRow]] = defaultdict(list)
    rows = list(promises)
    for p in rows:
        by_team[p.maker_role].append(p)
    table = {team: _gap_row(team, by_team[team]) for team in sorted(by_team)}
    table["all"] = _gap_row("all", rows)
    return table


def figures(
    waits: Iterable[Wait],
    promises: Iterable[PromiseRow],
    escalations: Iterable[EscalationRow],
    clock: Clock,
) -> Figures:
    """Every figure of the dashboard, with every cell also indexed by its key."""
    promises = list(promises)
    buckets, first, within = reply_buckets(waits, clock)
    weeks, outcomes = promise_outcomes(promises, clock)
    rules, levels, by_rule = escalation_levels(escalations)
    gap = promise_gap(promises)
    cells = [first, within, *(b.cell for b in buckets)]
    cells += [c for team in outcomes.values() for week in team.values() for c in week.values()]
    cells += [c for rule in by_rule.values() for c in rule.values()]
    cells += [c for row in gap.values() for c in row.values()]
    return Figures(
        sla_hours=clock.sla.first_reply.total_seconds() / HOUR,
        reply_buckets=buckets,
        first_replies=first,
        within_sla=within,
        weeks=weeks,
        promise_outcomes=outcomes,
        rules=rules,
        levels=levels,
        escalations=by_rule,
        gap=gap,
        cells={c.key: c for c in cells},
    )


def percent(part: int, whole: int) -> str:
    """A share for people: "83 %", or "-" of nothing."""
    return f"{round(100 * part / whole)} %" if whole else "-"
