"""Production refuses unsafe settings, naming every problem at once; development and test do not."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from keepword_platform.production_checks import production_problems, refusal
from keepword_platform.settings import DEVELOPMENT_LINK_SECRET, KeepwordSettings
from pydantic import SecretStr

REAL_SECRET = "k" * 32
SAFE: dict[str, Any] = {
    "env": "production",
    "link_secret": REAL_SECRET,
    "escalation_public_url": "https://keepword.example.com",
    "intake_public_url": "https://keepword.example.com",
    "insights_public_url": "https://keepword.example.com",
    "database_url": "postgresql://keepword:pw@db.example.com/keepword?sslmode=verify-full",
}


class WithSmtp(KeepwordSettings):
    """The SMTP settings the notifier adds."""

    smtp_security: str = "auto"
    smtp_password: SecretStr | None = None


def _settings(**changes: Any) -> KeepwordSettings:
    # model_construct: the documented defaults, never this process's environment.
    return KeepwordSettings.model_construct(**(SAFE | changes))


def test_safe_production_settings_have_no_problem() -> None:
    assert production_problems(_settings()) == []


def test_the_defaults_are_production_and_refused_naming_the_link_secret() -> None:
    defaults = KeepwordSettings.model_construct()

    problems = production_problems(defaults)

    assert defaults.env == "production"
    assert any("KEEPWORD_LINK_SECRET is not set" in p for p in problems)
    assert "KEEPWORD_ENV=development" in refusal(problems)


@pytest.mark.parametrize("env", ["development", "test"])
def test_development_and_test_may_use_the_development_secret(
    env: Literal["development", "test"],
) -> None:
    assert production_problems(KeepwordSettings.model_construct(env=env)) == []


def test_every_problem_is_named_at_once() -> None:
    unsafe = WithSmtp.model_construct(
        **SAFE
        | {
            "link_secret": DEVELOPMENT_LINK_SECRET,
            "escalation_public_url": "http://keepword.example.com",
            "intake_public_url": "http://keepword.example.com",
            "insights_public_url": "http://keepword.example.com",
            "database_url": "postgresql://keepword:hunter2@db.example.com/keepword",
            "smtp_password": SecretStr("hunter2"),
            "smtp_security": "auto",
            "test_hooks": True,
        }
    )

    problems = production_problems(unsafe)
    message = refusal(problems)

    assert len(problems) == 7
    for variable in (
        "KEEPWORD_LINK_SECRET",
        "KEEPWORD_ESCALATION_PUBLIC_URL",
        "KEEPWORD_INTAKE_PUBLIC_URL",
        "KEEPWORD_INSIGHTS_PUBLIC_URL",
        "KEEPWORD_DATABASE_URL",
        "KEEPWORD_SMTP_PASSWORD",
        "KEEPWORD_TEST_HOOKS",
    ):
        assert variable in message
    assert "hunter2" not in message  # the database URL's password is never shown


def test_a_short_link_secret_is_refused() -> None:
    [problem] = production_problems(_settings(link_secret="s" * 31))
    assert "31 bytes" in problem


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_an_smtp_password_over_tls_is_fine(security: str) -> None:
    settings = WithSmtp.model_construct(
        **SAFE | {"smtp_password": SecretStr("pw"), "smtp_security": security}
    )
    assert production_problems(settings) == []


@pytest.mark.parametrize(
    ("url", "environ", "safe"),
    [
        ("postgresql://k@db/keepword?sslmode=require", {}, True),
        ("postgresql://k@db/keepword?sslmode=verify-ca", {}, True),
        ("postgresql://k@db/keepword?sslmode=prefer", {}, False),
        ("postgresql://k@db/keepword?sslmode=disable", {"PGSSLMODE": "require"}, False),
        ("postgresql://k@db/keepword", {"PGSSLMODE": "verify-full"}, True),
        ("postgresql://k@db/keepword", {}, False),
        ("postgresql://k@/keepword?host=/var/run/postgresql", {}, True),  # a Unix socket
    ],
)
def test_the_database_needs_tls(url: str, environ: dict[str, str], safe: bool) -> None:
    problems = production_problems(_settings(database_url=url), environ)
    assert (problems == []) is safe
