"""A seeded month of a few thousand threads, published to a real broker, read by the real
service into the real PostgreSQL: the indices it answers are the ones this test computes on
its own from the records it reads back from the topics, and a rebuild (schema dropped, the
consumer group back at the earliest offsets) answers the same.

The month spans Europe's spring clock change (30 March 2025) and Easter (Good Friday 18 April
and Easter Monday 21 April are public holidays in Germany), on a calendar of Monday to Friday,
09:00 to 17:00 Berlin time.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import math
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from fastapi import FastAPI
from keepword_events import (
    CommitmentAnswered,
    CommitmentStatus,
    CommitmentStatusChanged,
    CustomerRated,
    Envelope,
    EscalationDecided,
    EscalationOpened,
    EscalationRaised,
    EscalationResolved,
    EscalationRule,
    Event,
    MessageReceived,
    NotificationFailed,
    NotificationSent,
    OptionKind,
    ReplySent,
    decode,
    encode,
    topics,
)
from keepword_insights.app import create_app
from keepword_insights.settings import InsightsSettings
from keepword_ops.groups import reset_group
from keepword_platform.business_hours import (
    add_business_time,
    business_time_between,
    calendar_for,
)
from keepword_platform.company import BusinessHours
from keepword_platform.settings import KeepwordSettings
from keepword_testkit.api_keys import bearer, new_key
from keepword_testkit.local_kafka import private_broker
from keepword_testkit.seeded_threads import SeededThreads, desk

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SEED = 20250330
THREADS = 3000
ZONE = ZoneInfo("Europe/Berlin")
START = datetime(2025, 3, 17, tzinfo=ZONE)  # a Monday, two weeks before the clock change
END = datetime(2025, 4, 28, tzinfo=ZONE)  # the Monday after Easter Monday
FIRST_REPLY, NEXT_REPLY = timedelta(hours=4), timedelta(hours=8)
COMPANY = """
[company]
name = "Brightline GmbH"
support_address = "support@brightline.example"
timezone = "Europe/Berlin"

[sla]
first_reply = "4h"
next_reply = "8h"

[sla.business_hours]
days = [0, 1, 2, 3, 4]
start = "09:00"
end = "17:00"
holidays_country = "DE"
"""
CALENDAR = calendar_for(
    BusinessHours(days=(0, 1, 2, 3, 4), start="09:00", end="17:00", holidays_country="DE"),
    "Europe/Berlin",
)

# ----- the month, generated ---------------------------------------------------------------

DESK = desk("brightline.example", sales=4, service=4, marketing=2, makers=2, managers=2)


def seeded_month() -> list[Envelope[Event]]:
    month = SeededThreads(SEED, DESK, source="/test/month")
    span = int((END - START).total_seconds()) - 5 * 86400
    for n in range(THREADS):
        month.thread(f"month-{n:05d}", START, span)
    return month.envelopes


# ----- what the indices must be, computed here from the records read back ------------------


def _p(values: list[float], p: int) -> float | None:
    return sorted(values)[math.ceil(p * len(values) / 100) - 1] if values else None


def _stats(samples: list[tuple[float, bool]]) -> dict[str, Any]:
    seconds = [s for s, _ in samples]
    within = sum(1 for _, ok in samples if ok)
    return {
        "count": len(samples),
        "p50_seconds": _p(seconds, 50),
        "p90_seconds": _p(seconds, 90),
        "within_sla_percent": round(100 * within / len(samples), 2) if samples else None,
    }


def _keyed(samples: list[tuple[str, float, bool]]) -> dict[str, Any]:
    groups: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for key, seconds, ok in samples:
        groups[key].append((seconds, ok))
    return {key: _stats(groups[key]) for key in sorted(groups)}


def _promise_counts(promises: list[dict[str, Any]]) -> dict[str, int]:
    counts = {"made": len(promises)} | {s.value: 0 for s in CommitmentStatus}
    for p in promises:
        counts[p["status"]] += 1
    counts["at_risk"] = sum(1 for p in promises if p["at_risk"])
    counts["gap"] = sum(1 for p in promises if p["verdict"] in ("rejected", "countered"))
    return counts


def _rating_stats(found: list[int]) -> dict[str, Any]:
    return {
        "count": len(found),
        "average": round(sum(found) / len(found), 2) if found else None,
        "distribution": {str(n): found.count(n) for n in range(1, 6)},
        "low_percent": round(100 * sum(1 for r in found if r <= 2) / len(found), 2)
        if found
        else None,
    }


def _expected_ratings(
    events: list[Envelope[Event]], inside: Any, team: str | None
) -> dict[str, Any]:
    """Each thread's highest revision, by when it was given, with the team that replied last."""
    latest: dict[str, CustomerRated] = {}
    replier: dict[str, str] = {}
    for e in events:
        m = e.data
        if isinstance(m, ReplySent) and not m.automatic and m.sender_verified:
            replier[m.thread_id] = m.author.role.value
        elif isinstance(m, CustomerRated) and (
            m.thread_id not in latest or m.revision > latest[m.thread_id].revision
        ):
            latest[m.thread_id] = m
    rows = [
        (r.rating, r.rated_at, replier.get(r.thread_id, "unanswered"))
        for r in latest.values()
        if inside(r.rated_at) and team in (None, replier.get(r.thread_id))
    ]
    weeks: dict[str, list[int]] = defaultdict(list)
    teams: dict[str, list[int]] = defaultdict(list)
    for rating, at, who in rows:
        year, week, _ = at.astimezone(ZONE).isocalendar()
        weeks[f"{year}-W{week:02d}"].append(rating)
        teams[who].append(rating)
    return {
        "all": _rating_stats([r for r, _, _ in rows]),
        "by_week": {k: _rating_stats(weeks[k]) for k in sorted(weeks)},
        "by_team": {k: _rating_stats(teams[k]) for k in sorted(teams)},
    }


