"""The indices, as pure functions: facts in (rows and the counts SQL grouped), plain data out.

Times are business time on the company's calendar, the one escalation's clocks run on
(`keepword_platform.business_hours`), and "within the SLA" is a reply at or before the deadline
`reply_deadline` sets for that wait, as escalation would have set it. Percentiles are
nearest-rank (the smallest value with at least p% of the values at or below it), so each is a
time that was really measured. Amounts are decimal strings.

What a period covers: replies by when the wait began, promises by when they were made,
escalations by when they opened (their time to a decision and how they ended included);
raises, decisions, production answers and emails by when they happened. "Waiting now",
repeated contact now and deposits waiting are the state at the time of asking, whatever the
period. The team (a role) narrows replies (who replied) and promises (who made them).
Customers' ratings count by when the customer last rated (their latest revision stands), and
belong to the team of the person who replied last on the thread (which narrows them too).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from keepword_events import CommitmentStatus, EscalationRule, OptionKind
from keepword_events.feedback import HIGHEST_RATING, LOWEST_RATING
from keepword_platform.business_hours import Calendar, business_time_between
from keepword_platform.reply_deadline import DueIn, ReplySla, reply_deadline

from .facts import Thread, Wait

Json = dict[str, Any]
GAP_VERDICTS = frozenset({CommitmentStatus.REJECTED.value, CommitmentStatus.COUNTERED.value})


@dataclass(frozen=True, slots=True)
class Period:
    """What is asked about: [start, end) in UTC, and a team (a role) or all."""

    start: datetime
    end: datetime
    team: str | None = None


@dataclass(frozen=True, slots=True)
class PromiseGroup:
    """How many promises share these traits (SQL's GROUP BY)."""

    kind: str
    maker_email: str
    maker_role: str
    status: str
    at_risk: bool
    verdict: str | None
    count: int


@dataclass(frozen=True, slots=True)
class EscalationRow:
    """An escalation opened in the period."""

    rule: str
    opened_at: datetime
    decided_at: datetime | None
    option: str | None
    resolution: str | None


@dataclass(frozen=True, slots=True)
class DecisionGroup:
    """Decisions of one option by one manager, with the refunds among them."""

    option: str
    decided_by: str
    count: int
    refund_total: Decimal
    refunds: int


@dataclass(frozen=True, slots=True)
class Tally:
    """A count of something by a key and an outcome."""

    key: str
    outcome: str
    count: int


@dataclass(frozen=True, slots=True)
class RatingRow:
    """A customer's current rating of a thread, and the team that replied last on it."""

    rating: int
    rated_at: datetime
    team: str | None  # None: nobody replied on the thread


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything the indices of a period are computed from."""

    waits: list[Wait]
    waiting: list[Thread]
    promises: list[PromiseGroup]
    escalations: list[EscalationRow]
    raises: list[Tally]  # key: level; outcome: raised or reminder
    decisions: list[DecisionGroup]
    notifications: list[Tally]  # key: template; outcome: sent or failed
    answers: list[Tally]  # key: production's person; outcome: verdict
    ratings: list[RatingRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Clock:
    """The company's SLA and calendar, and the time of asking."""

    sla: ReplySla
    calendar: Calendar
    due_in: DueIn
    now: datetime
    low_rating_at_most: int = 2  # what the company counts as a low rating ([feedback])

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Business time from `start` to `end`, in seconds."""
        return business_time_between(start, end, self.calendar).total_seconds()


def percentile(values: list[float], p: int) -> float | None:
    """Nearest-rank percentile of `values` (sorted or not); None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-p * len(ordered) // 100))  # ceil(p/100 * n)
    return ordered[rank - 1]


def times(seconds: list[float]) -> Json:
    """Count, median and 90th percentile of some durations (seconds)."""
    return {
        "count": len(seconds),
        "p50_seconds": percentile(seconds, 50),
        "p90_seconds": percentile(seconds, 90),
    }


def _iso_week(moment: datetime, clock: Clock) -> str:
    year, week, _ = moment.astimezone(clock.calendar.zone).isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True, slots=True)
class _Measured:
    wait: Wait
    seconds: float
    in_time: bool


def _reply_stats(measured: list[_Measured]) -> Json:
    stats = times([m.seconds for m in measured])
    within = sum(m.in_time for m in measured)
    stats["within_sla_percent"] = round(100 * within / len(measured), 2) if measured else None
    return stats


