"""Whether an email's From: is proven: the rules that let a mail speak for a person of the company.

The From: header is only a claim. An email counts as written by the person it names when one of
these vouches for it (checked in this order):

1. it was read from the company's own Sent folder (`MailOrigin.MAILBOX_SENT`);
2. it was submitted in an SMTP AUTH session whose login is that very address;
3. a valid DKIM signature covers it, signed by the company's domain (a support address's) or by
   the sender's own domain, with From:, and every Subject, Message-ID, In-Reply-To, References,
   To and Cc it has, signed: a signed reply copied into another thread fails;
4. the topmost `Authentication-Results` (RFC 8601) says dkim=pass (header.d = the sender's
   domain) or dmarc=pass (header.from = the sender's domain), written by an MTA named as trusted
   and only for mail that came through that MTA (the company's inbox, or a trusted relay of the
   SMTP listener): anyone can write such a header into mail sent straight to the listener.

Pure, but for the DKIM key lookup, which goes through the `KeyLookup` it is given (DNS in
production, a table in tests). DKIM is CPU work: the caller runs `verdict` in a worker thread.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import compat32

import authres  # type: ignore[import-untyped]
import dkim  # type: ignore[import-untyped]
import dkim.dnsplug  # type: ignore[import-untyped]
import structlog

from .mail_origin import MailOrigin

log = structlog.get_logger(__name__)

KeyLookup = Callable[..., bytes | None]
"""dkimpy's `dnsfunc`: (name: bytes, timeout=...) -> the TXT record, or None."""

MAX_SIGNATURES = 3
"""DKIM signatures tried per email, topmost first: each costs a key lookup and a hash."""

MAX_AUTH_RESULTS_CHARS = 4096
"""An Authentication-Results header longer than this is ignored rather than parsed."""

MUST_BE_SIGNED = ("from", "subject", "message-id", "in-reply-to", "references", "to", "cc")
"""Headers every instance of which a DKIM signature must cover: who wrote, and which thread and
which customer the mail is about. A signature that leaves one out proves nothing about it."""


@dataclass(frozen=True, slots=True)
class MailTrust:
    """What intake trusts besides the mail itself (from its settings and the company config)."""

    company_domains: frozenset[str] = frozenset()  # the support addresses' domains
    trusted_mtas: frozenset[str] = frozenset()  # authserv-ids of Authentication-Results
    key_lookup: KeyLookup | None = None  # None: dkimpy's DNS lookup
    dkim_timeout_seconds: int = 5  # per DNS lookup


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether the claimed sender is proven, and by what (for the logs: no address in it)."""

    verified: bool
    how: str


@dataclass(frozen=True, slots=True)
class Claim:
    """Who the email says wrote it, and the SMTP AUTH login it came with, if any."""

    address: str
    smtp_login: str | None = None
    domain: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "domain", self.address.rpartition("@")[2].lower())


def verdict(raw: bytes | None, origin: MailOrigin, claim: Claim, trust: MailTrust) -> Verdict:
    """Whether `claim` is proven for the email `raw` that came through `origin`."""
    if origin is MailOrigin.MAILBOX_SENT:
        return Verdict(True, "sent folder")
    if origin is MailOrigin.SMTP_AUTH and _same(claim.smtp_login, claim.address):
        return Verdict(True, "smtp auth")
    if raw is None:
        return Verdict(False, "no proof")
    signed_by = _dkim_domain(raw, claim, trust)
    if signed_by is not None:
        return Verdict(True, "dkim")
    if origin in (MailOrigin.MAILBOX_INBOX, MailOrigin.SMTP_RELAY) and _trusted_results_pass(
        raw, claim, trust
    ):
        return Verdict(True, "authentication-results")
    return Verdict(False, "no proof")


def _same(a: str | None, b: str) -> bool:
    return a is not None and a.strip().lower() == b.strip().lower()


# ----- DKIM -------------------------------------------------------------------------------


def _dkim_domain(raw: bytes, claim: Claim, trust: MailTrust) -> str | None:
    """The d= of the first acceptable valid signature, or None."""
    headers = _header_names(raw)
    signatures = headers.count("dkim-signature")
    if signatures == 0:
        return None
    try:
        checker = dkim.DKIM(raw, timeout=trust.dkim_timeout_seconds, logger=_QUIET)
    except (dkim.DKIMException, ValueError, IndexError):
        return None
    lookup = trust.key_lookup or dkim.dnsplug.get_txt
    for index in range(min(signatures, MAX_SIGNATURES)):
        try:
            valid = checker.verify(idx=index, dnsfunc=lookup)
        except (dkim.DKIMException, ValueError, IndexError, KeyError):
            continue  # a malformed signature or key: not a proof
        if not valid:
            continue
        domain = bytes(checker.domain).decode("ascii", "replace").lower()
        signed = [bytes(h).decode("ascii", "replace") for h in checker.include_headers]
        if _domain_may_sign(domain, claim, trust) and _covers(signed, headers):
            return domain
    return None


def _domain_may_sign(domain: str, claim: Claim, trust: MailTrust) -> bool:
    # The sender's own domain speaks for its mailboxes; the company's domain for its people.
    return domain == claim.domain or domain in trust.company_domains


def _covers(signed: list[str], present: list[str]) -> bool:
    # A header added after signing (a second Subject above the signed one, a References that
    # was not there) is not covered: each instance present must be named in h= once.
    return all(present.count(name) <= signed.count(name) for name in MUST_BE_SIGNED) and (
        "from" in signed
    )


def _header_names(raw: bytes) -> list[str]:
    """The names of the header fields, top to bottom, lowercase."""
    message = BytesHeaderParser(policy=compat32).parsebytes(raw)
    return [name.lower() for name in message]


class _Quiet:
    """dkimpy logs what it checks; nothing of a mail's content goes to our logs."""

    def debug(self, *_: object) -> None:
        return None

    info = warning = error = debug


