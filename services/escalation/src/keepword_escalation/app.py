"""Assembles escalation: thread clocks and rules consuming messages and the ledger's changes,
durable deadlines, the outbox relay, the decision pages and the read API."""

from __future__ import annotations

from keepword_platform import auth
from keepword_platform.consuming import ConsumingService
from keepword_platform.service import Runtime

from .pages import router as pages_router
from .routes import router
from .settings import EscalationSettings
from .watch import INPUTS as WATCH_INPUTS
from .watch import REPLY_DUE, REPLY_WARN, SCHEMA, Watch

SERVICE = "escalation"


def _watch(runtime: Runtime, _settings: EscalationSettings) -> Watch:
    watch = Watch(company=lambda: runtime.company)
    # The pages and the API decide through the watch (the API's keys: auth.dependencies).
    runtime.extras["watch"] = watch
    return watch


SPEC = ConsumingService(
    name=SERVICE,
    schema=SCHEMA,
    settings=EscalationSettings,
    inputs=WATCH_INPUTS,
    handler=_watch,
    # A consumed batch in a few statements; redone event by event (a batch of one) if it fails.
    on_events=Watch.on_events,
    on_timers=Watch.on_timers,
    # A reply deadline handled ahead is handled as of when it falls due (`Watch.on_timers`); a
    # manager's decision time is not: a decision made just before it must still count.
    timers_ahead=frozenset({REPLY_WARN, REPLY_DUE}),
    migrations="keepword_escalation",
    shared_schemas=((auth.SCHEMA, auth.MIGRATIONS),),
    routers=(router, pages_router),
    title="Keepword escalation",
    description="Catches stalled and 'handle it' threads and routes them up the chain.",
    summary="Thread clocks and rules: stalled and 'handle it' threads routed up the "
    "management chain, and the managers' decisions.",
    consumes="Customer messages, staff replies and the ledger's changes.",
)
MIGRATIONS = SPEC.migrations_packages
INPUTS = SPEC.topics

create_app = SPEC.create_app
asyncapi_app = SPEC.asyncapi_app
main = SPEC.main
