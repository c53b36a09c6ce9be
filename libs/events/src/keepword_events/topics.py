"""Topic names of the catalog, and the facts ops need about each one.

Every topic has the same partition count and every record's key is its thread id, so all events of
one thread land, in order, on the same partition number of every topic (co-partitioning).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

MESSAGES: Final = "keepword.messages.v1"
COMMITMENT_REQUESTS: Final = "keepword.commitment-requests.v1"
COMMITMENTS: Final = "keepword.commitments.v1"
ESCALATIONS: Final = "keepword.escalations.v1"
NOTIFICATIONS: Final = "keepword.notifications.v1"
FEEDBACK: Final = "keepword.feedback.v1"
REPORTS: Final = "keepword.reports.v1"

DLQ_SUFFIX: Final = ".dlq"

DAY_MS: Final = 24 * 60 * 60 * 1000


def dead_letter_topic(topic: str) -> str:
    """Name of the dead-letter topic that takes the records of `topic` that could not be handled."""
    return topic + DLQ_SUFFIX


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic of the catalog: who writes it, who reads it, and how long it keeps records."""

    name: str
    producer: str
    consumers: tuple[str, ...]
    retention_ms: int
    summary: str


# Services keep their own state in PostgreSQL, so topics need only hold records long enough for a
# consumer that was down to catch up, or for ops to replay; dead letters wait longer for a human.
EVENT_RETENTION_MS: Final = 14 * DAY_MS
DLQ_RETENTION_MS: Final = 30 * DAY_MS

CATALOG: Final[tuple[TopicSpec, ...]] = (
    TopicSpec(
        MESSAGES,
        "intake",
        ("commitments", "escalation", "notifier", "insights"),
        EVENT_RETENTION_MS,
        "Customer messages received and staff replies sent, on every channel.",
    ),
    TopicSpec(
        COMMITMENT_REQUESTS,
        "intake (or internal teams' tools)",
        ("commitments", "insights"),
        EVENT_RETENTION_MS,
        "Promises declared by sales/marketing and production's answers to them.",
    ),
    TopicSpec(
        COMMITMENTS,
        "commitments",
        ("escalation", "notifier", "insights"),
        EVENT_RETENTION_MS,
        "Every state change of every promise in the ledger, and each promise in a staff reply "
        "that named only a vague time (for its maker to name one).",
    ),
    TopicSpec(
        ESCALATIONS,
        "escalation",
        ("notifier", "insights"),
        EVENT_RETENTION_MS,
        "Escalations opened, warned, raised, decided and resolved.",
    ),
    TopicSpec(
        NOTIFICATIONS,
        "notifier",
        ("insights",),  # ops follows it too, with `keepword tail`
        EVENT_RETENTION_MS,
        "The outcome of every email: sent or failed.",
    ),
    TopicSpec(
        FEEDBACK,
        "intake",
        ("escalation", "insights"),
        EVENT_RETENTION_MS,
        # Its own topic: a reader of ratings needs no access to the messages' bodies.
        "Customers' ratings of how well we kept our word, with their comments.",
    ),
    TopicSpec(
        REPORTS,
        "insights",
        ("notifier",),
        EVENT_RETENTION_MS,
        # Keyed by the manager a report is for, not by a customer's thread.
        "Reports due to managers: the weekly report of the indices, one per manager and week.",
    ),
)

EVENT_TOPICS: Final[tuple[str, ...]] = tuple(spec.name for spec in CATALOG)
ALL_TOPICS: Final[tuple[str, ...]] = EVENT_TOPICS + tuple(
    dead_letter_topic(t) for t in EVENT_TOPICS
)


def retention_ms(topic: str) -> int:
    """Retention of a catalog topic or of its dead-letter topic."""
    if topic.endswith(DLQ_SUFFIX):
        return DLQ_RETENTION_MS
    return EVENT_RETENTION_MS
