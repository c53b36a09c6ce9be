from __future__ import annotations

import pytest
from keepword_events import Customer, Person
from pydantic import ValidationError


@pytest.mark.parametrize(
    "address",
    ["dana@example.com", "Dana.O+tag@sub.example.co.uk", "dana@bücher.de", "o'neil@example.ie"],
)
def test_accepts_addresses(address: str) -> None:
    assert Person(email=address, role="sales").email == address


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
    ],
)
def test_refuses_addresses_that_could_break_a_header(address: str) -> None:
    with pytest.raises(ValidationError, match="email"):
        Customer(email=address)
