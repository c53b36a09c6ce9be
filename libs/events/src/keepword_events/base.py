"""The base of every event model: frozen, tolerant of fields it does not know, thread-scoped."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class Event(BaseModel):
    """A fact one service tells the others.

    Subclasses set `ce_type` (versioned: a breaking change is a new type, never an in-place edit)
    and `topic`. Models are frozen, and ignore unknown fields so that an older consumer keeps
    working when a producer adds an optional one.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", use_enum_values=False)

    ce_type: ClassVar[str]
    topic: ClassVar[str]

    thread_id: Identifier = Field(description="The customer conversation; also the record key.")
    correlation_id: Identifier = Field(
        description="Shared by every event of one thread, so ops can follow it across topics."
    )
    causation_id: Identifier | None = Field(
        default=None, description="The id of the event that caused this one; absent for an origin."
    )
