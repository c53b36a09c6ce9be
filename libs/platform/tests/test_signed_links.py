"""The signed-link kit: purposes kept apart, tampering and age refused, CSRF bound to its link."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

import pytest
from itsdangerous import URLSafeTimedSerializer
from keepword_platform import decision_links, signed_links
from keepword_platform.signed_links import LinkRefused

SECRET = "a-test-secret-of-thirty-two-bytes!"


def test_a_token_reads_back_its_claims_and_a_fresh_nonce() -> None:
    first = signed_links.sign(SECRET, "answer", {"c": "cmt_1", "a": "confirm"})
    second = signed_links.sign(SECRET, "answer", {"c": "cmt_1", "a": "confirm"})
    link = signed_links.read(SECRET, "answer", first, max_age_seconds=60, required=("c", "a"))
    assert link.claims == {"c": "cmt_1", "a": "confirm"}
    assert link.purpose == "answer"
    assert link.nonce != signed_links.read(SECRET, "answer", second, max_age_seconds=60).nonce


def test_a_token_of_one_purpose_is_invalid_for_another() -> None:
    token = signed_links.sign(SECRET, "answer", {"c": "cmt_1"})
    with pytest.raises(LinkRefused) as refused:
        signed_links.read(SECRET, "rating", token, max_age_seconds=60)
    assert refused.value.why == "invalid"


@pytest.mark.parametrize(
    "change",
    [
        # the signature (not its last character, whose low bits are base64 padding)
        lambda t: t[:-5] + ("A" if t[-5] != "A" else "g") + t[-4:],
        lambda t: "x" + t[1:],  # the payload
        lambda t: t[: len(t) // 2],  # cut short
    ],
)
def test_a_tampered_token_is_invalid(change: Callable[[str], str]) -> None:
    token = signed_links.sign(SECRET, "answer", {"c": "cmt_1"})
    with pytest.raises(LinkRefused) as refused:
        signed_links.read(SECRET, "answer", change(token), max_age_seconds=60)
    assert refused.value.why == "invalid"


def test_another_secret_or_a_missing_claim_is_invalid() -> None:
    token = signed_links.sign(SECRET, "answer", {"c": "cmt_1"})
    with pytest.raises(LinkRefused):
        signed_links.read("another-secret-of-32-bytes-long!!", "answer", token, max_age_seconds=60)
    with pytest.raises(LinkRefused):
        signed_links.read(SECRET, "answer", token, max_age_seconds=60, required=("a",))


def test_an_old_token_is_expired(monkeypatch: pytest.MonkeyPatch) -> None:
    token = signed_links.sign(SECRET, "answer", {"c": "cmt_1"})
    later = time.time() + 3601
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    with pytest.raises(LinkRefused) as refused:
        signed_links.read(SECRET, "answer", token, max_age_seconds=3600)
    assert refused.value.why == "expired"


def test_the_nonce_key_and_ambiguous_purposes_are_refused_when_signing() -> None:
    with pytest.raises(ValueError, match="reserved"):
        signed_links.sign(SECRET, "answer", {"n": "mine"})
    with pytest.raises(ValueError, match="purpose"):
        signed_links.sign(SECRET, "Answer.link", {"c": "x"})


def test_a_csrf_token_is_bound_to_its_link_and_purpose() -> None:
    link = signed_links.sign(SECRET, "answer", {"c": "cmt_1"})
    other = signed_links.sign(SECRET, "answer", {"c": "cmt_1"})
    form = signed_links.csrf_token(SECRET, "answer", link)
    assert signed_links.csrf_valid(SECRET, "answer", link, form)
    assert not signed_links.csrf_valid(SECRET, "answer", other, form)
    assert not signed_links.csrf_valid(SECRET, "rating", link, form)
    assert not signed_links.csrf_valid(SECRET, "answer", link, form + "x")


def test_decision_links_are_a_purpose_of_the_kit() -> None:
    token = decision_links.sign_decision(
        SECRET, escalation_id="esc_1", option="approve_refund", manager="Boss@Example.com"
    )
    claim = decision_links.read_decision(SECRET, token, max_age_seconds=60)
    assert (claim.escalation_id, claim.option, claim.manager) == (
        "esc_1",
        "approve_refund",
        "boss@example.com",
    )
    with pytest.raises(LinkRefused):
        signed_links.read(SECRET, "answer", token, max_age_seconds=60)
    form = decision_links.csrf_token(SECRET, token)
    assert decision_links.csrf_valid(SECRET, token, form)


def test_tokens_are_signed_with_sha256_and_those_signed_before_with_sha1_still_read() -> None:
    claims = {"t": "thr-1", "p": "pat@example.com"}
    token = signed_links.sign(SECRET, "answer", claims)
    signature = token.rsplit(".", 1)[1]
    assert len(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))) == 32

    salt = "keepword.answer-link.v1"
    before = URLSafeTimedSerializer(SECRET, salt=salt).dumps({**claims, "n": "ab" * 12})
    assert signed_links.read(SECRET, "answer", before, max_age_seconds=60).claims == claims
    compressible = {"t": "x" * 200}  # a compressed payload (as the library made) still reads
    before = URLSafeTimedSerializer(SECRET, salt=salt).dumps({**compressible, "n": "ab" * 12})
    assert before.startswith(".")
    assert signed_links.read(SECRET, "answer", before, max_age_seconds=60).claims == compressible
