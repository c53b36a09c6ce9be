"""The feedback loop: escalation asks the customer how well we kept our word
(`FeedbackRequested`, on `keepword.escalations.v1`, which the notifier turns into one email),
and the customer's answer comes in through intake's rating page (`CustomerRated`, on
`keepword.feedback.v1`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field

from . import topics
from .base import Event
from .checks import BodyText, UtcTime
from .common import Customer

LOWEST_RATING = 1
HIGHEST_RATING = 5

Rating = Annotated[int, Field(ge=LOWEST_RATING, le=HIGHEST_RATING)]


class FeedbackOccasion(StrEnum):
    """Why the customer is asked now."""

    RESOLVED = "resolved"  # an escalation of the thread was resolved
    ANSWERED = "answered"  # the thread was answered and then stayed quiet


class FeedbackRequested(Event):
    """Ask the customer, once per thread, how well we kept our word."""

    ce_type: ClassVar[str] = "keepword.feedback.requested.v1"
    topic: ClassVar[str] = topics.ESCALATIONS

    customer: Customer = Field(description="Who is asked; the email goes to their address.")
    occasion: FeedbackOccasion
    requested_at: UtcTime


class CustomerRated(Event):
    """The customer rated how well we kept our word on the thread (1: badly, 5: very well).

    One rating per thread: a change within the week after the first one is a new `revision`
    (the highest revision is the customer's current rating; an older one read late is stale).
    """

    ce_type: ClassVar[str] = "keepword.feedback.rated.v1"
    topic: ClassVar[str] = topics.FEEDBACK

    rating: Rating
    comment: Annotated[BodyText, Field(max_length=2000)] | None = Field(
        default=None, description="In the customer's words, if they wrote any."
    )
    rated_at: UtcTime
    revision: int = Field(default=1, ge=1, description="1 for the first rating, then 2, 3, ...")