def _by(items: Iterable[_Measured], key: Callable[[_Measured], str]) -> Json:
    groups: dict[str, list[_Measured]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return {name: _reply_stats(groups[name]) for name in sorted(groups)}


def replies(waits: list[Wait], clock: Clock) -> Json:
    """First-reply and next-reply times: overall, per ISO week (of the wait's start, company
    time), per team (the replier's role) and per person."""
    measured = [
        _Measured(
            w,
            clock.business_seconds(w.began_at, w.replied_at),
            w.replied_at
            <= reply_deadline(
                w.began_at, answered_before=w.answered_before, sla=clock.sla, due_in=clock.due_in
            ).due_at,
        )
        for w in waits
    ]
    found: Json = {}
    for name, next_reply in (("first_reply", False), ("next_reply", True)):
        mine = [m for m in measured if m.wait.answered_before is next_reply]
        found[name] = {
            "all": _reply_stats(mine),
            "by_week": _by(mine, lambda m: _iso_week(m.wait.began_at, clock)),
            "by_team": _by(mine, lambda m: m.wait.replier_role),
            "by_person": _by(mine, lambda m: m.wait.replier_email),
        }
    return found


def waiting(threads: list[Thread], waits: list[Wait], clock: Clock) -> Json:
    """Threads waiting for a person now, the oldest wait, repeated contact and deposits."""
    open_ = [t for t in threads if t.waiting_since is not None]
    oldest = min((t.waiting_since for t in open_ if t.waiting_since), default=None)
    by_messages = Counter(t.unanswered for t in open_)
    deposits: dict[str, Decimal] = defaultdict(Decimal)
    for t in open_:
        if t.deposit_amount is not None and t.deposit_currency is not None:
            deposits[t.deposit_currency] += t.deposit_amount
    return {
        "waiting_now": {
            "threads": len(open_),
            "oldest_since": oldest.isoformat() if oldest else None,
            "oldest_business_seconds": clock.business_seconds(oldest, clock.now)
            if oldest
            else None,
        },
        "repeated_contact": {
            "waiting_now_by_messages": {str(n): by_messages[n] for n in sorted(by_messages)},
            "waiting_now_wrote_more_than_once": sum(c for n, c in by_messages.items() if n > 1),
            "answered_after_more_than_one_message": sum(1 for w in waits if w.messages > 1),
        },
        "deposits_waiting": {
            "threads": sum(1 for t in open_ if t.deposit_amount is not None),
            "totals": {cur: str(deposits[cur]) for cur in sorted(deposits)},
        },
    }


def _promise_counts(groups: Iterable[PromiseGroup]) -> Json:
    counts: Json = {"made": 0} | {status.value: 0 for status in CommitmentStatus}
    counts |= {"at_risk": 0, "gap": 0}
    for g in groups:
        counts["made"] += g.count
        counts[g.status] += g.count
        counts["at_risk"] += g.count if g.at_risk else 0
        counts["gap"] += g.count if g.verdict in GAP_VERDICTS else 0
    return counts


def _grouped(
    items: Iterable[Any], key: Callable[[Any], str], summary: Callable[[list[Any]], Json]
) -> Json:
    groups: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return {name: summary(groups[name]) for name in sorted(groups)}


def promises(groups: list[PromiseGroup]) -> Json:
    """Promises made in the period by where they stand now; `gap`: those production rejected
    or countered (what was promised but could not be made), per kind, maker and team."""
    return {
        "all": _promise_counts(groups),
        "by_kind": _grouped(groups, lambda g: g.kind, _promise_counts),
        "by_maker": _grouped(groups, lambda g: g.maker_email, _promise_counts),
        "by_team": _grouped(groups, lambda g: g.maker_role, _promise_counts),
    }


def resolved_by(row: EscalationRow) -> str:
    """What ended an escalation: a staff member's call or reply, else the decision taken."""
    text = (row.resolution or "").lower()
    if "called the customer" in text:
        return "phone_call"
    if "replied to the customer" in text:
        return "reply"
    return f"decision:{row.option}" if row.option else "other"


def escalations(
    rows: list[EscalationRow], raises: list[Tally], decisions: list[DecisionGroup], clock: Clock
) -> Json:
    """Escalations opened per rule, raised per level, time to decision, decisions per option
    (refunds counted and summed), "handle it" per manager and what resolved them."""
    by_option: Counter[str] = Counter()
    handle_it: Counter[str] = Counter()
    refund_count, refund_total = 0, Decimal(0)
    for d in decisions:
        by_option[d.option] += d.count
        if d.option == OptionKind.HANDLE_IT.value:
            handle_it[d.decided_by] += d.count
        if d.option == OptionKind.REFUND.value:
            refund_count += d.refunds
            refund_total += d.refund_total
    opened = Counter(r.rule for r in rows)
    raised = Counter({t.key: t.count for t in raises if t.outcome == "raised"})
    resolved = Counter(resolved_by(r) for r in rows if r.resolution is not None)
    return {
        "opened": len(rows),
        "opened_by_rule": {rule.value: opened[rule.value] for rule in EscalationRule},
        "raised_by_level": {level: raised[level] for level in sorted(raised, key=int)},
        "reminders": sum(t.count for t in raises if t.outcome == "reminder"),
        "time_to_decision": times(
            [clock.business_seconds(r.opened_at, r.decided_at) for r in rows if r.decided_at]
        ),
        "undecided": sum(1 for r in rows if r.decided_at is None and r.resolution is None),
        "decisions_by_option": {option.value: by_option[option.value] for option in OptionKind},
        "refunds": {"count": refund_count, "total": str(refund_total)},
        "handle_it_by_manager": {m: handle_it[m] for m in sorted(handle_it)},
        "resolved_by": {how: resolved[how] for how in sorted(resolved)},
    }


UNANSWERED = "unanswered"  # the team of a rated thread nobody replied on


def _rating_stats(rows: list[RatingRow], low_at_most: int) -> Json:
    counted = Counter(r.rating for r in rows)
    low = sum(n for rating, n in counted.items() if rating <= low_at_most)
    return {
        "count": len(rows),
        "average": round(sum(r.rating for r in rows) / len(rows), 2) if rows else None,
        "distribution": {str(n): counted[n] for n in range(LOWEST_RATING, HIGHEST_RATING + 1)},
        "low_percent": round(100 * low / len(rows), 2) if rows else None,
    }


def ratings(rows: list[RatingRow], clock: Clock) -> Json:
    """Customers' ratings: how many, their average, how many of each, the share of low ones
    (at most `low_rating_at_most`); overall, per ISO week (company time) and per team."""

    def stats(group: list[RatingRow]) -> Json:
        return _rating_stats(group, clock.low_rating_at_most)

    return {
        "all": stats(rows),
        "by_week": _grouped(rows, lambda r: _iso_week(r.rated_at, clock), stats),
        "by_team": _grouped(rows, lambda r: r.team or UNANSWERED, stats),
    }


def _tallies(tallies: list[Tally], outcomes: Iterable[str]) -> Json:
    names = list(outcomes)
    found: dict[str, Counter[str]] = defaultdict(Counter)
    for t in tallies:
        found[t.key][t.outcome] += t.count
    return {key: {o: found[key][o] for o in names} for key in sorted(found)}


def indices(facts: Facts, period: Period, clock: Clock) -> Json:
    """Every index of `period`, as plain data (JSON-ready)."""
    notifications = _tallies(facts.notifications, ("sent", "failed"))
    return {
        "period": {
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "team": period.team,
            "timezone": clock.calendar.zone.key,
            "asked_at": clock.now.isoformat(),
        },
        "replies": replies(facts.waits, clock),
        **waiting(facts.waiting, facts.waits, clock),
        "promises": promises(facts.promises),
        "production_answers": _tallies(
            facts.answers, (v for v in ("confirmed", "rejected", "countered"))
        ),
        "escalations": escalations(facts.escalations, facts.raises, facts.decisions, clock),
        "ratings": ratings(facts.ratings, clock),
        "notifications": {
            "sent": sum(n["sent"] for n in notifications.values()),
            "failed": sum(n["failed"] for n in notifications.values()),
            "by_template": notifications,
        },
    }


# ----- the same numbers as rows (CSV) -------------------------------------------------------

CSV_COLUMNS = ("section", "index", "key", "metric", "value")


def rows(found: Mapping[str, Any]) -> Iterator[tuple[str, str, str, str, str]]:
    """Every number of `indices` as a row: section, index, key (a week, team, person...),
    metric and value ("" for none). The period's own description is left out."""
    for path, value in _leaves(found, ()):
        if path[0] == "period":
            continue
        section, *middle, metric = path
        index = middle[0] if middle else ""
        key = "/".join(middle[1:])
        yield section, index, key, metric, "" if value is None else str(value)


def _leaves(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(value, Mapping):
        for name, inner in value.items():
            yield from _leaves(inner, (*path, str(name)))
    else:
        yield path, value
