"""The company configuration file (`KEEPWORD_CONFIG`, TOML): company, SLA policy and people."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Literal

from keepword_events import Role
from keepword_events.common import EmailAddress
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from .durations import Duration


class ConfigError(ValueError):
    """The configuration file cannot be used; the message names the file and the bad fields."""


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Company(_Section):
    """Who we are and where our clocks run."""

    name: str = "Keepword Demo Co."
    support_address: EmailAddress = "support@keepword.example"
    support_addresses: tuple[EmailAddress, ...] = ()
    timezone: str = "UTC"

    @property
    def inbound_addresses(self) -> frozenset[str]:
        """Every address intake accepts mail for, lowercase."""
        return frozenset(a.lower() for a in (self.support_address, *self.support_addresses))


class BusinessHours(_Section):
    """When the SLA clock runs; absent means around the clock."""

    days: tuple[int, ...] = Field(default=(0, 1, 2, 3, 4), description="0 = Monday")
    start: str = Field(default="09:00", pattern=r"^\d{2}:\d{2}$")
    end: str = Field(default="17:00", pattern=r"^\d{2}:\d{2}$")
    holidays_country: str | None = Field(default=None, description="e.g. 'US', 'GB', 'DE'")


class Sla(_Section):
    """The company standard for answering customers and deciding escalations."""

    first_reply: Duration = timedelta(hours=24)
    next_reply: Duration = timedelta(hours=24)
    warn_at: float = Field(default=0.75, gt=0, lt=1)
    max_unanswered_followups: int = Field(default=2, ge=1)
    manager_decision: Duration = timedelta(hours=4)
    # The top of the chain is reminded after manager_decision, then twice as long each time,
    # never more than this apart: the default ends at one reminder a day.
    manager_reminder_max: Duration = timedelta(hours=24)
    acknowledge_after: Duration = timedelta(minutes=15)
    business_hours: BusinessHours | None = None


class Feedback(_Section):
    """Asking customers how well we kept our word (`[feedback]`): once per thread, when one of
    its escalations is resolved or after it was answered and stayed quiet for `ask_after`."""

    enabled: bool = False
    ask_after: Duration = timedelta(days=3)
    low_at_most: int = Field(default=2, ge=1, le=5, description="ratings up to this escalate")
    links_valid_for: Duration = timedelta(days=30)
    changeable_for: Duration = timedelta(days=7)


class Insights(_Section):
    """The insights service's weekly report (`[insights]`): every manager (a person with a
    `level`) gets the last week's indices at `weekly_report_at`, in the company's time zone."""

    weekly_report: bool = True
    weekly_report_at: str = Field(
        default="MON 08:00",
        pattern=r"^(MON|TUE|WED|THU|FRI|SAT|SUN) ([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="day and local time, e.g. 'MON 08:00'",
    )


class PersonEntry(_Section):
    """Someone on staff; `level` places managers on the escalation chain (1 is asked first)."""

    email: EmailAddress
    name: str
    role: Role
    level: int | None = Field(default=None, ge=1)
    phone: str | None = None


class Mailbox(_Section):
    """An IMAP mailbox of the company that intake reads (`[[mailbox]]`): its INBOX brings
    customers' mail, its Sent folder the staff's replies. Plain-text IMAP is not offered."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$", description="label in logs, metrics")
    host: str
    port: int = Field(default=993, ge=1, le=65535)
    security: Literal["tls", "starttls"] = "tls"
    ca_file: Path | None = Field(default=None, description="a CA to trust besides the system's")
    username: str
    password: SecretStr | None = None
    password_env: str | None = Field(default=None, description="variable holding the password")
    oauth2_token_env: str | None = Field(default=None, description="variable: XOAUTH2 token")
    inbox: str = "INBOX"
    sent: str = Field(default="Sent", description='the Sent folder; "" reads none')
    after_read: Literal["none", "seen", "move"] = "none"  # applied in the inbox only
    move_to: str | None = None
    poll_every: Duration = timedelta(seconds=60)

    @model_validator(mode="after")
    def _one_credential(self) -> Mailbox:
        given = [self.password, self.password_env, self.oauth2_token_env]
        if sum(value is not None for value in given) != 1:
            raise ValueError("give one of password, password_env, oauth2_token_env")
        if (self.after_read == "move") != (self.move_to is not None):
            raise ValueError("move_to is needed with after_read = 'move', and only then")
        return self


class CompanyConfig(_Section):
    """The whole configuration file."""

    company: Company = Company()
    sla: Sla = Sla()
    feedback: Feedback = Feedback()
    insights: Insights = Insights()
    people: tuple[PersonEntry, ...] = ()
    mailbox: tuple[Mailbox, ...] = ()

    @model_validator(mode="after")
    def _unique_people(self) -> CompanyConfig:
        emails = [p.email.lower() for p in self.people]
        duplicates = sorted({e for e in emails if emails.count(e) > 1})
        if duplicates:
            raise ValueError(f"people listed twice: {', '.join(duplicates)}")
        names = [m.name for m in self.mailbox]
        if len(set(names)) != len(names):
            raise ValueError("two mailboxes share a name")
        return self

    def person(self, email: str) -> PersonEntry | None:
        """The staff member with this address, if any (case-insensitive)."""
        wanted = email.lower()
        return next((p for p in self.people if p.email.lower() == wanted), None)

    def management_chain(self) -> tuple[PersonEntry, ...]:
        """Managers in the order they are asked: level 1 first."""
        managers = [p for p in self.people if p.level is not None]
        return tuple(sorted(managers, key=lambda p: (p.level or 0, p.email)))


def load_company_config(path: Path | None) -> CompanyConfig:
    """Read and validate the TOML file at `path`; no path gives the built-in defaults."""
    if path is None:
        return CompanyConfig()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    try:
        return CompanyConfig.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise ConfigError(f"{path}: {problems}") from None
