"""The customer's one email asking how well we kept our word, with a link per rating. Pure: the
caller passes the event, what the notifier remembers of the thread, the time and a way to sign
rating links."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from keepword_events import FeedbackRequested, Role
from keepword_platform.company import CompanyConfig
from keepword_platform.rating_links import RATING_WORDS

from .notices import Notice

TEMPLATE = "feedback_request_customer"


class RatingLinkMaker(Protocol):
    """Makes the signed URL of one rating of a thread (None: the page with none chosen).

    The service builds it from `keepword_platform.rating_links`; tests pass a fake."""

    def __call__(self, thread_id: str, rating: int | None) -> str: ...


def feedback_request_for(
    event: FeedbackRequested,
    company: CompanyConfig,
    *,
    now: datetime,
    links: RatingLinkMaker,
    subject: str | None,
) -> Notice | None:
    """The email to the customer; None when we have no address for them."""
    customer = event.customer
    if customer.email is None:
        return None
    ratings = [
        {"rating": rating, "words": words, "url": links(event.thread_id, rating)}
        for rating, words in RATING_WORDS.items()
    ]
    return Notice(
        template=TEMPLATE,
        recipient=str(customer.email),
        recipient_name=customer.name,
        recipient_role=Role.CUSTOMER,
        internal=False,
        context={
            "subject": subject,
            "ratings": ratings,
            "comment_url": links(event.thread_id, None),
            "links_until": now + company.feedback.links_valid_for,
            "changeable_for": company.feedback.changeable_for,
        },
        thread_id=event.thread_id,
    )
