"""The headline indices as Prometheus gauges on /metrics, computed again every
`gauge_refresh_seconds` over the trailing `gauge_window_days` (a background task)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from keepword_platform.service import Extension, Runtime
from prometheus_client import Gauge

from .indices import Json, Period
from .reading import indices_of
from .settings import InsightsSettings

log = structlog.get_logger(__name__)

_G = "keepword_insights_"
WAITING = Gauge(_G + "threads_waiting", "Threads whose customer waits for a person's reply now.")
OLDEST_WAIT = Gauge(
    _G + "oldest_wait_business_seconds", "Business time the longest-waiting customer has waited."
)
DEPOSITS_WAITING = Gauge(_G + "deposits_waiting", "Waiting threads whose customer paid a deposit.")
REPLY_P90 = Gauge(
    _G + "reply_p90_business_seconds", "90th percentile reply time in the window.", ["reply"]
)
REPLY_WITHIN_SLA = Gauge(
    _G + "reply_within_sla_ratio", "Share of the window's replies within the SLA.", ["reply"]
)
PROMISES = Gauge(
    _G + "promises", "Promises made in the window, by where they stand now.", ["status"]
)
ESCALATIONS_UNDECIDED = Gauge(
    _G + "escalations_undecided", "Escalations opened in the window, neither decided nor resolved."
)
HEADLINE_STATUSES = ("made", "awaiting_confirmation", "at_risk", "broken", "kept", "gap")


def show(found: Json) -> None:
    """Set the gauges from a computation of the indices."""
    waiting = found["waiting_now"]
    WAITING.set(waiting["threads"])
    OLDEST_WAIT.set(waiting["oldest_business_seconds"] or 0)
    DEPOSITS_WAITING.set(found["deposits_waiting"]["threads"])
    for reply in ("first_reply", "next_reply"):
        stats: dict[str, Any] = found["replies"][reply]["all"]
        REPLY_P90.labels(reply).set(stats["p90_seconds"] or 0)
        within = stats["within_sla_percent"]
        REPLY_WITHIN_SLA.labels(reply).set(1 if within is None else within / 100)
    for status in HEADLINE_STATUSES:
        PROMISES.labels(status).set(found["promises"]["all"][status])
    ESCALATIONS_UNDECIDED.set(found["escalations"]["undecided"])


def gauges_extension(now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Extension:
    """Keeps the gauges fresh while the service runs."""

    @contextlib.asynccontextmanager
    async def running(runtime: Runtime) -> AsyncIterator[None]:
        settings = runtime.settings
        assert isinstance(settings, InsightsSettings)
        window = timedelta(days=settings.gauge_window_days)

        async def refresh() -> None:
            while True:
                at = now()
                try:
                    show(await indices_of(runtime.db, runtime.company, Period(at - window, at), at))
                except Exception:  # the next round tries again; /metrics keeps the last values
                    log.warning("headline gauges not computed", exc_info=True)
                await asyncio.sleep(settings.gauge_refresh_seconds)

        task = asyncio.create_task(refresh(), name="insights-gauges")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return running
