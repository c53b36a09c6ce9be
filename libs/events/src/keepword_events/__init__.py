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
)
from .messages import MessageReceived, ReplySent
from .notifications import NotificationFailed, NotificationSent
from .registry import EVENT_MODELS, EVENT_TYPES, models_on_topic

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
    "KafkaRecord",
    "MessageReceived",
    "Money",
    "NotificationFailed",
    "NotificationSent",
    "Option",
    "OptionKind",
    "Person",
    "PreferredChannel",
    "ReplySent",
    "Role",
    "UnknownEventType",
    "Verdict",
    "decode",
    "encode",
    "models_on_topic",
    "new_envelope",
    "topics",
]
