"""Durable timers in PostgreSQL: set, move, cancel, and a loop that fires what is due.

Firing happens in a transaction with the timer's row locked (FOR UPDATE SKIP LOCKED): the
handler's state changes, the events it causes (outbox) and the timer's deletion commit together,
so a timer fires once even with several instances running and across crashes.

One timer never holds the others back. A timer whose handler fails is put back a minute later,
and after `MAX_ATTEMPTS` failures set aside (`timers_set_aside`, with the reason), as is a timer
whose data is unusable, at once: logged, counted, and reported to the service's readiness. An
unavailable database fails the round instead (nothing claimed, no attempt counted).

Times are aware UTC wherever they come from: asyncpg reads a `timestamp` column, and infinity in
a `timestamptz` one (how a date such as 0001-01-01T00:00:00Z is stored), as naive datetimes.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import MAXYEAR, UTC, datetime, timedelta
from typing import Any, Final

import asyncpg
import structlog
from keepword_events import Envelope, Event
from prometheus_client import Counter

from keepword_platform.database import Connection

from .consumer import INFRASTRUCTURE_ERRORS

log = structlog.get_logger(__name__)

FAILURES = Counter(
    "keepword_timer_failures_total",
    "Timer firings that failed (put back or set aside).",
    ["schema"],
)
SET_ASIDE = Counter(
    "keepword_timers_set_aside_total", "Timers set aside: they could not be fired.", ["schema"]
)

_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]*$")


def _table(schema: str, table: str = "timers") -> str:
    if not _SCHEMA.match(schema):
        raise ValueError(f"bad schema name {schema!r}")
    return f"{schema}.{table}"


def as_utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC datetime; a naive one is read as UTC.

    asyncpg returns naive datetimes for `timestamp` columns, and datetime.min / datetime.max for
    -infinity / infinity in `timestamptz` ones: compared with aware times they raise TypeError.
    """
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # within hours of the ends of the calendar, in another offset
        end = datetime.max if moment.year == MAXYEAR else datetime.min
        return end.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Timer:
    """A deadline that fell due; `attempts` is how many times firing it failed before."""

    kind: str
    subject: str
    fire_at: datetime
    payload: dict[str, Any]
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class SetAside:
    """A timer that could not be fired: what it was, why (`reason`), in short (`cause`)."""

    kind: str
    subject: str
    reason: str
    cause: str


