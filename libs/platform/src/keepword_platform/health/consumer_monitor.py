"""Watches a FastStream Kafka subscriber's progress, restarts it when it stalls, and says so.

The monitor looks every few seconds at each assigned partition: the consumer's position (its own
client, in memory) and the end of the log (asked of the broker through a client of the monitor's
own — the consumer's fetcher is what may be stuck, so its high watermark cannot be trusted).
The judging is `progress.assess`; this module only looks, acts and reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client import Counter, Gauge

from .progress import Look, Partition, Track, Verdict, assess, follow, recover

log = structlog.get_logger(__name__)

LAG = Gauge(
    "keepword_consumer_lag",
    "Records waiting on the partitions this instance's consumer holds, by consumer group.",
    ["group"],
)
SINCE_PROGRESS = Gauge(
    "keepword_consumer_seconds_since_progress",
    "Seconds records have waited without the consumer moving (0 when caught up or moving).",
    ["group"],
)
STALLED = Gauge(
    "keepword_consumer_stalled", "1 while the consumer is judged stalled, else 0.", ["group"]
)
RESTARTS = Counter(
    "keepword_consumer_restarts_total", "In-process restarts of a stalled consumer.", ["group"]
)

Clock = Callable[[], float]


class Activity:
    """When records of each partition last reached the handler (fed by the subscription)."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self.delivered_at: dict[Partition, float] = {}

    def delivered(self, records: Iterable[Any]) -> None:
        """Records (aiokafka ConsumerRecords) are about to be handled."""
        now = self._clock()
        for record in records:
            self.delivered_at[(record.topic, record.partition)] = now


_ACTIVITY: weakref.WeakKeyDictionary[Any, Activity] = weakref.WeakKeyDictionary()


def activity_of(subscriber: Any) -> Activity:
    """The activity record of a subscriber (created on first use)."""
    activity = _ACTIVITY.get(subscriber)
    if activity is None:
        activity = _ACTIVITY[subscriber] = Activity()
    return activity


def _partition(tp: TopicPartition) -> Partition:
    return (tp.topic, tp.partition)


