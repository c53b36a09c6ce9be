"""The shape every Keepword service shares.

A service is a FastAPI app (health, metrics and its own HTTP API) that owns a FastStream
`KafkaBroker` and an asyncpg pool, opened in the app's lifespan in a fixed order — configuration,
database and migrations, then the broker — and closed in reverse. Nothing connects at import time.

Health: `/healthz/live` fails only when a restart of the process is the cure (a consumer that
stayed stalled through its in-process restarts; a blocked event loop cannot answer at all, so a
watchdog thread reports it, see `health.watchdog`); `/healthz/ready` (and `/healthz`, the same)
fails while the service cannot do its work: Kafka or PostgreSQL unreachable, a consumer not
making progress, an outbox not draining, or whatever else an extension registers. A check that
answers "ok; ..." is healthy and tells of something past (a block that ended).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import asyncpg
import structlog
import uvicorn
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from prometheus_client import make_asgi_app
from pydantic import BaseModel, Field

from .company import CompanyConfig, load_company_config
from .database import database_ready, open_pool
from .health import block_hook
from .health.consumer_monitor import ConsumerMonitor, monitoring
from .health.watchdog import LoopWatchdog
from .http_guard import guarded_protocol
from .kafka_security import kafka_client_options
from .logging import configure_logging
from .migrations import apply_migrations
from .production_checks import production_problems, refusal
from .settings import KeepwordSettings

log = structlog.get_logger(__name__)

# A health check: "ok", or what is wrong. Extensions register theirs on the runtime.
HealthCheck = Callable[[], Awaitable[str]]
CHECK_TIMEOUT_SECONDS = 3.0


@dataclass
class Runtime:
    """What a running service holds: settings, configuration, and its open connections."""

    name: str
    settings: KeepwordSettings
    broker: KafkaBroker
    company: CompanyConfig = field(default_factory=CompanyConfig)
    pool: asyncpg.Pool | None = None
    extras: dict[str, Any] = field(default_factory=dict)  # what extensions share with routes
    readiness: dict[str, HealthCheck] = field(default_factory=dict)  # besides kafka, database
    liveness: dict[str, HealthCheck] = field(default_factory=dict)

    @property
    def db(self) -> asyncpg.Pool:
        """The open pool; only valid between start-up and shutdown."""
        if self.pool is None:
            raise RuntimeError(f"{self.name}: the database pool is not open")
        return self.pool


Extension = Callable[[Runtime], AbstractAsyncContextManager[None]]


class HealthReport(BaseModel):
    """What a health endpoint answers: the verdict, and each check's state."""

    status: Literal["ok", "unavailable"]
    service: str
    checks: dict[str, str] = Field(description='Each check: "ok", "ok; ..." or what is wrong.')


HEALTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": HealthReport, "description": "Healthy."},
    503: {"model": HealthReport, "description": "Not healthy; `checks` says what is wrong."},
}


@dataclass(frozen=True)
class ServiceSpec:
    """How to assemble one service."""

    name: str
    schema: str
    migrations_packages: Sequence[str] = ()
    # Shared schemas the service also needs, e.g. ("auth", ("keepword_platform.auth",)).
    shared_schemas: Sequence[tuple[str, Sequence[str]]] = ()
    routers: Sequence[APIRouter] = ()
    extensions: Sequence[Extension] = ()
    title: str = ""
    description: str = ""


