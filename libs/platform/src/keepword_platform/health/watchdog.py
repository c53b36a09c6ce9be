"""A thread that sees a blocked event loop, names the input it is stuck on, and records it.

A blocked loop cannot report on itself: uvicorn cannot answer a probe, a health check cannot
run, a graceful SIGTERM cannot be handled. So the loop only beats (a task stamps the clock every
fraction of a second) and a daemon thread judges the beats (`loop_watch.step`). When the loop
has been silent for the stall window the thread:

- looks at the loop thread's stack: if a consumer's batch handling is what runs, the input that
  consumer is handling now (its `InHand`) is the suspect — else nobody is blamed;
- logs the block with the suspect's position and the code location (never a payload);
- records the suspect in the service's schema over a short-lived connection of its own (the
  loop's pool cannot be used), so the input is dead-lettered when read again after a restart;
- with `exit_when_not_live`, ends the process at once so the supervisor restarts it.

When the loop beats again the episode ends, is logged, and `/healthz/live` tells it for a while.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from types import FrameType

import asyncpg
import structlog
from prometheus_client import Counter, Gauge

from keepword_platform.messaging import store

from .loop_watch import Block, Input, step
from .loop_watch import liveness as told

log = structlog.get_logger(__name__)

BLOCKED = Gauge("keepword_event_loop_blocked", "1 while the event loop is judged blocked.")
BLOCKS = Counter("keepword_event_loop_blocks_total", "Episodes of a blocked event loop.")

# Ended by the watchdog: the loop was blocked and the process cannot end itself gracefully.
EXIT_BLOCKED = 70
# How long /healthz/live tells of a block that ended.
REMEMBER_SECONDS = 900.0

Clock = Callable[[], float]


class InHand:
    """The input one consumer is handling now; written on the loop, read by the watchdog thread.

    Plain attribute assignment of an immutable value: the reader sees the old or the new one.
    """

    def __init__(self) -> None:
        self.current: Input | None = None

    def take(self, item: Input) -> None:
        """`item` is being handled from now on."""
        self.current = item

    def identify(self, event_id: str) -> None:
        """The input being handled carries `event_id` (known once it is decoded)."""
        if self.current is not None:
            self.current = replace(self.current, event_id=event_id)

    def clear(self) -> None:
        """Nothing is being handled."""
        self.current = None


class Handling:
    """Which consumer handles inputs in which frame of the loop thread.

    A process may run several consumers, each awaiting the database in turn, so "the input in
    hand" is that of the consumer whose handling frame is on the stack when the loop blocks,
    not that of the consumer that took an input last. A consumer enters its handling frame
    (a coroutine's frame is the same object across its awaits) and leaves it when done; the
    watchdog thread only looks frames up (a dict lookup, atomic under the GIL).
    """

    def __init__(self) -> None:
        self._frames: dict[FrameType, InHand] = {}

    def enter(self, frame: FrameType, in_hand: InHand) -> None:
        """Inputs of `in_hand`'s consumer are handled in `frame` until `leave`."""
        self._frames[frame] = in_hand

    def leave(self, frame: FrameType) -> None:
        self._frames.pop(frame, None)

    def at(self, frame: FrameType) -> InHand | None:
        """The consumer's record of what it handles, if inputs are handled in `frame`."""
        return self._frames.get(frame)


# One event loop per process, so one record of where its consumers handle inputs.
HANDLING = Handling()


def running_input(frame: FrameType | None, handling: Handling) -> Input | None:
    """The input in hand of the consumer whose handling frame is on the loop thread's stack
    (so it runs now); None when no handling code runs."""
    while frame is not None:
        in_hand = handling.at(frame)
        if in_hand is not None:
            return in_hand.current
        frame = frame.f_back
    return None


def where(frame: FrameType | None, depth: int = 6) -> list[str]:
    """The innermost code locations of a stack, for the log (no local values)."""
    found: list[str] = []
    while frame is not None and len(found) < depth:
        code = frame.f_code
        found.append(f"{os.path.basename(code.co_filename)}:{frame.f_lineno} {code.co_name}")
        frame = frame.f_back
    return found


class LoopWatchdog:
    """Beats on the loop, watches from a thread; see the module docstring."""

    def __init__(
        self,
        *,
        stall_after: float,
        database_url: str,
        exit_when_blocked: bool = False,
        handling: Handling = HANDLING,
        clock: Clock = time.monotonic,
    ) -> None:
        self.stall_after = stall_after
        self.beat_interval = min(0.25, stall_after / 10)
        self.look_interval = min(0.5, stall_after / 10)
        self._database_url = database_url
        self._exit = exit_when_blocked
        self._handling = handling
        self._clock = clock
        self.last_beat = clock()
        self.block: Block | None = None
        self._recorded_for = 0.0
        self._loop_thread: int | None = None
        self._stopping = threading.Event()

    async def liveness(self) -> str:
        """ "ok" (this runs on the loop, so it turns), with the last block if it is recent."""
        return told(self.block, now=self._clock(), remember_for=REMEMBER_SECONDS)

    async def beat(self) -> None:
        """Stamp the clock every `beat_interval` for as long as the loop lets it."""
        while True:
            self.last_beat = self._clock()
            await asyncio.sleep(self.beat_interval)

    def watch(self) -> None:
        """The thread's work: look until stopped."""
        while not self._stopping.wait(self.look_interval):
            try:
                self.look()
            except Exception:  # the watchdog must outlive its own mistakes
                log.exception("event loop watchdog failed to look")

    def stop(self) -> None:
        """End `watch`."""
        self._stopping.set()

    def look(self) -> None:
        """Judge the beats once and act on what changed."""
        last_beat, now = self.last_beat, self._clock()
        # Only a silent loop's stack is worth reading (it copies every thread's frame).
        frame = self._loop_frame() if now - last_beat >= self.stall_after else None
        self.block, change = step(
            self.block,
            last_beat=last_beat,
            now=now,
            stall_after=self.stall_after,
            suspect=running_input(frame, self._handling),
        )
        block = self.block
        if block is None:
            return
        if change == "blocked":
            self._blocked(block, frame)
        elif (
            change == "still_blocked" and block.blocked_for - self._recorded_for >= self.stall_after
        ):
            self._record(block)  # a longer block than recorded: a truer reason for the letter
        elif change == "turned":
            BLOCKED.set(0)
            log.warning(
                "event loop turns again",
                blocked_seconds=round(block.blocked_for, 1),
                **_fields(block.suspect),
            )
            self._record(block)

    def _loop_frame(self) -> FrameType | None:
        if self._loop_thread is None:
            return None
        return sys._current_frames().get(self._loop_thread)

    def _blocked(self, block: Block, frame: FrameType | None) -> None:
        BLOCKED.set(1)
        BLOCKS.inc()
        self._recorded_for = 0.0
        log.error(
            "event loop blocked: the service is not live",
            blocked_seconds=round(block.blocked_for, 1),
            stall_seconds=self.stall_after,
            running=where(frame),
            **_fields(block.suspect),
        )
        self._record(block)
        if self._exit:
            log.error("ending the process so that it is restarted", exit_code=EXIT_BLOCKED)
            _flush_logs()
            os._exit(EXIT_BLOCKED)

    def _record(self, block: Block) -> None:
        if block.suspect is None:
            return
        try:
            asyncio.run(self._store(block.suspect, block.blocked_for))
            self._recorded_for = block.blocked_for
        except Exception:  # the database may be what is away: logged, tried again next time
            log.exception("could not record the suspect input", **_fields(block.suspect))

    async def _store(self, suspect: Input, seconds: float) -> None:
        conn = await asyncpg.connect(self._database_url, timeout=5, command_timeout=5)
        try:
            await store.record_suspect(
                conn, suspect.schema, suspect.position, suspect.event_id, seconds
            )
        finally:
            await conn.close(timeout=2)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Beat and watch for the block's duration (enter it on the loop to be watched)."""
        self._loop_thread = threading.get_ident()
        self.last_beat = self._clock()
        beating = asyncio.create_task(self.beat(), name="event-loop-beat")
        watcher = threading.Thread(target=self.watch, name="event-loop-watchdog", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            self.stop()
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
            await asyncio.to_thread(watcher.join, 5)


def _fields(suspect: Input | None) -> dict[str, object]:
    # Where the input is, never what it says: payloads carry personal data.
    if suspect is None:
        return {"input": None}
    return {
        "input": suspect.describe(),
        "service": suspect.service,
        "topic": suspect.topic,
        "partition": suspect.partition,
        "offset": suspect.offset,
        "event_id": suspect.event_id,
    }


def _flush_logs() -> None:
    for handler in logging.getLogger().handlers:
        with contextlib.suppress(Exception):
            handler.flush()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