_QUIET = _Quiet()


# ----- Authentication-Results ----------------------------------------------------------------

_COMMENT = re.compile(r"\([^()]*\)")


def _trusted_results_pass(raw: bytes, claim: Claim, trust: MailTrust) -> bool:
    return any(
        _result_passes(result, claim)
        for result in top_results(_raw_header_values(raw), trust.trusted_mtas)
    )


def top_results(headers: list[tuple[str, str]], trusted: frozenset[str]) -> list[object]:
    """The results of the topmost block of Authentication-Results headers (adjacent ones, from
    the first down) whose authserv-id is trusted. A trusted MTA puts its results above the mail
    it received: one further down was there before, written by anyone."""
    block: list[str] = []
    for name, value in headers:
        if name.lower() == "authentication-results":
            block.append(value)
        elif block:
            break
    results: list[object] = []
    for value in block:
        parsed = _parse(value)
        if parsed is not None and str(parsed.authserv_id).lower() in trusted:
            results.extend(parsed.results)
    return results


def _parse(value: str) -> authres.AuthenticationResultsHeader | None:
    if len(value) > MAX_AUTH_RESULTS_CHARS:
        return None
    try:
        return authres.AuthenticationResultsHeader.parse_value(" ".join(value.split()))
    except (authres.AuthResError, ValueError, IndexError, AttributeError):
        return None


def _result_passes(result: object, claim: Claim) -> bool:
    method = str(getattr(result, "method", "")).lower()
    if str(getattr(result, "result", "")).lower() != "pass":
        return False
    properties = {
        (str(p.type).lower(), str(p.name).lower()): str(p.value).lower()
        for p in getattr(result, "properties", ())
    }
    if method == "dkim":
        return properties.get(("header", "d")) == claim.domain
    if method == "dmarc":
        return properties.get(("header", "from")) == claim.domain
    return False


def _raw_header_values(raw: bytes) -> list[tuple[str, str]]:
    message = BytesHeaderParser(policy=compat32).parsebytes(raw)
    return [(name, str(value)) for name, value in message.items()]


def trust_of(
    support_addresses: frozenset[str],
    *,
    trusted_mtas: tuple[str, ...],
    dkim_keys: Mapping[str, str],
    dkim_dns: bool,
) -> MailTrust:
    """The trust settings as the rules read them; `dkim_keys` maps `selector._domainkey.domain`
    to its TXT record, consulted before DNS (and instead of it when `dkim_dns` is off)."""
    table = {name.lower().rstrip("."): txt.encode() for name, txt in dkim_keys.items()}

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        key = name.decode("ascii", "replace").lower().rstrip(".")
        if key in table:
            return table[key]
        if dkim_dns:
            found: bytes | None = dkim.dnsplug.get_txt(name, timeout=timeout)
            return found
        return None

    return MailTrust(
        company_domains=frozenset(a.rpartition("@")[2].lower() for a in support_addresses),
        trusted_mtas=frozenset(m.lower() for m in trusted_mtas),
        key_lookup=lookup,
    )
