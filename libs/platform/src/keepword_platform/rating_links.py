"""Rating links: what the notifier puts in the customer's feedback email and intake's rating
page honours.

A link names one thread and the rating the customer clicked (none for the "a few words" link);
it is a `signed_links` token of the purpose "rating". Unlike a decision link it is not single
use: the customer may change their rating for a while (intake's rating page keeps that rule).
"""

from __future__ import annotations

from dataclasses import dataclass

from keepword_events.feedback import HIGHEST_RATING, LOWEST_RATING

from . import signed_links
from .signed_links import LinkRefused

__all__ = [
    "PURPOSE",
    "RATING_WORDS",
    "LinkRefused",
    "RatingClaim",
    "rating_url",
    "read_rating",
    "sign_rating",
]

PURPOSE = "rating"


@dataclass(frozen=True, slots=True)
class RatingClaim:
    """What a valid link says: the customer of this thread may rate it (`rating` preselected)."""

    thread_id: str
    rating: int | None


def sign_rating(secret: str, *, thread_id: str, rating: int | None) -> str:
    """A fresh token for one rating link (None: the link that opens the page with none chosen)."""
    if rating is not None and not LOWEST_RATING <= rating <= HIGHEST_RATING:
        raise ValueError(f"a rating is {LOWEST_RATING} to {HIGHEST_RATING}, not {rating}")
    return signed_links.sign(secret, PURPOSE, {"t": thread_id, "r": str(rating or "")})


def read_rating(secret: str, token: str, *, max_age_seconds: int) -> RatingClaim:
    """The claim of a token, or LinkRefused."""
    link = signed_links.read(
        secret, PURPOSE, token, max_age_seconds=max_age_seconds, required=("t", "r")
    )
    rating = link.claims["r"]
    if rating and rating not in {str(r) for r in range(LOWEST_RATING, HIGHEST_RATING + 1)}:
        raise LinkRefused("invalid")
    return RatingClaim(thread_id=link.claims["t"], rating=int(rating) if rating else None)


def rating_url(base_url: str, token: str) -> str:
    """The URL the customer clicks."""
    return f"{base_url.rstrip('/')}/feedback/{token}"


# The words of each rating, the same in the email and on the page.
RATING_WORDS: dict[int, str] = {
    5: "Very well",
    4: "Well",
    3: "Partly",
    2: "Badly",
    1: "Very badly",
}
