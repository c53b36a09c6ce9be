"""The ids an email is published under depend on its Message-ID alone."""

from __future__ import annotations

import re

from keepword_events import Role
from keepword_intake.inbound_email import parse_inbound_email
from keepword_intake.mail_facts import claims_staff, email_event_id, first_thread_of, parties
from keepword_platform.company import CompanyConfig


def test_an_email_published_again_starts_the_same_thread_under_the_same_event_id() -> None:
    # Intake killed between Kafka's acknowledgement and remembering the email publishes it
    # again: consumers keep the first copy, so the second must name the same thread.
    first = (email_event_id("<a@mail.example>"), first_thread_of("<a@mail.example>"))
    again = (email_event_id("<a@mail.example>"), first_thread_of("<a@mail.example>"))
    other = first_thread_of("<b@mail.example>")

    assert first == again
    assert other != first[1]
    assert re.fullmatch(r"thr-[0-9a-f]{16}", first[1])


def _reply_from(sender: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: dana@customer.example\r\nSubject: Re: order\r\n"
        "Message-ID: <r1@brightline.example>\r\n\r\nYour order ships on Monday.\r\n"
    ).encode()


def test_a_reply_from_the_shared_support_address_is_the_service_teams_once_proven() -> None:
    company = CompanyConfig.model_validate(
        {"company": {"name": "Brightline", "support_address": "support@brightline.example"}}
    )
    email = parse_inbound_email(_reply_from("Support <support@brightline.example>"))

    proven = parties(email, company, verified=True)
    claimed = parties(email, company, verified=False)

    assert claims_staff(email, company)
    assert proven.from_staff
    assert (proven.author.role, proven.author.name) == (Role.SERVICE, "Brightline support")
    assert proven.customer.email == "dana@customer.example"
    assert not claimed.from_staff
    assert not claimed.sender_verified
