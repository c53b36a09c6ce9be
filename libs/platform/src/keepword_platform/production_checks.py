"""What a production deployment must not run with: settings in, the list of problems out.

A service calls `production_problems` before it opens anything (`service.serve`) and refuses to
start when the list is not empty, naming every problem at once so that one round of fixes is
enough. Development and test deployments (`KEEPWORD_ENV`) are not checked: they run on a laptop's
plain-text PostgreSQL, `http://` links and the development link secret on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from urllib.parse import parse_qs, urlsplit

from .settings import DEVELOPMENT_LINK_SECRET, KeepwordSettings

MIN_LINK_SECRET_BYTES = 32  # HMAC-SHA256: a key shorter than the hash weakens it
TLS_SSLMODES = frozenset({"require", "verify-ca", "verify-full"})


def production_problems(
    settings: KeepwordSettings, environ: Mapping[str, str] = MappingProxyType({})
) -> list[str]:
    """Every reason `settings` are unsafe for production; none outside production.

    `environ` is the process environment, for what the database driver reads from it
    (PGSSLMODE when the URL names no sslmode).
    """
    if settings.env != "production":
        return []
    problems = [
        *_link_secret(settings.link_secret),
        *_public_url("KEEPWORD_ESCALATION_PUBLIC_URL", settings.escalation_public_url),
        *_public_url("KEEPWORD_INTAKE_PUBLIC_URL", settings.intake_public_url),
        *_public_url("KEEPWORD_INSIGHTS_PUBLIC_URL", settings.insights_public_url),
        *_database_tls(settings.database_url, environ),
    ]
    smtp_password = getattr(settings, "smtp_password", None)  # the notifier's settings only
    if smtp_password is not None and getattr(settings, "smtp_security", None) not in (
        "starttls",
        "tls",
    ):
        problems.append(
            "KEEPWORD_SMTP_PASSWORD would cross the network in plain text: set "
            "KEEPWORD_SMTP_SECURITY=starttls or tls"
        )
    if settings.test_hooks:
        problems.append("KEEPWORD_TEST_HOOKS is on: it lets a record block the service")
    return problems


def refusal(problems: Sequence[str]) -> str:
    """The message a service ends with when `problems` is not empty."""
    lines = "\n".join(f"  - {problem}" for problem in problems)
    return (
        f"refusing to start with KEEPWORD_ENV=production (the default), because:\n{lines}\n"
        "A development or test run says so with KEEPWORD_ENV=development or KEEPWORD_ENV=test."
    )


def _link_secret(secret: str) -> list[str]:
    if secret == DEVELOPMENT_LINK_SECRET:
        return [
            "KEEPWORD_LINK_SECRET is not set: the development secret (its default) is public, "
            "anyone could sign decision links with it"
        ]
    size = len(secret.encode())
    if size < MIN_LINK_SECRET_BYTES:
        return [
            f"KEEPWORD_LINK_SECRET is {size} bytes long: it needs at least "
            f"{MIN_LINK_SECRET_BYTES} (e.g. `openssl rand -base64 48`)"
        ]
    return []


def _public_url(variable: str, url: str) -> list[str]:
    # Signed links carry a token that acts (decides, answers a promise): never over plain HTTP.
    scheme = urlsplit(url).scheme.lower()
    if scheme != "https":
        return [f"{variable} must be an https:// URL, not {scheme}://"]
    return []


def _database_tls(url: str, environ: Mapping[str, str]) -> list[str]:
    # The URL holds a password: the message names the variable, never the value.
    parts = urlsplit(url)
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    host = query.get("host", parts.hostname or "")
    if host.startswith("/"):  # a Unix socket never leaves the machine
        return []
    sslmode = query.get("sslmode", environ.get("PGSSLMODE", "prefer"))
    if sslmode not in TLS_SSLMODES:
        return [
            "KEEPWORD_DATABASE_URL does not require TLS: add sslmode=require, verify-ca or "
            "verify-full to its query"
        ]
    return []
