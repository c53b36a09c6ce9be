"""Rating links: a thread and a rating, signed; tampered, expired or out-of-range ones refused."""

from __future__ import annotations

import pytest
from keepword_platform import signed_links
from keepword_platform.rating_links import (
    LinkRefused,
    rating_url,
    read_rating,
    sign_rating,
)

SECRET = "a-test-secret-of-thirty-two-bytes!"


@pytest.mark.parametrize("rating", [1, 3, 5, None])
def test_a_link_reads_back_as_signed(rating: int | None) -> None:
    token = sign_rating(SECRET, thread_id="thr-1", rating=rating)
    claim = read_rating(SECRET, token, max_age_seconds=60)
    assert (claim.thread_id, claim.rating) == ("thr-1", rating)
    assert rating_url("https://in.example/", token) == f"https://in.example/feedback/{token}"


def test_tampered_foreign_and_out_of_range_links_are_refused() -> None:
    token = sign_rating(SECRET, thread_id="thr-1", rating=4)
    for bad in (
        token[:-2] + "xx",
        sign_rating("another-secret-of-32-bytes-long!!", thread_id="t", rating=4),
    ):
        with pytest.raises(LinkRefused) as refused:
            read_rating(SECRET, bad, max_age_seconds=60)
        assert refused.value.why == "invalid"
    decision = signed_links.sign(SECRET, "decision", {"t": "thr-1", "r": "4"})
    with pytest.raises(LinkRefused):
        read_rating(SECRET, decision, max_age_seconds=60)
    nine = signed_links.sign(SECRET, "rating", {"t": "thr-1", "r": "9"})
    with pytest.raises(LinkRefused):
        read_rating(SECRET, nine, max_age_seconds=60)
    with pytest.raises(ValueError, match="1 to 5"):
        sign_rating(SECRET, thread_id="thr-1", rating=0)


def test_an_old_link_is_expired() -> None:
    token = sign_rating(SECRET, thread_id="thr-1", rating=2)
    with pytest.raises(LinkRefused) as refused:
        read_rating(SECRET, token, max_age_seconds=-1)
    assert refused.value.why == "expired"
