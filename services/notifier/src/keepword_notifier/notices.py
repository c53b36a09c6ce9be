"""What an email is before it is rendered: a template, one recipient and what the template
needs; and which templates may ever reach a customer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from keepword_events import Person, Role
from keepword_platform.company import CompanyConfig

# The only templates a customer may receive. Every other template is for staff and may quote
# internal notes, evidence and colleagues' names, so a Notice refuses to send one to a customer.
CUSTOMER_TEMPLATES: Final = frozenset(
    {
        "acknowledgement_customer",
        "refund_confirmed_customer",
        "phone_call_proposed_customer",
        "promise_renegotiated_customer",
        "feedback_request_customer",
    }
)
STAFF_TEMPLATES: Final = frozenset(
    {
        "escalation_opened_manager",
        "escalation_raised_manager",
        "escalation_digest_manager",
        "promise_rejected_owner",
        "promise_countered_owner",
        "promise_at_risk_owner",
        "promise_broken_owner",
        "promise_vague_time_owner",
        "promise_awaiting_confirmation_production",
        "decision_made_service",
        "weekly_report_manager",
    }
)
TEMPLATES: Final = CUSTOMER_TEMPLATES | STAFF_TEMPLATES


@dataclass(frozen=True)
class Notice:
    """One email to one person: which template, to whom, and what the template needs."""

    template: str
    recipient: str
    recipient_name: str | None
    recipient_role: Role
    internal: bool  # staff only: never addressed to the customer
    context: Mapping[str, Any]
    thread_id: str  # for the subject token and the Message-ID that bring replies back

    def __post_init__(self) -> None:
        # The one rule that must never break, checked where every notice is born.
        if self.template not in TEMPLATES:
            raise ValueError(f"unknown template {self.template!r}")
        for_customer = self.template in CUSTOMER_TEMPLATES
        if self.internal == for_customer or (self.recipient_role is Role.CUSTOMER) != for_customer:
            raise ValueError(
                f"template {self.template!r} cannot go to a {self.recipient_role.value} "
                f"recipient with internal={self.internal}"
            )
        object.__setattr__(self, "context", MappingProxyType(dict(self.context)))


def staff_name(person: Person, company: CompanyConfig) -> str:
    """The configuration's name for a colleague wins over whatever an event carried."""
    entry = company.person(str(person.email))
    return entry.name if entry else person.name or str(person.email)
