"""Hooks that let a test block a service on purpose; off unless `KEEPWORD_TEST_HOOKS` is set.

A consumed record carrying the header `keepword-test-block-seconds: N` makes the consumer sleep
N seconds on the event loop while handling it, as a hostile input would. With hooks off (the
default, and always in production) the header is ignored and logged.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Final

import structlog

log = structlog.get_logger(__name__)

BLOCK_HEADER: Final = "keepword-test-block-seconds"

_enabled = False


def enable(on: bool) -> None:
    """Turn the hooks on or off for this process (from the service's settings at start-up)."""
    global _enabled
    _enabled = on
    if on:
        log.warning("test hooks are on: records can block this service on purpose")


def block_seconds(headers: Sequence[tuple[str, bytes]]) -> float | None:
    """The block a record asks for, or None (no header, or not a finite number of seconds)."""
    for name, value in headers:
        if name == BLOCK_HEADER:
            try:
                seconds = float(value)
            except ValueError:
                return None
            return seconds if math.isfinite(seconds) and seconds > 0 else None
    return None


def block_if_asked(headers: Sequence[tuple[str, bytes]], *, offset: int) -> None:
    """Sleep on the calling thread (the event loop) if the record asks and the hooks are on."""
    seconds = block_seconds(headers)
    if seconds is None:
        return
    if not _enabled:
        log.warning("test hook header ignored: test hooks are off", offset=offset)
        return
    log.warning("test hook: blocking the event loop", seconds=seconds, offset=offset)
    time.sleep(seconds)
