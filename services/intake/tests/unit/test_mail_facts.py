"""The ids an email is published under depend on its Message-ID alone."""

from __future__ import annotations

import re

from keepword_intake.mail_facts import email_event_id, first_thread_of


def test_an_email_published_again_starts_the_same_thread_under_the_same_event_id() -> None:
    # Intake killed between Kafka's acknowledgement and remembering the email publishes it
    # again: consumers keep the first copy, so the second must name the same thread.
    first = (email_event_id("<a@mail.example>"), first_thread_of("<a@mail.example>"))
    again = (email_event_id("<a@mail.example>"), first_thread_of("<a@mail.example>"))
    other = first_thread_of("<b@mail.example>")

    assert first == again
    assert other != first[1]
    assert re.fullmatch(r"thr-[0-9a-f]{16}", first[1])
