"""Keepword's event contract: the models, the CloudEvents envelope and the topic names."""

from . import topics
from .base import Event
from .commitments import (
    CommitmentAnswered,
    CommitmentCancelled,
    CommitmentDeclared,
    CommitmentFulfilled,
    CommitmentKind,
    CommitmentSource,
    CommitmentStatus,
    CommitmentStatusChanged,
    VagueTimePromised,
    Verdict,
)
from .common import (
    Attachment,
    Channel,
    Customer,
    Direction,
    Money,
    Person,
    PreferredChannel,
    Role,
)
from .envelope import (
    Envelope,
    EventDecodeError,
    KafkaRecord,
    UnknownEventType,
    decode,
    encode,
    new_envelope,
)
from .escalations import (
    EscalationDecided,
    EscalationOpened,
    EscalationRaised,
    EscalationResolved,
    EscalationRule,
    EscalationWarned,
    EvidenceItem,
    Option,
    OptionKind,
    PromiseInQuestion,
)
from .feedback import CustomerRated, FeedbackOccasion, FeedbackRequested
from .messages import MessageReceived, ReplySent
from .notifications import NotificationFailed, NotificationSent
from .registry import EVENT_MODELS, EVENT_TYPES, models_on_topic
from .reports import WeeklyReportDue

__all__ = [
    "EVENT_MODELS",
    "EVENT_TYPES",
    "Attachment",
    "Channel",
    "CommitmentAnswered",
    "CommitmentCancelled",
    "CommitmentDeclared",
    "CommitmentFulfilled",
    "CommitmentKind",
    "CommitmentSource",
    "CommitmentStatus",
    "CommitmentStatusChanged",
    "Customer",
    "CustomerRated",
    "Direction",
    "Envelope",
    "EscalationDecided",
    "EscalationOpened",
    "EscalationRaised",
    "EscalationResolved",
    "EscalationRule",
    "EscalationWarned",
    "Event",
    "EventDecodeError",
    "EvidenceItem",
    "FeedbackOccasion",
    "FeedbackRequested",
    "KafkaRecord",
    "MessageReceived",
    "Money",
    "NotificationFailed",
    "NotificationSent",
    "Option",
    "OptionKind",
    "Person",
    "PreferredChannel",
    "PromiseInQuestion",
    "ReplySent",
    "Role",
    "UnknownEventType",
    "VagueTimePromised",
    "Verdict",
    "WeeklyReportDue",
    "decode",
    "encode",
    "models_on_topic",
    "new_envelope",
    "topics",
]