class ConsumerMonitor:
    """Judges one subscriber's consumer and restarts it in-process when it stalls.

    `subscriber` is a FastStream Kafka subscriber with a consumer group: its `consumer`
    (the aiokafka consumer, replaced at every start), `group_id`, `topics`, `start()`, `stop()`.
    """

    def __init__(
        self,
        subscriber: Any,
        *,
        bootstrap: str,
        client_id: str,
        stall_after: float,
        max_restarts: int,
        request_timeout_ms: int = 10_000,
        interval: float | None = None,
        clock: Clock = time.monotonic,
        on_give_up: Callable[[], None] | None = None,
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.subscriber = subscriber
        # The login of the service's own clients (kafka_security): the probe and admin use it.
        self._client_options = dict(client_options or {})
        self.group: str = subscriber.group_id
        self.stall_after = stall_after
        self.max_restarts = max_restarts
        self.interval = interval or min(5.0, max(0.5, stall_after / 5))
        self._bootstrap = bootstrap
        self._client_id = f"{client_id}-progress"
        self._timeout = max(1.0, min(request_timeout_ms / 1000, stall_after))
        self._clock = clock
        self._on_give_up = on_give_up
        self._activity = activity_of(subscriber)
        self._assigned: dict[Partition, Track] = {}
        self._group: dict[Partition, Track] = {}
        self._unassigned_since: float | None = clock()
        self._restarts = 0
        self._last_restart_at: float | None = None
        self._probe: AIOKafkaConsumer | None = None
        self._admin: AIOKafkaAdminClient | None = None
        self.verdict = Verdict("starting", "not looked at yet")
        self.gave_up = False

    # --- what the health endpoints ask ------------------------------------------------------

    async def readiness(self) -> str:
        """ "ok", or what is wrong with the consumer."""
        return "ok" if self.verdict.healthy else f"{self.verdict.state}: {self.verdict.detail}"

    async def liveness(self) -> str:
        """ "ok" unless in-process restarts did not cure a stall: then restart the process."""
        if not self.gave_up:
            return "ok"
        return f"stalled through {self._restarts} in-process restarts: {self.verdict.detail}"

    # --- the loop ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Look, judge and act every `interval` seconds until cancelled."""
        try:
            while True:
                try:
                    await self.check()
                except asyncio.CancelledError:
                    raise
                except Exception:  # a bug here must not take the service down
                    log.exception("consumer progress check failed", group=self.group)
                await asyncio.sleep(self.interval)
        finally:
            await self._close_clients()

    async def check(self) -> Verdict:
        """One round: look at the consumer, judge it, record metrics, act on a stall."""
        now = self._clock()
        consumer = self.subscriber.consumer
        assignment = set(consumer.assignment()) if consumer is not None else set()
        if assignment:
            self._unassigned_since = None
            self._group = {}
            ends = await self._end_offsets(assignment)
            looks = {
                _partition(tp): Look(
                    position=await self._position(consumer, tp),
                    end_offset=ends.get(_partition(tp)),
                    delivered_at=self._activity.delivered_at.get(_partition(tp)),
                )
                for tp in assignment
            }
            self._assigned = {
                p: follow(self._assigned.get(p), look, now) for p, look in looks.items()
            }
        else:
            if self._unassigned_since is None:
                self._unassigned_since = now
            self._assigned = {}
            # Followed from the start of the gap, so that once it has lasted `stall_after` the
            # group's offsets have a history as long to judge by.
            looks = await self._group_looks()
            self._group = {p: follow(self._group.get(p), look, now) for p, look in looks.items()}
        verdict = assess(
            self._assigned,
            unassigned_since=self._unassigned_since,
            group=self._group,
            now=now,
            stall_after=self.stall_after,
        )
        self._report(verdict)
        if verdict.state in ("ok", "standby"):
            if self._restarts or self.gave_up:
                log.info("consumer recovered", group=self.group, restarts=self._restarts)
            self._restarts, self._last_restart_at, self.gave_up = 0, None, False
        action = recover(
            verdict,
            restarts=self._restarts,
            last_restart_at=self._last_restart_at,
            now=now,
            stall_after=self.stall_after,
            max_restarts=self.max_restarts,
        )
        if action == "restart":
            await self._restart(verdict)
        elif action == "give_up" and not self.gave_up:
            self.gave_up = True
            log.error(
                "consumer still stalled after in-process restarts; liveness now fails",
                group=self.group,
                restarts=self._restarts,
                reason=verdict.detail,
            )
            if self._on_give_up is not None:
                self._on_give_up()
        return verdict

    def _report(self, verdict: Verdict) -> None:
        if verdict.state != self.verdict.state:
            level = "info" if verdict.healthy else "warning"
            getattr(log, level)(
                "consumer progress", group=self.group, state=verdict.state, detail=verdict.detail
            )
        self.verdict = verdict
        LAG.labels(group=self.group).set(verdict.lag)
        SINCE_PROGRESS.labels(group=self.group).set(round(verdict.stalled_for, 1))
        STALLED.labels(group=self.group).set(1 if verdict.state == "stalled" else 0)

    async def _restart(self, verdict: Verdict) -> None:
        self._restarts += 1
        RESTARTS.labels(group=self.group).inc()
        log.warning(
            "consumer stalled; restarting it in-process",
            group=self.group,
            reason=verdict.detail,
            restart=self._restarts,
            max_restarts=self.max_restarts,
        )
        try:
            async with asyncio.timeout(self._timeout * 2):
                await self.subscriber.stop()
        except Exception:
            log.warning(
                "consumer did not stop cleanly; dropping it", group=self.group, exc_info=True
            )
            await self._drop_consumer()
        try:
            async with asyncio.timeout(self._timeout * 2):
                await self.subscriber.start()
        except Exception:
            log.warning("consumer restart failed; will try again", group=self.group, exc_info=True)
        # The new consumer gets a full window to join the group and move.
        self._last_restart_at = self._clock()
        self._unassigned_since = self._last_restart_at
        self._assigned, self._group = {}, {}

    async def _drop_consumer(self) -> None:
        # What FastStream's stop() would have done, when it hangs on a stuck consumer.
        for task in list(getattr(self.subscriber, "tasks", ())):
            task.cancel()
        with contextlib.suppress(AttributeError):
            self.subscriber.tasks.clear()
        consumer, self.subscriber.consumer = self.subscriber.consumer, None
        if consumer is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self._timeout):
                    await consumer.stop()

    # --- looking ----------------------------------------------------------------------------

    async def _position(self, consumer: AIOKafkaConsumer, tp: TopicPartition) -> int | None:
        try:
            # Immediate when the consumer knows its position; otherwise it would wait for it.
            async with asyncio.timeout(0.5):
                position: int = await consumer.position(tp)
                return position
        except Exception:  # not known yet, or no longer assigned
            return None

    async def _end_offsets(self, partitions: Iterable[TopicPartition]) -> dict[Partition, int]:
        try:
            async with asyncio.timeout(self._timeout):
                probe = await self._probe_client()
                offsets = await probe.end_offsets(list(partitions))
        except Exception as error:  # the broker did not answer: the lag is unknown this round
            log.debug("end offsets unavailable", group=self.group, error=repr(error))
            await self._close_clients()
            return {}
        return {_partition(tp): offset for tp, offset in offsets.items()}

    async def _group_looks(self) -> dict[Partition, Look]:
        """The group's committed offsets against the end of the log, for every partition."""
        topics: Sequence[str] = [topic.name for topic in self.subscriber.topics]
        try:
            async with asyncio.timeout(self._timeout):
                admin = await self._admin_client()
                described = await admin.describe_topics(list(topics))
                partitions = [
                    TopicPartition(meta["topic"], number)
                    for meta in described
                    if meta["error_code"] == 0
                    for number in range(len(meta["partitions"]))
                ]
                committed = await admin.list_consumer_group_offsets(
                    self.group, partitions=partitions
                )
                probe = await self._probe_client()
                ends = await probe.end_offsets(partitions)
        except Exception as error:
            log.debug("group offsets unavailable", group=self.group, error=repr(error))
            await self._close_clients()
            return {}
        looks: dict[Partition, Look] = {}
        for tp in partitions:
            mark = committed.get(tp)
            offset = mark.offset if mark is not None and mark.offset >= 0 else None
            looks[_partition(tp)] = Look(position=offset, end_offset=ends.get(tp))
        return looks

    async def _probe_client(self) -> AIOKafkaConsumer:
        if self._probe is None:
            probe = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap,
                client_id=self._client_id,
                enable_auto_commit=False,
                request_timeout_ms=int(self._timeout * 1000),
                **self._client_options,
            )
            try:
                await probe.start()
            except BaseException:
                with contextlib.suppress(Exception):
                    await probe.stop()
                raise
            self._probe = probe
        return self._probe

    async def _admin_client(self) -> AIOKafkaAdminClient:
        if self._admin is None:
            admin = AIOKafkaAdminClient(
                bootstrap_servers=self._bootstrap,
                client_id=self._client_id,
                request_timeout_ms=int(self._timeout * 1000),
                **self._client_options,
            )
            try:
                await admin.start()
            except BaseException:
                with contextlib.suppress(Exception):
                    await admin.close()
                raise
            self._admin = admin
        return self._admin

    async def _close_clients(self) -> None:
        probe, self._probe = self._probe, None
        admin, self._admin = self._admin, None
        if probe is not None:
            with contextlib.suppress(Exception):
                await probe.stop()
        if admin is not None:
            with contextlib.suppress(Exception):
                await admin.close()


@contextlib.asynccontextmanager
async def monitoring(monitor: ConsumerMonitor) -> AsyncIterator[ConsumerMonitor]:
    """Run `monitor` for the duration of the block."""
    task = asyncio.create_task(monitor.run(), name=f"progress-{monitor.group}")
    try:
        yield monitor
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
