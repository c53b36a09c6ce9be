"""The notifier service's settings: the common ones and its own `KEEPWORD_*` variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from keepword_platform.settings import ServiceSettings
from pydantic import Field, SecretStr, model_validator


class NotifierSettings(ServiceSettings):
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
    smtp_connections: int = Field(
        default=10,
        ge=1,
        le=100,
        validation_alias="KEEPWORD_NOTIFIER_SMTP_CONNECTIONS",
        description="SMTP conversations at once per process, over connections kept open; also "
        "the most emails a killed process can leave accepted but unrecorded (sent again once).",
    )
    consumer_batch_records: int = Field(
        default=100,
        ge=1,
        le=10_000,
        validation_alias="KEEPWORD_NOTIFIER_BATCH_RECORDS",
        description="Events dispatched at most per consumer batch (one transaction): no email of "
        "a batch can be sent before it commits, so smaller than other services' 500.",
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
