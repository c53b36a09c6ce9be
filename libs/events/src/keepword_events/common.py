"""Value types shared by several events."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema

# Re-exported: other packages import the contract's types from here.
from .checks import EmailAddress as EmailAddress
from .checks import HeaderText as HeaderText


class Role(StrEnum):
    """What part a person plays in a conversation."""

    CUSTOMER = "customer"
    SALES = "sales"
    MARKETING = "marketing"
    SERVICE = "service"
    PRODUCTION = "production"
    MANAGEMENT = "management"


class Channel(StrEnum):
    """How a message travelled."""

    EMAIL = "email"
    WEB = "web"
    PHONE = "phone"
    CHAT = "chat"


class Direction(StrEnum):
    """Inbound messages come from the customer; outbound ones go to the customer."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class PreferredChannel(StrEnum):
    """How a customer prefers to be reached."""

    EMAIL = "email"
    PHONE = "phone"


class Value(BaseModel):
    """Base of the value types: frozen and tolerant of unknown fields, like the events."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Person(Value):
    """Someone on the company's side (or the customer) who wrote, promised or decided."""

    email: EmailAddress
    name: HeaderText | None = None
    role: Role


class Customer(Value):
    """The customer of a thread, as far as we know them."""

    email: EmailAddress | None = None
    name: HeaderText | None = None
    phone: Annotated[str, StringConstraints(max_length=40, pattern=r"^[0-9+() .\-]*$")] | None = (
        None
    )
    preferred_channel: PreferredChannel = PreferredChannel.EMAIL


# What an amount may be sent as (pydantic's own schema of a Decimal names neither the digits nor
# the places): a number or a decimal string, 0 or more, at most 12 digits and 2 decimal places.
_AMOUNT_IN = {
    "anyOf": [
        {"type": "number", "minimum": 0, "maximum": 999_999_999_999.99, "multipleOf": 0.01},
        {"type": "string", "pattern": r"^[0-9]{1,12}(\.[0-9]{1,2})?$"},
    ]
}


class Money(Value):
    """An amount in a currency; the amount travels as a decimal string, never a float."""

    amount: Annotated[
        Decimal,
        Field(ge=0, max_digits=14, decimal_places=2),
        WithJsonSchema(_AMOUNT_IN, "validation"),
    ]
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class Attachment(Value):
    """An attachment, recorded as metadata only: the content never travels on Kafka."""

    filename: HeaderText | None = None
    content_type: str
    size_bytes: int = Field(ge=0)
