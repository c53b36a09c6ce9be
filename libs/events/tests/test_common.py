from __future__ import annotations

import pytest
from keepword_events import Customer, Person
from pydantic import ValidationError


@pytest.mark.parametrize(
    "address",
    ["dana@example.com", "Dana.O+tag@sub.example.co.uk", "o'neil@example.ie"],
)
def test_accepts_addresses(address: str) -> None:
    assert Person(email=address, role="sales").email == address


def test_keeps_an_international_domain_in_its_ascii_form() -> None:
    # What an SMTP server without SMTPUTF8 takes: the notifier sends it as it stands.
    assert Customer(email="kunde@bücher.example").email == "kunde@xn--bcher-kva.example"
    assert Customer(email="dana@BÜCHER.de").email == "dana@xn--bcher-kva.de"


@pytest.mark.parametrize(
    "address",
    [
        "a@b",
        "a b@c.com",
        "a@b..com",
        "x@y.com\r\nBcc: z@q.com",
        "<a@b.com>",
        "a,b@c.com",
        "@c.com",
        "a@.com",
        "a@c.com.",
        "a@c.com\x00",
        "x" * 250 + "@c.com",
        "a@c\x9bom.com",
    ],
)
def test_refuses_addresses_that_could_break_a_header(address: str) -> None:
    with pytest.raises(ValidationError, match="email"):
        Customer(email=address)


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("jörg@example.com", "must be ASCII"),
        ("a\u202e@example.com", "must be ASCII"),
        ("a@ex\u202eample.com", "not a valid international domain"),
        ("a@exa\u2066mple.com", "not a valid international domain"),
    ],
)
def test_refuses_what_smtp_cannot_deliver_or_what_reads_as_another_address(
    address: str, why: str
) -> None:
    with pytest.raises(ValidationError, match=why):
        Customer(email=address)