def create_service_app(
    spec: ServiceSpec,
    settings: KeepwordSettings,
    broker: KafkaBroker,
    runtime: Runtime | None = None,
) -> FastAPI:
    """A FastAPI app that runs `broker` and the spec's extensions for the app's lifetime.

    `runtime`, when given, is the one the app fills in (objects built before the app may
    already read from it lazily); it must name the same settings and broker.
    """
    runtime = runtime or Runtime(name=spec.name, settings=settings, broker=broker)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        configure_logging(spec.name, settings.log_level, settings.log_format)
        runtime.company = load_company_config(settings.config)
        block_hook.enable(settings.test_hooks)
        async with AsyncExitStack() as stack:
            watchdog = LoopWatchdog(
                stall_after=settings.loop_stall_seconds,
                database_url=settings.database_url,
                exit_when_blocked=settings.exit_when_not_live,
            )
            await stack.enter_async_context(watchdog.running())
            runtime.liveness["event loop"] = watchdog.liveness
            runtime.pool = await open_pool(settings.database_url)
            stack.push_async_callback(close_pool, runtime.pool)
            async with runtime.pool.acquire() as conn:
                for schema, packages in spec.shared_schemas:
                    await apply_migrations(conn, schema, packages)
                if spec.migrations_packages:
                    await apply_migrations(conn, spec.schema, spec.migrations_packages)
            await broker.start()
            stack.push_async_callback(stop_broker, broker)
            monitors = consumer_monitors(broker, settings)
            names = check_names(len(monitors))
            for monitor, name in zip(monitors, names, strict=True):
                await stack.enter_async_context(monitoring(monitor))
                runtime.readiness[name] = monitor.readiness
                runtime.liveness[name] = monitor.liveness
            for extension in spec.extensions:
                await stack.enter_async_context(extension(runtime))
            # Start-up objects live for the whole run: keep them out of every future GC pass.
            gc.freeze()
            log.info("service started", port=getattr(settings, "http_port", None))
            yield
            log.info("service stopping")
        runtime.pool = None
        log.info("service stopped")

    app = FastAPI(
        title=spec.title or f"Keepword {spec.name}",
        description=spec.description,
        version="1.0.0",
        lifespan=lifespan,
    )
    app.state.runtime = runtime

    def answer(checks: Mapping[str, str]) -> JSONResponse:
        healthy = all(value == "ok" or value.startswith("ok;") for value in checks.values())
        return JSONResponse(
            {"status": "ok" if healthy else "unavailable", "service": spec.name, "checks": checks},
            status_code=200 if healthy else 503,
        )

    @app.get(
        "/healthz",
        tags=["ops"],
        summary="Readiness (the same as /healthz/ready)",
        responses=HEALTH_RESPONSES,
    )
    async def healthz() -> JSONResponse:
        return answer(await health_checks(runtime))

    @app.get(
        "/healthz/ready",
        tags=["ops"],
        summary="Whether the service can do its work now",
        responses=HEALTH_RESPONSES,
    )
    async def ready() -> JSONResponse:
        return answer(await health_checks(runtime))

    @app.get(
        "/healthz/live",
        tags=["ops"],
        summary="Whether only a restart would help (503)",
        responses=HEALTH_RESPONSES,
    )
    async def live() -> JSONResponse:
        return answer(await _run_checks(runtime.liveness))

    app.mount("/metrics", make_asgi_app())
    for router in spec.routers:
        app.include_router(router)
    return app


async def health_checks(runtime: Runtime) -> dict[str, str]:
    """Readiness: each dependency's and registered check's state, "ok" or what is wrong."""

    async def kafka() -> str:
        return "ok" if await runtime.broker.ping(timeout=2.0) else "unreachable"

    async def database() -> str:
        ok = runtime.pool is not None and await database_ready(runtime.pool)
        return "ok" if ok else "unreachable"

    return await _run_checks({"kafka": kafka, "database": database} | runtime.readiness)


async def _run_checks(checks: Mapping[str, HealthCheck]) -> dict[str, str]:
    async def one(check: HealthCheck) -> str:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                return await check()
        except TimeoutError:
            return f"no answer within {CHECK_TIMEOUT_SECONDS:.0f}s"
        except Exception as error:  # a check that fails says why instead of a 500
            return f"check failed: {error!r}"

    results = await asyncio.gather(*(one(check) for check in checks.values()))
    return dict(zip(checks, results, strict=True))


def consumer_monitors(broker: KafkaBroker, settings: KeepwordSettings) -> list[ConsumerMonitor]:
    """A progress monitor for each of `broker`'s consumer-group subscribers."""
    grouped: list[Any] = [s for s in broker.subscribers if getattr(s, "group_id", None)]
    return [
        ConsumerMonitor(
            subscriber,
            bootstrap=settings.kafka_bootstrap,
            client_id=subscriber.group_id,
            stall_after=settings.consumer_stall_seconds,
            max_restarts=settings.consumer_max_restarts,
            request_timeout_ms=settings.kafka_request_timeout_ms,
            on_give_up=_end_this_process if settings.exit_when_not_live else None,
            client_options=kafka_client_options(settings),
        )
        for subscriber in grouped
    ]


