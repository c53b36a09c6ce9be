"""The intake service's settings: the common ones and its own `KEEPWORD_*` variables."""

from __future__ import annotations

from pathlib import Path

from keepword_platform.settings import ServiceSettings
from pydantic import Field


class IntakeSettings(ServiceSettings):
    """Intake: HTTP API on 8080 and the inbound SMTP listener on 2525."""

    http_port: int = Field(default=8080, validation_alias="KEEPWORD_INTAKE_PORT")
    smtp_listen_port: int = Field(default=2525, validation_alias="KEEPWORD_INTAKE_SMTP_PORT")
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        validation_alias="KEEPWORD_INTAKE_WORKERS",
        description="HTTP worker processes sharing the port (one per core is the most that "
        "helps). The SMTP listener, the mailbox connector and the idempotency-key purge run in "
        "worker 0 only; a worker that ends is started again.",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, validation_alias="KEEPWORD_INTAKE_MAX_BODY_BYTES"
    )
    max_batch_body_bytes: int = Field(
        default=32 * 1024 * 1024, ge=1024, validation_alias="KEEPWORD_INTAKE_MAX_BATCH_BODY_BYTES"
    )
    max_email_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, validation_alias="KEEPWORD_INTAKE_MAX_EMAIL_BYTES"
    )
    # The SMTP listener's limits (RFC 5321's minimums where it has one).
    smtp_max_connections: int = Field(
        default=100,
        ge=1,
        validation_alias="KEEPWORD_INTAKE_SMTP_MAX_CONNECTIONS",
        description="SMTP connections served at once; one more is answered 421 (try later) "
        "and closed.",
    )
    smtp_idle_timeout_seconds: float = Field(
        default=300,
        gt=0,
        validation_alias="KEEPWORD_INTAKE_SMTP_IDLE_TIMEOUT_SECONDS",
        description="An SMTP connection with no valid command for this long is closed; a "
        "message's DATA must also arrive within it.",
    )
    smtp_max_command_bytes: int = Field(
        default=512,
        ge=512,
        validation_alias="KEEPWORD_INTAKE_SMTP_MAX_COMMAND_BYTES",
        description="Longest SMTP command line (a longer one gets 500); extensions add theirs.",
    )
    smtp_max_line_bytes: int = Field(
        default=1001,
        ge=1001,
        validation_alias="KEEPWORD_INTAKE_SMTP_MAX_LINE_BYTES",
        description="Longest line of a message, with its CRLF (a message with a longer one "
        "gets 500).",
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
    # Sender authentication (sender_trust): what may prove that mail from a staff address is
    # theirs. Values of the dict and tuple settings are JSON in the environment.
    smtp_users: dict[str, str] = Field(
        default_factory=dict,
        validation_alias="KEEPWORD_INTAKE_SMTP_USERS",
        description="SMTP AUTH logins (a person's address) -> 'sha256:<hex>' of their password, "
        "a generated token (python -m keepword_intake.smtp_auth ADDRESS). A login proves mail "
        "From: that address only.",
    )
    smtp_tls_cert: Path | None = Field(
        default=None,
        validation_alias="KEEPWORD_INTAKE_SMTP_TLS_CERT",
        description="PEM certificate chain for STARTTLS on the listener (with the key below).",
    )
    smtp_tls_key: Path | None = Field(default=None, validation_alias="KEEPWORD_INTAKE_SMTP_TLS_KEY")
    smtp_auth_plaintext_localhost: bool = Field(
        default=False,
        validation_alias="KEEPWORD_INTAKE_SMTP_AUTH_PLAINTEXT_LOCALHOST",
        description="Development: allow AUTH without STARTTLS from 127.0.0.1/::1 only.",
    )
    trusted_mtas: tuple[str, ...] = Field(
        default=(),
        validation_alias="KEEPWORD_INTAKE_TRUSTED_MTAS",
        description="authserv-ids whose Authentication-Results are believed, for mail that "
        "came through them (the company's inbox, or a trusted relay below).",
    )
    trusted_relays: tuple[str, ...] = Field(
        default=(),
        validation_alias="KEEPWORD_INTAKE_TRUSTED_RELAYS",
        description="IP networks of the MTAs that relay mail to the listener after checking it.",
    )
    dkim_keys: dict[str, str] = Field(
        default_factory=dict,
        validation_alias="KEEPWORD_INTAKE_DKIM_KEYS",
        description="'selector._domainkey.domain' -> its TXT record, looked up before DNS.",
    )
    dkim_dns: bool = Field(
        default=True,
        validation_alias="KEEPWORD_INTAKE_DKIM_DNS",
        description="Look DKIM keys up in DNS (those not in dkim_keys).",
    )
