"""Digests: escalation emails to one manager within a short window become one email.

Pure rules. The first escalation email to a manager goes out at once. Any that fall due within
`window` of the last one sent to them are held; when the window ends, everything held goes out
together — as one digest when there are several, on its own when there is one. A manager so
gets at most one escalation email per window, and no news waits longer than the window.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from keepword_events import Role
from keepword_platform.company import CompanyConfig
from markupsafe import Markup

from .recipients import Notice
from .sendlog import DIGEST_KEY_PREFIX, Send

# The emails that may be folded into a digest, and the digest's own template.
DIGESTED_TEMPLATES: Final = frozenset({"escalation_opened_manager", "escalation_raised_manager"})
DIGEST_TEMPLATE: Final = "escalation_digest_manager"
_IDS: Final = uuid.UUID("9d2b6f0e-41c7-4a58-b3e1-0c7a5f4d2e61")


def digest_group(template: str, recipient: str) -> str | None:
    """Which emails may share a digest with this one (one manager's escalations); None when it
    always goes out on its own."""
    return f"manager:{recipient.lower()}" if template in DIGESTED_TEMPLATES else None


@dataclass(frozen=True)
class Hold:
    """Not yet: decide again at `until`."""

    until: datetime


@dataclass(frozen=True)
class SendAlone:
    """The one email held goes out as it is."""


@dataclass(frozen=True)
class Fold:
    """The emails held go out together, as one digest."""


Decision = Hold | SendAlone | Fold


def decide(
    *,
    held: int,
    last_sent_at: datetime | None,
    in_flight: bool,
    now: datetime,
    window: timedelta,
) -> Decision:
    """What to do with the `held` (at least one) emails of a group whose turn has come.

    `last_sent_at` is when the group's last email (or digest) was accepted; `in_flight` says
    one is on its way now (released, or waiting to be retried): decide after it went.
    """
    if held < 1:
        raise ValueError("nothing is held")
    if in_flight:
        return Hold(now + window)
    if last_sent_at is not None and now < last_sent_at + window:
        return Hold(last_sent_at + window)
    return SendAlone() if held == 1 else Fold()


@dataclass(frozen=True)
class DigestIds:
    """A digest's send-log key, notification id and Message-ID, fixed by what it holds, so the
    same members always make the same digest."""

    idempotency_key: str
    notification_id: str
    message_id: str


def digest_ids(group: str, member_keys: Sequence[str], domain: str) -> DigestIds:
    """The ids of the digest of `member_keys` in `group`."""
    identity = uuid.uuid5(_IDS, "\n".join([group, *sorted(member_keys)])).hex
    notification_id = f"ntf-{identity[:20]}"
    # Not a thread's Message-ID (`<kw.thr-….…@…>`): a digest speaks of several threads.
    return DigestIds(
        idempotency_key=f"{DIGEST_KEY_PREFIX}{identity}",
        notification_id=notification_id,
        message_id=f"<kw.digest.{identity[:12]}@{domain}>",
    )


def digest_notice(members: Sequence[Send], company: CompanyConfig, window: timedelta) -> Notice:
    """The digest of `members` (held emails to one manager, oldest first), as a notice."""
    if len(members) < 2:
        raise ValueError("a digest carries at least two emails")
    recipient = members[0].recipient
    person = company.person(recipient)
    parts = [
        {
            "subject": member.subject,
            "text": member.digest_text or member.body_text,
            # Rendered by the autoescaping HTML template when the email was recorded.
            "html": Markup(member.digest_html or ""),  # noqa: S704
        }
        for member in members
    ]
    return Notice(
        template=DIGEST_TEMPLATE,
        recipient=recipient,
        recipient_name=person.name if person else None,
        recipient_role=Role.MANAGEMENT,
        internal=True,
        context={"parts": parts, "window": window},
        thread_id="",  # several threads: the subject carries no token, each part its own
    )