async def set_timer(
    conn: Connection,
    schema: str,
    kind: str,
    subject: str,
    fire_at: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    """Set (or move) the timer `kind` of `subject` to `fire_at`."""
    await conn.execute(
        f"""INSERT INTO {_table(schema)} (kind, subject, fire_at, payload)
            VALUES ($1, $2, $3, $4::jsonb)
            ON CONFLICT (kind, subject)
            DO UPDATE SET fire_at = EXCLUDED.fire_at, payload = EXCLUDED.payload,
                          attempts = 0""",  # noqa: S608
        kind,
        subject,
        fire_at,
        json.dumps(payload or {}),
    )


async def cancel_timers(conn: Connection, schema: str, subject: str) -> None:
    """Cancel every timer of `subject`."""
    await conn.execute(f"DELETE FROM {_table(schema)} WHERE subject = $1", subject)  # noqa: S608


async def set_timers(
    conn: Connection, schema: str, due: Sequence[tuple[str, str, datetime]]
) -> None:
    """Set (or move) each (kind, subject, fire_at) timer, in one round trip."""
    if not due:
        return
    kinds, subjects, times = zip(*due, strict=True)
    await conn.execute(
        f"""INSERT INTO {_table(schema)} (kind, subject, fire_at, payload)
            SELECT kind, subject, fire_at, '{{}}'::jsonb
              FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS d (kind, subject, fire_at)
            ON CONFLICT (kind, subject)
            DO UPDATE SET fire_at = EXCLUDED.fire_at, payload = EXCLUDED.payload,
                          attempts = 0""",  # noqa: S608
        list(kinds),
        list(subjects),
        list(times),
    )


Caused = Sequence[Event | Envelope[Event]]
TimerHandler = Callable[[Connection, Timer], Awaitable[Caused]]
BatchTimerHandler = Callable[[Connection, Sequence[Timer]], Awaitable[Caused]]
Enqueue = Callable[[Connection, Caused], Awaitable[None]]

RETRY_FAILED_AFTER = timedelta(minutes=1)
# Failures of a timer's handler before the timer is set aside (a bug or bad data, not a hiccup:
# an unavailable database fails the whole round and counts for no timer).
MAX_ATTEMPTS: Final = 3
# Due timers another instance has locked are not ours: do not spin on them.
MIN_WAIT_SECONDS = 0.02
# Timers fired ahead in one transaction at most (its locks and its outbox rows).
PREPARED_AT_MOST: Final = 50_000
# How often a preparation waiting for its deadline checks whether it is in anyone's way.
GIVE_WAY_CHECK_SECONDS = 0.05
# Prepared ahead with the earliest upcoming deadline: those due this soon after it (the
# earliest one's event waits for the transaction to commit at the latest one's time).
PREPARE_SPAN = timedelta(milliseconds=200)


def one_by_one(handler: TimerHandler) -> BatchTimerHandler:
    """A batch handler that hands each timer of the batch to `handler` in turn."""

    async def each(conn: Connection, due: Sequence[Timer]) -> Caused:
        caused: list[Event | Envelope[Event]] = []
        for timer in due:
            caused += await handler(conn, timer)
        return caused

    return each


def timer_of(
    kind: str, subject: str, fire_at: datetime, payload: str, attempts: int
) -> Timer | str:
    """The timer stored in a row, or why its data is unusable."""
    try:
        data = json.loads(payload)
    except ValueError:
        return "payload is not JSON"
    if not isinstance(data, dict):
        return f"payload is a JSON {type(data).__name__}, not an object"
    return Timer(kind, subject, as_utc(fire_at), data, attempts)


@dataclass
class _Round:
    """What one firing round set aside, reported once its transaction committed."""

    schema: str
    set_aside: list[SetAside] = field(default_factory=list)


async def fire_due(
    pool: asyncpg.Pool,
    schema: str,
    handler: BatchTimerHandler,
    enqueue: Enqueue,
    *,
    now: datetime,
    limit: int = 500,
    health: TimerHealth | None = None,
) -> int:
    """Fire up to `limit` timers due at `now` as one batch; returns how many were claimed.

    Claiming deletes the rows (locked with SKIP LOCKED, so instances share the work): the
    handler's changes, the events it causes and the deletions commit together. A batch that
    fails is fired again timer by timer, so one bad timer cannot hold the others back; a timer
    that fails alone is put back a minute later, or set aside after `MAX_ATTEMPTS` failures.
    """
    done = _Round(schema)
    async with pool.acquire() as conn, conn.transaction():
        claimed, _ = await _fire_batch(conn, done, handler, enqueue, now, limit)
    _report(done, health)
    return claimed


async def prepare_due(
    pool: asyncpg.Pool,
    schema: str,
    handler: BatchTimerHandler,
    enqueue: Enqueue,
    clock: Callable[[], datetime],
    *,
    until: datetime,
    kinds: Collection[str],
    limit: int = 500,
    most: int = PREPARED_AT_MOST,
    health: TimerHealth | None = None,
) -> int | None:
    """Fire ahead of time the timers of `kinds` due by `until`, committing once the last of
    them is due; how many were claimed, or None if it gave way.

    For a burst of deadlines falling due at one instant (a Monday morning): batch after batch
    is claimed and handled in one transaction before the instant, which then commits as soon
    as it comes, so what they cause is in the outbox at once instead of seconds later. The
    handler gets timers whose `fire_at` is still ahead: it must take the later of the clock and
    the timers' `fire_at` as its time. Claiming stops at `until` (what is left fires the usual
    way) or after `most` timers.

    Nothing may come before its time: should anything wait for a row the transaction locked (an
    event of one of these threads, a decision), the whole transaction gives way (rolls back) at
    once, so that the event is handled before the deadline, and the timers fire once due.
    """
    done = _Round(schema)
    claimed = 0
    latest: datetime | None = None
    try:
        async with pool.acquire() as conn, conn.transaction():
            while claimed < most and clock() < until:
                count, last = await _fire_batch(
                    conn, done, handler, enqueue, until, min(limit, most - claimed), kinds
                )
                claimed += count
                if last is not None and (latest is None or last > latest):
                    latest = last
                if await _in_the_way(conn):
                    raise _GaveWay
                if count < limit:
                    break
            # Never committed before the latest deadline it fired: nothing is early.
            while latest is not None and (wait := (latest - clock()).total_seconds()) > 0:
                await asyncio.sleep(min(wait, GIVE_WAY_CHECK_SECONDS))
                if await _in_the_way(conn):
                    raise _GaveWay
    except _GaveWay:
        log.info("timers fired ahead gave way to a waiting transaction", schema=schema)
        return None
    _report(done, health)
    return claimed


class _GaveWay(Exception):
    """A transaction waits for a row a preparation locked: the preparation rolls back."""


async def _in_the_way(conn: Connection) -> bool:
    """Whether another transaction waits for a lock this connection's transaction holds."""
    return bool(
        await conn.fetchval(
            # pg_locks, not pg_stat_activity: that one is read once per transaction.
            """SELECT EXISTS (SELECT 1 FROM pg_locks
                               WHERE NOT granted
                                 AND pg_backend_pid() = ANY (pg_blocking_pids(pid)))"""
        )
    )


async def _fire_batch(
    conn: Connection,
    done: _Round,
    handler: BatchTimerHandler,
    enqueue: Enqueue,
    now: datetime,
    limit: int,
    kinds: Collection[str] | None = None,
) -> tuple[int, datetime | None]:
    """Claim and fire up to `limit` timers due at `now` (of `kinds` only, if given) in the
    caller's transaction; how many were claimed and the latest `fire_at` among them."""
    table = _table(done.schema)
    of_kinds = "" if kinds is None else "AND kind = ANY($3::text[])"
    rows = await conn.fetch(
        f"""DELETE FROM {table} WHERE id IN (
                SELECT id FROM {table} WHERE fire_at <= $1 {of_kinds} ORDER BY fire_at LIMIT $2
                   FOR UPDATE SKIP LOCKED)
            RETURNING kind, subject, fire_at, payload::text AS payload, attempts""",  # noqa: S608
        now,
        limit,
        *(() if kinds is None else (list(kinds),)),
    )
    due: list[Timer] = []
    for row in rows:
        timer = timer_of(
            row["kind"], row["subject"], row["fire_at"], row["payload"], row["attempts"]
        )
        if isinstance(timer, str):
            stored = Timer(row["kind"], row["subject"], as_utc(row["fire_at"]), {}, row["attempts"])
            await _set_aside(conn, done, stored, f"unusable: {timer}", timer, row["payload"])
        else:
            due.append(timer)
    due.sort(key=lambda t: t.fire_at)
    if due:
        try:
            async with conn.transaction():
                await enqueue(conn, await handler(conn, due))
        except INFRASTRUCTURE_ERRORS:
            raise  # nothing is claimed: the round is tried again
        except Exception as error:  # a handler bug or bad data: isolate the timer at fault
            if len(due) == 1:
                await _failed(conn, done, due[0], error, now)
            else:
                log.warning(
                    "timer batch failed; firing one by one", schema=done.schema, exc_info=True
                )
                for timer in due:
                    await _fire_alone(conn, done, handler, enqueue, timer, now)
    latest = max((as_utc(row["fire_at"]) for row in rows), default=None)
    return len(rows), latest


async def _fire_alone(
    conn: Connection,
    done: _Round,
    handler: BatchTimerHandler,
    enqueue: Enqueue,
    timer: Timer,
    now: datetime,
) -> None:
    try:
        async with conn.transaction():
            await enqueue(conn, await handler(conn, [timer]))
    except INFRASTRUCTURE_ERRORS:
        raise
    except Exception as error:
        await _failed(conn, done, timer, error, now)


async def _failed(
    conn: Connection, done: _Round, timer: Timer, error: Exception, now: datetime
) -> None:
    attempts = timer.attempts + 1
    FAILURES.labels(schema=done.schema).inc()
    if attempts >= MAX_ATTEMPTS:
        log.error(
            "timer failed; setting it aside",
            schema=done.schema,
            kind=timer.kind,
            subject=timer.subject,
            attempts=attempts,
            exc_info=True,
        )
        reason = f"handler failed {attempts} times: {type(error).__name__}: {error}"
        failed = Timer(timer.kind, timer.subject, timer.fire_at, timer.payload, attempts)
        await _set_aside(conn, done, failed, reason, type(error).__name__)
        return
    retry_at = now + RETRY_FAILED_AFTER
    log.error(
        "timer failed; retrying later",
        schema=done.schema,
        kind=timer.kind,
        subject=timer.subject,
        attempts=attempts,
        retry_at=retry_at.isoformat(),
        exc_info=True,
    )
    # Should the timer have been set anew meanwhile (another transaction), that one stands.
    await conn.execute(
        f"""INSERT INTO {_table(done.schema)} (kind, subject, fire_at, payload, attempts)
            VALUES ($1, $2, $3, $4::jsonb, $5) ON CONFLICT (kind, subject) DO NOTHING""",  # noqa: S608
        timer.kind,
        timer.subject,
        retry_at,
        json.dumps(timer.payload),
        attempts,
    )


async def _set_aside(
    conn: Connection,
    done: _Round,
    timer: Timer,
    reason: str,
    cause: str,
    payload: str | None = None,
) -> None:
    """Keep `timer` out of the firing loop, with why; `payload` as stored, when unusable."""
    await conn.execute(
        f"""INSERT INTO {_table(done.schema, "timers_set_aside")}
                (kind, subject, fire_at, payload, attempts, reason)
            VALUES ($1, $2, $3, $4::jsonb, $5, $6)""",  # noqa: S608
        timer.kind,
        timer.subject,
        timer.fire_at,
        payload if payload is not None else json.dumps(timer.payload),
        timer.attempts,
        reason[:2000],
    )
    done.set_aside.append(SetAside(timer.kind, timer.subject, reason[:2000], cause[:200]))


def _report(done: _Round, health: TimerHealth | None) -> None:
    for item in done.set_aside:
        SET_ASIDE.labels(schema=done.schema).inc()
        log.error(
            "timer set aside",
            schema=done.schema,
            kind=item.kind,
            subject=item.subject,
            cause=item.cause,  # the reason is in the table: an error may quote the data
        )
    if health is not None and done.set_aside:
        health.timers_set_aside(done.set_aside)


async def set_aside_timers(conn: Connection, schema: str) -> list[dict[str, Any]]:
    """The timers set aside in `schema`, oldest first (for ops and tests)."""
    rows = await conn.fetch(
        f"""SELECT kind, subject, fire_at, payload::text AS payload, attempts, reason,
                   set_aside_at
              FROM {_table(schema, "timers_set_aside")} ORDER BY id"""  # noqa: S608
    )
    return [
        dict(row) | {"fire_at": as_utc(row["fire_at"]), "set_aside_at": as_utc(row["set_aside_at"])}
        for row in rows
    ]


@dataclass
class TimerHealth:
    """How the firing loop of one service instance fares: what its readiness check reports.

    Not ready while the firing loop has failed for `window` seconds on end (nothing fires at
    all), or while a timer was set aside in the last `window` seconds.
    """

    clock: Callable[[], float] = time.monotonic
    failing_since: float | None = None
    last_error: str | None = None
    recent: deque[tuple[float, SetAside]] = field(default_factory=lambda: deque(maxlen=1000))

    def round_done(self) -> None:
        """A firing round completed (whatever it fired or set aside)."""
        self.failing_since = None
        self.last_error = None

    def round_failed(self, error: BaseException) -> None:
        """A firing round failed as a whole (database unavailable, a bug of the loop)."""
        if self.failing_since is None:
            self.failing_since = self.clock()
        self.last_error = f"{type(error).__name__}: {error}"[:300]

    def timers_set_aside(self, items: Sequence[SetAside]) -> None:
        """Timers were set aside (and that was committed)."""
        now = self.clock()
        self.recent.extend((now, item) for item in items)

    def problem(self, window: float) -> str | None:
        """What is wrong with the timers, or None."""
        now = self.clock()
        if self.failing_since is not None and now - self.failing_since >= window:
            return f"not firing for {now - self.failing_since:.0f}s: {self.last_error}"
        while self.recent and now - self.recent[0][0] > window:
            self.recent.popleft()
        if self.recent:
            latest = self.recent[-1][1]
            return (
                f"{len(self.recent)} timer(s) set aside in the last {window:.0f}s; latest: "
                f"{latest.kind} of {latest.subject}: {latest.cause}"
            )
        return None


def _prepares(ahead: Ahead, upcoming: datetime | None, now: datetime) -> bool:
    if not ahead.kinds or upcoming is None:
        return False
    return 0 < (upcoming - now).total_seconds() <= ahead.seconds


async def next_due(pool: asyncpg.Pool, schema: str) -> datetime | None:
    """When the earliest timer falls due, if there is one."""
    at: datetime | None = await pool.fetchval(
        f"SELECT min(fire_at) FROM {_table(schema)}"  # noqa: S608
    )
    return None if at is None else as_utc(at)


async def run_timers(
    pool: Callable[[], asyncpg.Pool],
    schema: str,
    handler: BatchTimerHandler,
    enqueue: Enqueue,
    clock: Callable[[], datetime],
    *,
    poll_seconds: float = 0.5,
    limit: int = 250,
    loops: int = 2,
    health: TimerHealth | None = None,
    ahead: Ahead | None = None,
) -> None:
    """Fire due timers with `loops` firing loops until cancelled; survives database outages.

    Side by side, one loop's batch is in the database while the other's is in Python, and
    SKIP LOCKED keeps their batches apart. With `ahead`, a loop that sees the next deadline
    within its `seconds` fires it ahead (`prepare_due`), with those of its kinds due then.
    """
    async with asyncio.TaskGroup() as group:
        for _ in range(loops):
            group.create_task(
                _firing_loop(
                    pool,
                    schema,
                    handler,
                    enqueue,
                    clock,
                    _Pace(poll_seconds, limit, ahead or Ahead()),
                    health,
                )
            )


@dataclass(frozen=True, slots=True)
class Ahead:
    """Which timers may be fired ahead (`prepare_due`), and how far ahead at most."""

    kinds: frozenset[str] = frozenset()
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class _Pace:
    poll_seconds: float
    limit: int
    ahead: Ahead


async def _firing_loop(
    pool: Callable[[], asyncpg.Pool],
    schema: str,
    handler: BatchTimerHandler,
    enqueue: Enqueue,
    clock: Callable[[], datetime],
    pace: _Pace,
    health: TimerHealth | None,
) -> None:
    """Idle, sleep until the next deadline or `poll_seconds`, whichever comes first (a timer
    set meanwhile by another instance is seen within `poll_seconds`), or prepare it when it is
    `prepare_seconds` away."""
    health = health or TimerHealth()
    poll_seconds, limit = pace.poll_seconds, pace.limit
    gave_way_at: datetime | None = None  # the deadline a preparation gave way for: fired once due
    while True:
        try:
            fired = await fire_due(
                pool(), schema, handler, enqueue, now=clock(), limit=limit, health=health
            )
            health.round_done()
            if fired:
                continue
            upcoming = await next_due(pool(), schema)
            if upcoming != gave_way_at and _prepares(pace.ahead, upcoming, clock()):
                assert upcoming is not None
                prepared = await prepare_due(
                    pool(),
                    schema,
                    handler,
                    enqueue,
                    clock,
                    until=upcoming + PREPARE_SPAN,
                    kinds=pace.ahead.kinds,
                    limit=limit,
                    health=health,
                )
                health.round_done()
                if prepared is None:
                    gave_way_at = upcoming
                if prepared:
                    continue
        except asyncio.CancelledError:
            raise
        except Exception as error:  # database unavailable (or a bug): try again shortly
            health.round_failed(error)
            log.warning("timers not fired; will retry", schema=schema, exc_info=True)
            await asyncio.sleep(poll_seconds * 4)
            continue
        wait = poll_seconds
        if upcoming is not None:
            wait = min(wait, max((upcoming - clock()).total_seconds(), MIN_WAIT_SECONDS))
        await asyncio.sleep(wait)
