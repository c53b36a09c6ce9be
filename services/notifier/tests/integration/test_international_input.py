"""What the notifier used to lose after intake had accepted it (an international domain, a NUL in
a body): through the real broker, the running notifier and a real SMTP server, an address with
an international domain is delivered, and a body with a NUL cannot be made into an event at all
(the contract refuses it, so intake refuses it at the door with 422)."""

from __future__ import annotations

import uuid

import pytest
from keepword_events import Customer
from pydantic import ValidationError

from .mail import Catcher
from .running import customer_message, new_thread, send_events, until

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.smtp]


async def test_a_customer_at_an_international_domain_gets_their_email(
    notifier: Catcher, fresh_kafka: str
) -> None:
    run = uuid.uuid4().hex[:8]
    customer = Customer(email=f"kunde.{run}@bücher.example", name="Kunde Müller")
    sendable = f"kunde.{run}@xn--bcher-kva.example"
    assert customer.email == sendable
    thread = new_thread()
    await send_events(fresh_kafka, [customer_message(customer, thread, body="Grüße\tund\r\nDank")])

    async def arrived() -> bool:
        return bool(notifier.to(sendable, thread))

    await until(arrived, "the acknowledgement to the international domain")
    [email] = notifier.to(sendable, thread)
    assert email.rcpt_tos == [sendable]
    assert [str(a.addr_spec) for a in email.message["To"].addresses] == [sendable]


def test_a_body_with_a_nul_never_becomes_an_event() -> None:
    with pytest.raises(ValidationError, match="U\\+0000"):
        customer_message(Customer(email="dana@example.com"), body="Hello\x00there")
