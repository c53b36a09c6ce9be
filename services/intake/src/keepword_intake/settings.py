"""The intake service's settings: the common ones and its own `KEEPWORD_*` variables."""

from __future__ import annotations

from keepword_platform.settings import ServiceSettings
from pydantic import Field


class IntakeSettings(ServiceSettings):
    """Intake: HTTP API on 8080 and the inbound SMTP listener on 2525."""

    http_port: int = Field(default=8080, validation_alias="KEEPWORD_INTAKE_PORT")
    smtp_listen_port: int = Field(default=2525, validation_alias="KEEPWORD_INTAKE_SMTP_PORT")
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, validation_alias="KEEPWORD_INTAKE_MAX_BODY_BYTES"
    )
    max_batch_body_bytes: int = Field(
        default=32 * 1024 * 1024, ge=1024, validation_alias="KEEPWORD_INTAKE_MAX_BATCH_BODY_BYTES"
    )
    max_email_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, validation_alias="KEEPWORD_INTAKE_MAX_EMAIL_BYTES"
    )
    publish_timeout_ms: int = Field(
        default=5000, ge=100, validation_alias="KEEPWORD_INTAKE_PUBLISH_TIMEOUT_MS"
    )
    # Largest event intake hands to Kafka, as the producer counts it (a record batch of one).
    # At most aiokafka's max_request_size (1 MiB); the topics' max.message.bytes (broker
    # default 1 MiB + 12) must not be lower. A bigger event is refused with 413, never retried.
    max_event_bytes: int = Field(
        default=1_000_000,
        ge=64 * 1024,
        le=1024 * 1024,
        validation_alias="KEEPWORD_INTAKE_MAX_EVENT_BYTES",
    )
    api_key_cache_seconds: float = Field(
        default=5.0, ge=0, validation_alias="KEEPWORD_INTAKE_API_KEY_CACHE_SECONDS"
    )
    idempotency_retention_hours: int = Field(
        default=24, ge=1, validation_alias="KEEPWORD_INTAKE_IDEMPOTENCY_HOURS"
    )
