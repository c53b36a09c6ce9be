"""Events the notifier publishes on `keepword.notifications.v1`."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from . import topics
from .base import Event, Identifier
from .common import Role


class NotificationFacts(Event):
    """What every notification outcome names."""

    notification_id: Identifier
    idempotency_key: str = Field(description="(source event, recipient, template): one email.")
    source_event_id: Identifier
    template: str
    recipient_role: Role
    recipient: str = Field(description="The recipient's address.")
    attempts: int = Field(ge=1)


class NotificationSent(NotificationFacts):
    """The SMTP server accepted the email."""

    ce_type: ClassVar[str] = "keepword.notification.sent.v1"
    topic: ClassVar[str] = topics.NOTIFICATIONS

    email_message_id: str
    subject: str


class NotificationFailed(NotificationFacts):
    """The email could not be delivered; `permanent` says whether retrying could help."""

    ce_type: ClassVar[str] = "keepword.notification.failed.v1"
    topic: ClassVar[str] = topics.NOTIFICATIONS

    error: str = Field(max_length=2000)
    smtp_code: int | None = None
    permanent: bool
