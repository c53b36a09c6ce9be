"""The insights service's settings: the common ones and its own `KEEPWORD_INSIGHTS_*` variables."""

from __future__ import annotations

from keepword_platform.settings import ServiceSettings
from pydantic import Field


class InsightsSettings(ServiceSettings):
    """Insights: the indices' API on 8084, and the headline gauges it keeps fresh."""

    http_port: int = Field(default=8084, validation_alias="KEEPWORD_INSIGHTS_PORT")
    gauge_refresh_seconds: float = Field(
        default=60,
        gt=0,
        validation_alias="KEEPWORD_INSIGHTS_GAUGE_REFRESH_SECONDS",
        description="How often the headline gauges on /metrics are computed again.",
    )
    gauge_window_days: int = Field(
        default=7,
        ge=1,
        le=366,
        validation_alias="KEEPWORD_INSIGHTS_GAUGE_WINDOW_DAYS",
        description="The trailing period the headline gauges cover (reply times, promises).",
    )
    dashboard_session_hours: int = Field(
        default=12,
        ge=1,
        validation_alias="KEEPWORD_INSIGHTS_DASHBOARD_SESSION_HOURS",
        description="How long the dashboard stays signed in after a manager opens their link.",
    )