STOP_SECONDS = 15.0
"""How long a stopping service waits for its consumers to stop, then for its database
connections to be given back, before it goes on without them: a process asked to stop stops."""


async def stop_broker(broker: KafkaBroker) -> None:
    """Stop the broker's consumers and producers; give up (logged) after `STOP_SECONDS`."""
    try:
        async with asyncio.timeout(STOP_SECONDS):
            await broker.stop()
    except TimeoutError:
        log.error("the broker did not stop in time; going on", seconds=STOP_SECONDS)


async def close_pool(pool: asyncpg.Pool) -> None:
    """Close the pool once its connections are given back; after `STOP_SECONDS`, close them
    anyway (a transaction still open is rolled back by the server: nothing half-done stays)."""
    try:
        async with asyncio.timeout(STOP_SECONDS):
            await pool.close()
    except TimeoutError:
        log.error(
            "database connections still in use at shutdown; closing them", seconds=STOP_SECONDS
        )
        pool.terminate()


def check_names(count: int) -> list[str]:
    """The health checks' names of a process's `count` consumers: "consumer", "consumer 2", …"""
    return [f"consumer {n}" if n > 1 else "consumer" for n in range(1, count + 1)]


def _end_this_process() -> None:
    # uvicorn shuts down gracefully on SIGTERM; the supervisor then starts a new process.
    log.error("liveness failed; ending the process so that it is restarted")
    signal.raise_signal(signal.SIGTERM)


# Handling a request allocates many short-lived objects; CPython's default gen-0 threshold (700)
# then runs a collection every few hundred of them. Measured on intake's batch path, GC took about
# a third of the time; a larger threshold brings that to a few percent for a little more memory.
GC_THRESHOLDS = (50_000, 50, 100)


def serve(
    app: FastAPI,
    settings: KeepwordSettings,
    port: int,
    sockets: Sequence[socket.socket] | None = None,
) -> None:
    """Run `app` under uvicorn until SIGTERM/SIGINT, then shut down cleanly.

    A production deployment with unsafe settings ends at once, naming every problem
    (`production_checks`). After a graceful shutdown uvicorn re-raises the signal, so the
    process ends "killed by SIGTERM" as supervisors expect; the log line "service stopped"
    marks a clean finish. `sockets`: listen on these, already bound (worker processes sharing
    one port), instead of binding `port`.
    """
    problems = production_problems(settings, os.environ)
    if problems:  # before anything opens: nothing to undo
        raise SystemExit(refusal(problems))
    gc.set_threshold(*GC_THRESHOLDS)
    server = uvicorn.Server(server_config(app, settings, port))
    with contextlib.suppress(KeyboardInterrupt):  # SIGINT, re-raised after the shutdown
        server.run(sockets=list(sockets) if sockets else None)
    if not server.started:
        raise SystemExit(3)  # uvicorn's code for a failed start-up (the log says why)


def server_config(app: FastAPI, settings: KeepwordSettings, port: int) -> uvicorn.Config:
    """uvicorn's configuration for `app`, with the settings' HTTP limits.

    The request head's size and time are bounded by `http_guard`; an idle kept-alive connection
    is closed after `http_keep_alive_seconds`; with `http_max_connections` connections open (or
    requests in progress), a request on one more is answered 503 at once.
    """
    return uvicorn.Config(
        app,
        host=settings.http_host,
        port=port,
        log_config=None,  # keep structlog's handlers
        access_log=False,
        timeout_graceful_shutdown=15,
        http=guarded_protocol(
            max_head_bytes=settings.http_max_header_bytes,
            head_timeout_seconds=settings.http_header_timeout_seconds,
        ),
        timeout_keep_alive=settings.http_keep_alive_seconds,
        # uvicorn counts the connection asking too: one more, so that the setting's number of
        # connections is served.
        limit_concurrency=settings.http_max_connections + 1,
    )
