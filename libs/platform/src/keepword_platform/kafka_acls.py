"""Who may do what on Kafka: one principal per service, each allowed only the topics it needs.

Plain data, derived from the topic catalog (keepword_events.topics): a service reads the topics
that name it as a consumer, writes the topics it produces and the dead-letter topics of what it
reads, and joins its own consumer group (`keepword-<service>`, as the subscription names it).
The same table provisions the local secure broker (`keepword acls apply`) and renders the
production KafkaUsers (`keepword acls k8s`), so what the tests prove is what production gets.
Everything else is denied: the brokers run an authorizer with no "allow if no ACL" fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from keepword_events.topics import CATALOG, dead_letter_topic

# Strimzi's spelling of resource types and operations; ops maps them to Kafka's protocol codes.
ResourceType = Literal["topic", "group", "cluster"]
Operation = Literal["Read", "Write", "Describe", "IdempotentWrite"]

SERVICES: Final[tuple[str, ...]] = (
    "intake",
    "commitments",
    "escalation",
    "notifier",
    "insights",
)

# The principal that provisions (topics, ACLs) and runs the ops CLI: a super user of the brokers.
ADMIN_USER: Final = "keepword-admin"

CLUSTER: Final = "kafka-cluster"


@dataclass(frozen=True, slots=True)
class Grant:
    """Operations allowed on one resource (a literal name, never a prefix or a wildcard)."""

    resource_type: ResourceType
    name: str
    operations: tuple[Operation, ...]


@dataclass(frozen=True, slots=True)
class ServiceAccess:
    """One service's principal and what it may do."""

    user: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    group: str | None

    @property
    def principal(self) -> str:
        """Kafka's name for the SCRAM user."""
        return f"User:{self.user}"

    @property
    def grants(self) -> tuple[Grant, ...]:
        """The ACLs of the principal, in a stable order."""
        grants = [Grant("topic", topic, ("Read", "Describe")) for topic in self.reads]
        grants += [Grant("topic", topic, ("Write", "Describe")) for topic in self.writes]
        if self.group is not None:
            grants.append(Grant("group", self.group, ("Read", "Describe")))
        if self.writes:
            # Implied by Write on a topic since Kafka 3.0 (KIP-679); older brokers want it said.
            grants.append(Grant("cluster", CLUSTER, ("IdempotentWrite",)))
        return tuple(grants)


def producer_of(topic_producer: str) -> str:
    """The service named first in a catalog entry's producer ("intake (or ...)" -> "intake")."""
    return topic_producer.partition(" ")[0]


def service_access(service: str) -> ServiceAccess:
    """What `service` may do, derived from the catalog."""
    reads = tuple(spec.name for spec in CATALOG if service in spec.consumers)
    produced = tuple(spec.name for spec in CATALOG if producer_of(spec.producer) == service)
    return ServiceAccess(
        user=service,
        reads=reads,
        writes=produced + tuple(dead_letter_topic(topic) for topic in reads),
        group=f"keepword-{service}" if reads else None,
    )


ACCESS: Final[tuple[ServiceAccess, ...]] = tuple(service_access(s) for s in SERVICES)
