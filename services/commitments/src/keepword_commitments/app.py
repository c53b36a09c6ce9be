"""Assembles commitments: the ledger consuming requests and messages, its outbox relay, its
timers and its read API."""

from __future__ import annotations

from keepword_platform import auth
from keepword_platform.consuming import ConsumingService
from keepword_platform.service import Runtime

from .handlers import INPUTS as LEDGER_INPUTS
from .handlers import SCHEMA, Ledger
from .routes import router
from .settings import CommitmentsSettings

SERVICE = "commitments"


def _ledger(runtime: Runtime, _settings: CommitmentsSettings) -> Ledger:
    return Ledger(company=lambda: runtime.company)


SPEC = ConsumingService(
    name=SERVICE,
    schema=SCHEMA,
    settings=CommitmentsSettings,
    inputs=LEDGER_INPUTS,
    handler=_ledger,
    on_timer=Ledger.on_timer,
    on_events=Ledger.on_events,
    migrations="keepword_commitments",
    # The read API checks API keys, which live in the shared `auth` schema.
    shared_schemas=((auth.SCHEMA, auth.MIGRATIONS),),
    routers=(router,),
    title="Keepword commitments",
    description="The promise ledger: what was promised versus what production confirmed.",
    summary="The promise ledger: what sales and marketing promised versus what production "
    "confirmed, and whether each promise was kept.",
    consumes="Promises declared and answered, and staff replies to scan for promises.",
)
MIGRATIONS = SPEC.migrations_packages
INPUTS = SPEC.topics

create_app = SPEC.create_app
asyncapi_app = SPEC.asyncapi_app
main = SPEC.main
