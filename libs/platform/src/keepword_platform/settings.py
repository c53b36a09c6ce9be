"""Settings every service reads from `KEEPWORD_*` environment variables (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class KeepwordSettings(BaseSettings):
    """The public configuration contract shared by every service and the ops CLI."""

    model_config = SettingsConfigDict(
        env_prefix="KEEPWORD_", extra="ignore", frozen=True, populate_by_name=True
    )

    kafka_bootstrap: str = Field(default="127.0.0.1:9092", description="Kafka bootstrap servers.")
    database_url: str = Field(
        default="postgresql://keepword@127.0.0.1:5432/keepword", description="PostgreSQL DSN."
    )
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    config: Path | None = Field(
        default=None, description="TOML file: company, SLA policy, people and escalation chain."
    )
    topic_partitions: int = Field(default=6, ge=1, le=1000)
    topic_replication: int = Field(
        default=1, ge=1, description="Replicas per topic: 1 locally, 3 in production."
    )
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"
    http_host: str = "127.0.0.1"
    kafka_request_timeout_ms: int = Field(default=10_000, ge=1000)
    link_secret: str = Field(
        default="development-only-link-secret",
        min_length=16,
        description="Signs decision links (notifier) and checks them (escalation): set it.",
    )
    decision_link_hours: int = Field(default=72, ge=1, description="How long a link works.")
    escalation_public_url: str = Field(
        default="http://127.0.0.1:8081", description="Where managers reach the decision pages."
    )
    consumer_stall_seconds: float = Field(
        default=60,
        gt=0,
        description=(
            "A consumer with records waiting that has not moved for this long is stalled: the "
            "service is not ready and restarts the consumer in-process."
        ),
    )
    consumer_max_restarts: int = Field(
        default=3,
        ge=0,
        description="In-process restarts of a stalled consumer before liveness fails.",
    )
    outbox_stall_seconds: float = Field(
        default=60, gt=0, description="An outbox row unpublished this long makes it not ready."
    )
    timers_stall_seconds: float = Field(
        default=60,
        gt=0,
        description=(
            "Not ready while the timers have not fired for this long (the firing loop failing), "
            "or for this long after a timer was set aside (it could not be fired)."
        ),
    )
    exit_when_not_live: bool = Field(
        default=False,
        description=(
            "End the process (SIGTERM to itself) when liveness fails, for supervisors that "
            "restart a process that exits but do not probe it (Docker Compose)."
        ),
    )
    loop_stall_seconds: float = Field(
        default=30,
        gt=0,
        description=(
            "An event loop that has not turned for this long is blocked: the service is not "
            "live, the record being handled is recorded as a suspect (dead-lettered when read "
            "again), and with exit_when_not_live the process ends at once (exit code 70)."
        ),
    )
    test_hooks: bool = Field(
        default=False,
        description="Let test records block the service on purpose; never in production.",
    )


class IntakeSettings(KeepwordSettings):
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


class EscalationSettings(KeepwordSettings):
    """Escalation: decision pages and read API on 8081."""

    http_port: int = Field(default=8081, validation_alias="KEEPWORD_ESCALATION_PORT")
    api_key_cache_seconds: float = Field(
        default=5.0, ge=0, validation_alias="KEEPWORD_ESCALATION_API_KEY_CACHE_SECONDS"
    )


class CommitmentsSettings(KeepwordSettings):
    """Commitments: the ledger's read API on 8082."""

    http_port: int = Field(default=8082, validation_alias="KEEPWORD_COMMITMENTS_PORT")


class NotifierSettings(KeepwordSettings):
    """Notifier: health and metrics on 8083."""

    http_port: int = Field(default=8083, validation_alias="KEEPWORD_NOTIFIER_PORT")
    horizon_hours: float = Field(
        default=24,
        gt=0,
        validation_alias="KEEPWORD_NOTIFIER_HORIZON_HOURS",
        description="Events older than this send no email (a new consumer reading history).",
    )
    digest_seconds: float = Field(
        default=300,
        ge=0,
        validation_alias="KEEPWORD_NOTIFIER_DIGEST_SECONDS",
        description="Escalation emails to one manager within this window go out as one digest "
        "(0: never digest).",
    )
    lease_seconds: float = Field(
        default=60,
        gt=0,
        validation_alias="KEEPWORD_NOTIFIER_LEASE_SECONDS",
        description="An email claimed for sending is left alone by other senders this long "
        "(extended while held); a dead sender's emails are taken up again after it.",
    )
    smtp_security: Literal["auto", "none", "starttls", "tls"] = Field(
        default="auto",
        validation_alias="KEEPWORD_SMTP_SECURITY",
        description="auto: STARTTLS when the server offers it; none: never; starttls: required; "
        "tls: implicit TLS from the first byte (usually port 465).",
    )
    smtp_username: str | None = Field(default=None, validation_alias="KEEPWORD_SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(default=None, validation_alias="KEEPWORD_SMTP_PASSWORD")
    smtp_ca_file: Path | None = Field(
        default=None,
        validation_alias="KEEPWORD_SMTP_CA_FILE",
        description="PEM file of the CAs to trust for the SMTP server (default: the system's).",
    )
    smtp_timeout_seconds: float = Field(
        default=30, gt=0, validation_alias="KEEPWORD_SMTP_TIMEOUT_SECONDS"
    )

    @model_validator(mode="after")
    def _credentials_only_over_tls(self) -> NotifierSettings:
        # A password must never cross the network in clear: "auto" falls back to plain text
        # when the server does not offer STARTTLS, so it needs "starttls" or "tls".
        if (self.smtp_username is None) != (self.smtp_password is None):
            raise ValueError("KEEPWORD_SMTP_USERNAME and KEEPWORD_SMTP_PASSWORD go together")
        if self.smtp_username is not None and self.smtp_security not in ("starttls", "tls"):
            raise ValueError("SMTP credentials need KEEPWORD_SMTP_SECURITY=starttls or tls")
        return self