def expected(
    events: list[Envelope[Event]], start: datetime, end: datetime, team: str | None
) -> dict[str, Any]:
    """The indices, from the events in the order the topics hold them."""

    def inside(at: datetime) -> bool:
        return start <= at < end

    # Replies: replay each thread's messages.
    waits: list[dict[str, Any]] = []
    state: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"since": None, "n": 0, "answered": False, "deposit": None}
    )
    for e in events:
        m = e.data
        if isinstance(m, MessageReceived):
            s = state[m.thread_id]
            if s["since"] is None:
                s["since"], s["before"] = m.received_at, s["answered"]
            s["n"] += 1
            s["deposit"] = m.deposit or s["deposit"]
        elif isinstance(m, ReplySent) and not m.automatic and m.sender_verified:
            s = state[m.thread_id]
            if s["since"] is not None:
                waits.append(
                    {
                        "began": s["since"],
                        "before": s["before"],
                        "n": s["n"],
                        "at": m.sent_at,
                        "who": m.author.email,
                        "team": m.author.role.value,
                    }
                )
            s["since"], s["n"], s["answered"] = None, 0, True
    counted = [w for w in waits if inside(w["began"]) and team in (None, w["team"])]
    replies: dict[str, Any] = {}
    for name, before in (("first_reply", False), ("next_reply", True)):
        mine = []
        for w in counted:
            if w["before"] is not before:
                continue
            seconds = business_time_between(w["began"], w["at"], CALENDAR).total_seconds()
            due = add_business_time(w["began"], NEXT_REPLY if before else FIRST_REPLY, CALENDAR)
            year, week, _ = w["began"].astimezone(ZONE).isocalendar()
            mine.append((f"{year}-W{week:02d}", w["team"], w["who"], seconds, w["at"] <= due))
        replies[name] = {
            "all": _stats([(s, ok) for *_, s, ok in mine]),
            "by_week": _keyed([(wk, s, ok) for wk, _, _, s, ok in mine]),
            "by_team": _keyed([(t, s, ok) for _, t, _, s, ok in mine]),
            "by_person": _keyed([(p, s, ok) for _, _, p, s, ok in mine]),
        }
    waiting = [s for s in state.values() if s["since"] is not None]
    ratings = _expected_ratings(events, inside, team)
    by_n = Counter(s["n"] for s in waiting)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for s in waiting:
        if s["deposit"]:
            totals[s["deposit"].currency] += s["deposit"].amount
    oldest = min(s["since"] for s in waiting)

    # Promises: each one's last statement.
    promises: dict[str, dict[str, Any]] = {}
    for e in events:
        c = e.data
        if isinstance(c, CommitmentStatusChanged):
            known = promises.setdefault(c.commitment_id, {"made": c.changed_at, "verdict": None})
            known |= {
                "kind": c.kind.value,
                "maker": c.made_by.email,
                "team": c.made_by.role.value,
                "status": c.status.value,
                "at_risk": c.at_risk,
            }
            if c.status.value in ("confirmed", "rejected", "countered"):
                known["verdict"] = c.status.value
    made = [p for p in promises.values() if inside(p["made"]) and team in (None, p["team"])]

    def per(key: str) -> dict[str, Any]:
        keys = sorted({p[key] for p in made})
        return {k: _promise_counts([p for p in made if p[key] == k]) for k in keys}

    answers: dict[str, Counter[str]] = defaultdict(Counter)
    for e in events:
        if isinstance(e.data, CommitmentAnswered) and inside(e.time):
            answers[e.data.answered_by.email][e.data.verdict.value] += 1

    # Escalations.
    opened: dict[str, dict[str, Any]] = {}
    raised: Counter[str] = Counter()
    reminders = 0
    options: Counter[str] = Counter()
    handle_it: Counter[str] = Counter()
    refunds: list[Decimal] = []
    for e in events:
        x = e.data
        if isinstance(x, EscalationOpened):
            opened[x.escalation_id] = {
                "rule": x.rule.value,
                "at": e.time,
                "decided": None,
                "option": None,
                "resolution": None,
            }
        elif isinstance(x, EscalationRaised) and inside(e.time):
            if x.reminder:
                reminders += 1
            else:
                raised[str(x.level)] += 1
        elif isinstance(x, EscalationDecided):
            if x.option is not OptionKind.HANDLE_IT and opened[x.escalation_id]["decided"] is None:
                opened[x.escalation_id] |= {"decided": e.time, "option": x.option.value}
            if inside(e.time):
                options[x.option.value] += 1
                if x.option is OptionKind.HANDLE_IT:
                    handle_it[x.decided_by.email] += 1
                if x.option is OptionKind.REFUND and x.refund_amount is not None:
                    refunds.append(x.refund_amount)
        elif isinstance(x, EscalationResolved):
            opened[x.escalation_id]["resolution"] = x.resolution
    mine_e = [x for x in opened.values() if inside(x["at"])]

    def how(x: dict[str, Any]) -> str:
        text = x["resolution"]
        if "called the customer" in text:
            return "phone_call"
        if "replied to the customer" in text:
            return "reply"
        return f"decision:{x['option']}" if x["option"] else "other"

    to_decision = [
        business_time_between(x["at"], x["decided"], CALENDAR).total_seconds()
        for x in mine_e
        if x["decided"]
    ]
    resolved = Counter(how(x) for x in mine_e if x["resolution"])
    sent: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for e in events:
        if isinstance(e.data, NotificationSent | NotificationFailed) and inside(e.time):
            (sent if isinstance(e.data, NotificationSent) else failed)[e.data.template] += 1
    return {
        "replies": replies,
        "waiting_now": {"threads": len(waiting), "oldest_since": oldest.isoformat()},
        "repeated_contact": {
            "waiting_now_by_messages": {str(n): by_n[n] for n in sorted(by_n)},
            "waiting_now_wrote_more_than_once": sum(1 for s in waiting if s["n"] > 1),
            "answered_after_more_than_one_message": sum(1 for w in counted if w["n"] > 1),
        },
        "deposits_waiting": {
            "threads": sum(1 for s in waiting if s["deposit"]),
            "totals": {c: str(totals[c]) for c in sorted(totals)},
        },
        "promises": {
            "all": _promise_counts(made),
            "by_kind": per("kind"),
            "by_maker": per("maker"),
            "by_team": per("team"),
        },
        "production_answers": {
            who: {v: answers[who][v] for v in ("confirmed", "rejected", "countered")}
            for who in sorted(answers)
        },
        "escalations": {
            "opened": len(mine_e),
            "opened_by_rule": {
                r.value: sum(1 for x in mine_e if x["rule"] == r.value) for r in EscalationRule
            },
            "raised_by_level": dict(sorted(raised.items())),
            "reminders": reminders,
            "time_to_decision": {
                "count": len(to_decision),
                "p50_seconds": _p(to_decision, 50),
                "p90_seconds": _p(to_decision, 90),
            },
            "undecided": sum(1 for x in mine_e if x["decided"] is None and x["resolution"] is None),
            "decisions_by_option": {o.value: options[o.value] for o in OptionKind},
            "refunds": {"count": len(refunds), "total": str(sum(refunds, Decimal(0)))},
            "handle_it_by_manager": dict(sorted(handle_it.items())),
            "resolved_by": dict(sorted(resolved.items())),
        },
        "ratings": ratings,
        "notifications": {
            "sent": sum(sent.values()),
            "failed": sum(failed.values()),
            "by_template": {
                t: {"sent": sent[t], "failed": failed[t]}
                for t in sorted(sent.keys() | failed.keys())
            },
        },
    }


