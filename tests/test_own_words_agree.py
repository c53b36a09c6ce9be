"""Intake, escalation and commitments agree on what the writer of a message wrote.

Each sample is a reply with the thread's history in one of the shapes mail clients write it.
Intake publishes the body it reads from the email; escalation reads a customer's tone from a
body (as intake published it, or as an internal tool wrote it straight onto the topic);
commitments looks for promises in a body. All three must see the same words.
"""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from keepword_commitments.extraction.sentences import mask_quoted
from keepword_escalation.tone import own_words as tone_own_words
from keepword_intake.inbound_email import parse_inbound_email

NEW_TEXT = "Still no refund for order 1234.\n\nI want it by Friday or I call my bank."

SAMPLES = {
    "> quotes": (f"{NEW_TEXT}\n\n> We will refund you within 5 days.\n>> My order never arrived."),
    "On ... wrote:": (
        f"{NEW_TEXT}\n\nOn Tue, 3 Nov 2026 at 09:15, Keepword Support <support@shop.example>"
        " wrote:\n> We will refund you within 5 days.\n"
    ),
    "On ... wrote:, wrapped": (
        f"{NEW_TEXT}\n\nOn Tue, 3 Nov 2026 at 09:15, Keepword Support Team\n"
        "<support@shop.example> wrote:\n> We will refund you within 5 days.\n"
    ),
    "Outlook From:/Sent:": (
        f"{NEW_TEXT}\n\n________________________________\nFrom: Dana <d@shop.example>\n"
        "Sent: Monday, November 2, 2026 10:00 AM\nTo: Alex <a@example.com>\n"
        "Subject: RE: order\n\nWe will refund you within 5 days.\n"
    ),
    "-----Original Message-----": (
        f"{NEW_TEXT}\n\n-----Original Message-----\nFrom: Dana\nWe will refund you within 5 days."
    ),
    "all of them, and a phone's signature": (
        f"{NEW_TEXT}\n\nSent from my iPhone\n\n"
        "On Tue, 3 Nov 2026 at 09:15, Keepword Support <support@shop.example> wrote:\n"
        "> We will refund you within 5 days.\n>\n> -----Original Message-----\n"
        "> From: Alex\n> Sent: Monday\n> To: Support\n> My order never arrived."
    ),
    "the answer below the quote": (
        "On Mon, 2 Nov 2026 at 10:00, Dana <d@shop.example> wrote:\n"
        f"> We will refund you within 5 days.\n\n{NEW_TEXT}"
    ),
}


def intake_body(body: str) -> str:
    message = EmailMessage()
    message["From"] = "Alex Doe <alex.doe@example.com>"
    message["To"] = "support@shop.example"
    message["Subject"] = "Re: Order 1234"
    message.set_content(body)
    return parse_inbound_email(message.as_bytes()).body


def commitments_words(body: str) -> str:
    """What the promise extractor reads: the words it did not blank out, paragraph by paragraph."""
    paragraphs = mask_quoted(body).split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


@pytest.mark.parametrize("body", SAMPLES.values(), ids=SAMPLES.keys())
def test_every_service_reads_the_same_words(body: str) -> None:
    published = intake_body(body)

    assert published == NEW_TEXT
    assert tone_own_words(body) == NEW_TEXT
    assert tone_own_words(published) == NEW_TEXT  # the body as intake published it
    assert commitments_words(body) == NEW_TEXT
    assert commitments_words(published) == NEW_TEXT
