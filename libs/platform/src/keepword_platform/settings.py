"""Settings every service reads from `KEEPWORD_*` environment variables (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Known to everyone who reads this file: a link signed with it proves nothing.
DEVELOPMENT_LINK_SECRET = "development-only-link-secret"  # noqa: S105


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
    # Limits of the HTTP server (uvicorn; keepword_platform.http_guard for the request head).
    http_max_header_bytes: int = Field(
        default=16 * 1024,
        ge=1024,
        description="A request line and headers larger than this get 431 and the connection "
        "is closed.",
    )
    http_header_timeout_seconds: float = Field(
        default=10,
        gt=0,
        description="A connection whose request line and headers have not all arrived this "
        "long after it opened (or after the request began) is closed: slow clients hold no "
        "connection for long.",
    )
    http_keep_alive_seconds: int = Field(
        default=5,
        ge=1,
        description="An idle keep-alive connection is closed after this long; behind a proxy "
        "that reuses connections, make it longer than the proxy's idle timeout.",
    )
    http_max_connections: int = Field(
        default=1000,
        ge=2,
        description="Open connections (or requests in progress) from which on a request is "
        "answered 503 at once instead of being handled.",
    )
    kafka_request_timeout_ms: int = Field(default=10_000, ge=1000)
    # Kafka client security (keepword_platform.kafka_security turns these into client options).
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", description="PLAINTEXT (local) or SASL_SSL (TLS + SCRAM login)."
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = Field(default=None, description="The service's principal.")
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = Field(
        default=None, description="CA that signed the brokers' certificates (default: system CAs)."
    )
    env: Literal["development", "test", "production"] = Field(
        default="production",
        description=(
            "What kind of deployment this is. Only development and test may run with the "
            "development link secret; production (the default, so that a forgotten setting is "
            "safe) refuses to start with it or with other unsafe settings (production_checks)."
        ),
    )
    link_secret: str = Field(
        default=DEVELOPMENT_LINK_SECRET,
        min_length=16,
        description=(
            "Signs decision links (notifier) and checks them (escalation): at least 32 bytes, "
            "the same in both services. The default works only with KEEPWORD_ENV=development "
            "or test."
        ),
    )
    decision_link_hours: int = Field(default=72, ge=1, description="How long a link works.")
    escalation_public_url: str = Field(
        default="http://127.0.0.1:8081", description="Where managers reach the decision pages."
    )
    answer_link_hours: int = Field(
        default=120,
        ge=1,
        description="How long the links in production's and the maker's promise emails work.",
    )
    intake_public_url: str = Field(
        default="http://127.0.0.1:8080",
        description="Where people reach intake's pages (the links in promise emails).",
    )
    dashboard_link_hours: int = Field(
        default=168,
        ge=1,
        description="How long the dashboard link in a manager's email works (and the session "
        "it opens).",
    )
    insights_public_url: str = Field(
        default="http://127.0.0.1:8084",
        description="Where managers reach the dashboard (the link in the weekly report).",
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
    timers_prepare_seconds: float = Field(
        default=10,
        ge=0,
        description=(
            "Deadlines falling due this soon (of the kinds a service may fire ahead: "
            "escalation's reply deadlines) are fired ahead in one transaction that commits "
            "when they are due; it gives way (they fire once due) should an event of one of "
            "their threads come meanwhile (0: fired once due)."
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


MembersPerProcess = Annotated[int, Field(ge=1, le=16)]
"""Members of a consumer group in one process: a service sets its own default with this type."""


class ServiceSettings(KeepwordSettings):
    """The settings of a service: the common ones and the port of its HTTP API.

    Each service's own class (in its package) names the port's variable and adds its settings.
    """

    http_port: int
    consumer_batch_records: int = Field(
        default=500,
        ge=1,
        le=10_000,
        description="Events handled at most per consumer batch (one transaction); a service may "
        "name its own variable and default.",
    )
    consumers_per_process: MembersPerProcess = Field(
        default=1,
        description="Members of the service's consumer group in each process, each holding a "
        "share of the partitions: one handles its batch while another waits on the database. "
        "A service may set its own default (commitments: 2).",
    )
