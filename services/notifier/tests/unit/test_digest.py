"""The digest rules: who may share a digest, when held emails go out, and how."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from keepword_notifier.digest import (
    DIGEST_TEMPLATE,
    DIGESTED_TEMPLATES,
    Fold,
    Hold,
    SendAlone,
    decide,
    digest_group,
    digest_ids,
    digest_notice,
)
from keepword_notifier.recipients import STAFF_TEMPLATES, Notice
from keepword_notifier.rendering import render, render_part
from keepword_notifier.sendlog import Send
from keepword_platform.company import CompanyConfig

NOW = datetime(2026, 11, 2, 14, 30, tzinfo=UTC)
WINDOW = timedelta(minutes=5)


def test_only_a_managers_escalation_emails_are_digested() -> None:
    assert DIGEST_TEMPLATE in STAFF_TEMPLATES
    assert DIGESTED_TEMPLATES <= STAFF_TEMPLATES
    group = digest_group("escalation_opened_manager", "Morgan.Lead@Brightline.example")
    assert group == digest_group("escalation_raised_manager", "morgan.lead@brightline.example")
    assert digest_group("acknowledgement_customer", "dana@example.com") is None
    assert digest_group("promise_broken_owner", "sam@brightline.example") is None


def test_the_first_email_goes_out_at_once() -> None:
    assert decide(held=1, last_sent_at=None, in_flight=False, now=NOW, window=WINDOW) == (
        SendAlone()
    )


def test_a_burst_goes_out_as_one_digest() -> None:
    assert decide(held=4, last_sent_at=None, in_flight=False, now=NOW, window=WINDOW) == Fold()


def test_within_the_window_of_the_last_email_everything_waits_for_its_end() -> None:
    last = NOW - timedelta(minutes=2)
    for held in (1, 3):
        decision = decide(held=held, last_sent_at=last, in_flight=False, now=NOW, window=WINDOW)
        assert decision == Hold(last + WINDOW)


def test_after_the_window_what_was_held_goes_out() -> None:
    last = NOW - WINDOW
    assert decide(held=1, last_sent_at=last, in_flight=False, now=NOW, window=WINDOW) == (
        SendAlone()
    )
    assert decide(held=2, last_sent_at=last, in_flight=False, now=NOW, window=WINDOW) == Fold()


def test_nothing_is_decided_while_an_email_of_the_group_is_on_its_way() -> None:
    decision = decide(held=2, last_sent_at=None, in_flight=True, now=NOW, window=WINDOW)
    assert decision == Hold(NOW + WINDOW)


def test_nothing_held_is_a_mistake() -> None:
    with pytest.raises(ValueError, match="nothing is held"):
        decide(held=0, last_sent_at=None, in_flight=False, now=NOW, window=WINDOW)


def test_the_same_members_always_make_the_same_digest() -> None:
    one = digest_ids("manager:m@x.example", ["b", "a"], "brightline.example")
    again = digest_ids("manager:m@x.example", ["a", "b"], "brightline.example")
    other = digest_ids("manager:m@x.example", ["a", "b", "c"], "brightline.example")

    assert one == again
    assert one.message_id != other.message_id
    assert one.message_id.startswith("<kw.digest.")
    assert one.message_id.endswith("@brightline.example>")
    assert not one.message_id.startswith("<kw.thr-")  # intake must not read a thread from it


def test_a_digest_carries_at_least_two_emails(
    examples: dict[str, Notice],
    company: CompanyConfig,
    make_held: Callable[[Notice], Send],
) -> None:
    with pytest.raises(ValueError, match="at least two"):
        digest_notice([make_held(examples["escalation_opened_manager"])], company, WINDOW)


def test_a_digest_is_for_the_manager_and_keeps_every_escalations_links(
    examples: dict[str, Notice], company: CompanyConfig
) -> None:
    digest = examples["escalation_digest_manager"]
    assert digest.recipient == "morgan.lead@brightline.example"
    assert digest.recipient_name == "Morgan Reyes"
    assert digest.internal
    text = "\n".join(part["text"] for part in digest.context["parts"])
    html = "\n".join(part["html"] for part in digest.context["parts"])
    for escalation in ("esc-1", "esc-2"):
        assert f"/decisions/{escalation}." in text
        assert f"/decisions/{escalation}." in html


def test_the_part_rendered_with_the_email_is_the_part_rendered_alone(
    examples: dict[str, Notice], company: CompanyConfig
) -> None:
    digested = [n for n in examples.values() if n.template in DIGESTED_TEMPLATES]
    assert digested
    for notice in digested:
        assert render(notice, company).part == render_part(notice, company)
