"""Assembles insights: every topic of the catalog read into facts, the indices' API and the
headline gauges."""

from __future__ import annotations

from keepword_platform import auth
from keepword_platform.consuming import ConsumingService
from keepword_platform.service import Runtime

from .dashboard import router as dashboard_router
from .gauges import gauges_extension
from .handlers import INPUTS as FACT_INPUTS
from .handlers import Recorder
from .report_timer import weekly_report_extension
from .repository import SCHEMA
from .routes import router
from .settings import InsightsSettings

SERVICE = "insights"


def _recorder(_runtime: Runtime, _settings: InsightsSettings) -> Recorder:
    return Recorder()


SPEC = ConsumingService(
    name=SERVICE,
    schema=SCHEMA,
    settings=InsightsSettings,
    inputs=FACT_INPUTS,
    handler=_recorder,
    on_events=Recorder.on_events,
    migrations="keepword_insights",
    # The API checks API keys, which live in the shared `auth` schema.
    shared_schemas=((auth.SCHEMA, auth.MIGRATIONS),),
    routers=(router, dashboard_router),
    extensions=(gauges_extension(), weekly_report_extension()),
    title="Keepword insights",
    description="The indices: reply times in business hours, promises made and kept, "
    "escalations and decisions, over a period, per week, team and person.",
    summary="The read side: every topic of the catalog kept as facts (threads, waits, "
    "promises, escalations, decisions, emails), from which the indices are computed.",
    consumes="Messages and replies, promises and production's answers, escalations and "
    "decisions, and the outcome of every email.",
)
MIGRATIONS = SPEC.migrations_packages
INPUTS = SPEC.topics

create_app = SPEC.create_app
asyncapi_app = SPEC.asyncapi_app
main = SPEC.main