def comparable(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer without what depends on the time of asking."""
    found = {k: v for k, v in answer.items() if k != "period"}
    found["waiting_now"] = {
        k: v for k, v in found["waiting_now"].items() if k != "oldest_business_seconds"
    }
    return found


# ----- the real broker, the real service ---------------------------------------------------


@pytest.fixture(scope="module")
def month_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A broker of this module's own: the month's records must not reach other tests' services."""
    with private_broker(
        tmp_path_factory.mktemp("kafka"), KeepwordSettings().topic_partitions
    ) as bootstrap:
        yield bootstrap


async def publish_all(bootstrap: str, envelopes: list[Envelope[Event]]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=256 * 1024
    )
    await producer.start()
    try:
        for envelope in envelopes:
            record = encode(envelope)
            await producer.send(
                record.topic, record.value, key=record.key, headers=list(record.headers)
            )
        await producer.flush()
    finally:
        await producer.stop()


async def read_back(bootstrap: str) -> list[Envelope[Event]]:
    """Every record of the catalog's topics, decoded, each partition in offset order."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics.EVENT_TOPICS
            for p in range(KeepwordSettings().topic_partitions)
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: dict[TopicPartition, list[Any]] = defaultdict(list)
        while sum(len(found[tp]) for tp in partitions) < sum(ends.values()):
            batch = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            for tp, records in batch.items():
                found[tp] += records
    finally:
        await consumer.stop()
    return [decode(r.value, r.headers) for tp in partitions for r in found[tp]]


@pytest.fixture(scope="module")
async def month(month_broker: str) -> list[Envelope[Event]]:
    envelopes = seeded_month()
    await publish_all(month_broker, envelopes)
    return await read_back(month_broker)


@contextlib.asynccontextmanager
async def insights(
    bootstrap: str, database_url: str, config: Path
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The service in-process, with its real lifespan, and a client holding a read key."""
    settings = InsightsSettings(
        kafka_bootstrap=bootstrap,
        database_url=database_url,
        config=config,
        gauge_refresh_seconds=3600,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        key = bearer(await new_key(app.state.runtime.db, ["read"]))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://insights", headers=key
        ) as http:
            yield app, http


async def caught_up(database_url: str, events: int, within: float = 120) -> None:
    """Once the service has an inbox row for every event."""
    conn = await asyncpg.connect(database_url)
    try:
        deadline = asyncio.get_running_loop().time() + within
        while (done := await conn.fetchval("SELECT count(*) FROM insights.inbox")) < events:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{done} of {events} events handled after {within}s")
            await asyncio.sleep(0.25)
    finally:
        await conn.close()


async def drop_facts(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS insights CASCADE")
    finally:
        await conn.close()


QUESTIONS = [
    {"from": START.isoformat(), "to": END.isoformat()},
    {"from": START.isoformat(), "to": END.isoformat(), "team": "service"},
    # The week of the clock change, Monday to Monday.
    {
        "from": datetime(2025, 3, 24, tzinfo=ZONE).isoformat(),
        "to": datetime(2025, 3, 31, tzinfo=ZONE).isoformat(),
    },
]


async def answers(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    found = []
    for question in QUESTIONS:
        answer = await http.get("/v1/indices", params=question)
        assert answer.status_code == 200, answer.text
        found.append(answer.json())
    return found


async def test_the_indices_of_a_seeded_month_are_those_of_its_records_and_survive_a_rebuild(
    month_broker: str, month: list[Envelope[Event]], database_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "company.toml"
    config.write_text(COMPANY)
    await drop_facts(database_url)  # an earlier run's facts, on the same database
    wanted = [
        expected(
            month, datetime.fromisoformat(q["from"]), datetime.fromisoformat(q["to"]), q.get("team")
        )
        for q in QUESTIONS
    ]

    async with insights(month_broker, database_url, config) as (_app, http):
        await caught_up(database_url, len(month))
        first = await answers(http)
        table = await http.get("/v1/indices.csv", params=QUESTIONS[0])

    for got, want in zip(first, wanted, strict=True):
        assert comparable(got) == want
    # Enough of each kind to mean something: the month is not mostly empty.
    whole = first[0]
    assert whole["replies"]["first_reply"]["all"]["count"] > 1000
    assert whole["replies"]["next_reply"]["all"]["count"] > 500
    assert len(whole["replies"]["first_reply"]["by_week"]) >= 6
    assert whole["promises"]["all"]["gap"] > 50
    assert whole["escalations"]["decisions_by_option"]["refund"] > 10
    assert whole["waiting_now"]["threads"] > 100
    assert whole["ratings"]["all"]["count"] > 500
    assert whole["ratings"]["by_team"].get("unanswered", {}).get("count", 0) > 10
    # The CSV carries the same numbers.
    rows = list(csv.DictReader(io.StringIO(table.text)))
    p90 = next(
        r
        for r in rows
        if (r["section"], r["index"], r["key"], r["metric"])
        == ("replies", "first_reply", "all", "p90_seconds")
    )
    assert float(p90["value"]) == whole["replies"]["first_reply"]["all"]["p90_seconds"]

    # A rebuild: the facts dropped, the group back at the beginning of every topic.
    await drop_facts(database_url)
    await reset_group(month_broker, "keepword-insights", "earliest")
    async with insights(month_broker, database_url, config) as (_app, http):
        await caught_up(database_url, len(month))
        again = await answers(http)

    assert [comparable(a) for a in again] == [comparable(a) for a in first]
