"""Every event type of the contract, by its CloudEvents type name."""

from __future__ import annotations

from typing import Final

from .base import Event
from .commitments import (
    CommitmentAnswered,
    CommitmentCancelled,
    CommitmentDeclared,
    CommitmentFulfilled,
    CommitmentStatusChanged,
    VagueTimePromised,
)
from .escalations import (
    EscalationDecided,
    EscalationOpened,
    EscalationRaised,
    EscalationResolved,
    EscalationWarned,
)
from .feedback import CustomerRated, FeedbackRequested
from .messages import MessageReceived, ReplySent
from .notifications import NotificationFailed, NotificationSent
from .reports import WeeklyReportDue

EVENT_MODELS: Final[tuple[type[Event], ...]] = (
    MessageReceived,
    ReplySent,
    CommitmentDeclared,
    CommitmentAnswered,
    CommitmentFulfilled,
    CommitmentCancelled,
    CommitmentStatusChanged,
    VagueTimePromised,
    EscalationOpened,
    EscalationWarned,
    EscalationRaised,
    EscalationDecided,
    EscalationResolved,
    FeedbackRequested,
    CustomerRated,
    NotificationSent,
    NotificationFailed,
    WeeklyReportDue,
)

EVENT_TYPES: Final[dict[str, type[Event]]] = {model.ce_type: model for model in EVENT_MODELS}


def models_on_topic(topic: str) -> tuple[type[Event], ...]:
    """The event types that may appear on `topic`."""
    return tuple(model for model in EVENT_MODELS if model.topic == topic)
