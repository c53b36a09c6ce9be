"""The writer's own words: the quoted history, earlier messages and signature of a reply gone."""

from __future__ import annotations

import pytest
from keepword_events.own_words import own_words, own_words_in_place


@pytest.mark.parametrize(
    ("text", "new_text"),
    [
        (
            "Still waiting.\n\nOn Tue, 3 Nov 2026 at 09:15, Keepword Support Team\n"
            "<support@shop.example> wrote:\n> We shipped it.\n",
            "Still waiting.",
        ),
        (
            "Please cancel.\n\n________________________________\nFrom: Dana <d@shop.example>\n"
            "Sent: Monday, November 2, 2026 10:00 AM\nTo: Alex <a@example.com>\n"
            "Subject: RE: order\n\nWe shipped it.\n",
            "Please cancel.",
        ),
        (
            "Please cancel.\n\n-----Original Message-----\nFrom: Dana\nWe shipped it.",
            "Please cancel.",
        ),
        (
            "Toujours rien.\n\nLe lun. 2 nov. 2026 à 10:00, Dana <d@x.fr> a\u00a0écrit\u00a0:\n"
            "> Nous l'avons envoyé.\n",
            "Toujours rien.",
        ),
        (
            "Immer noch nichts.\n\nAm 02.11.2026 um 10:00 schrieb Dana <d@x.de>:\n> Versandt.",
            "Immer noch nichts.",
        ),
        ("Please refund me.\n\n-- \nAlex Doe\nCEO, Example Ltd", "Please refund me."),
    ],
    ids=["wrapped-header", "outlook", "original-message", "french", "german", "signature"],
)
def test_quoted_history_is_stripped(text: str, new_text: str) -> None:
    assert own_words(text) == new_text


def test_answers_between_quoted_lines_are_kept() -> None:
    text = "> Did it arrive?\nNo.\n\n> Is the box damaged?\nYes, badly.\n"

    assert own_words(text) == "No.\n\nYes, badly."


def test_a_reply_header_without_a_date_still_introduces_a_quote() -> None:
    text = "It ships tomorrow.\n\nOn Monday, Dana wrote:\n> Where is my order?"

    assert own_words(text) == "It ships tomorrow."


def test_an_answer_below_the_quote_is_kept() -> None:
    text = "On Mon, 2 Nov 2026 at 10:00, Dana <d@shop.example> wrote:\n> Did it arrive?\n\nNo."

    assert own_words(text) == "No."


def test_text_that_only_looks_like_a_reply_header_is_kept() -> None:
    text = (
        "On reflection, here is what I wrote:\nthe lid is broken.\n"
        "On 3 Nov I ordered a lamp and a shade;\nhere is what your colleague wrote:\n"
        "Shipping in 2 days.\n"
        "From: my side everything is fine.\nTo: be honest I am angry.\n"
        "- item one\n- item two\nThanks, but I want a refund."
    )

    assert own_words(text) == text


def test_a_forwarded_message_in_the_text_is_kept_whole() -> None:
    text = (
        "See what your colleague promised:\n\n---------- Forwarded message ---------\n"
        "From: Dana <d@shop.example>\nDate: Mon, 2 Nov 2026\nSubject: Order\nTo: a@example.com\n"
        "\nWe will refund you by Friday.\n"
    )

    assert own_words(text) == text.strip()


@pytest.mark.parametrize(
    ("text", "new_text"),
    [
        ("Ok.\n\nSent from my iPhone", "Ok."),
        ("Ok.\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n> quoted", "Ok."),
        ("Sent from my desk yesterday, the form still fails.", None),
        ("Ok.\nOn Mon, Dana wrote:\nWe will respond within three hours.", "Ok."),
        ("Ok.\nOn 9 Mar 2026, Dana Ruiz wrote:\nWe will respond within three hours.", "Ok."),
    ],
    ids=["phone-signature", "outlook-signature", "sent-from-a-sentence", "day", "date"],
)
def test_signatures_and_headers_with_the_history_unquoted(text: str, new_text: str | None) -> None:
    assert own_words(text) == (text if new_text is None else new_text)


def test_below_new_words_a_reply_header_ends_them_even_with_unquoted_lines_under_its_quote() -> (
    None
):
    text = (
        "Thanks Dana, we'll deliver the audit by Friday.\n\n"
        "On Mon, 9 Mar 2026 at 16:12, Dana Ruiz <dana@example.com> wrote:\n"
        "> You said you would call me back within the hour.\n"
        "We guarantee first-page rankings.\n"
    )

    assert own_words(text) == "Thanks Dana, we'll deliver the audit by Friday."


def test_in_place_other_peoples_words_are_blanked_and_offsets_kept() -> None:
    text = (
        "Hi Dana,\r\nStill no refund.\n> We will refund you.\nYes, badly.\n\n"
        "_____\nFrom: Dana\nSent: Monday\nTo: Alex\nWe shipped it."
    )

    masked = own_words_in_place(text)

    assert len(masked) == len(text)
    assert [i for i, c in enumerate(text) if c == "\n"] == [
        i for i, c in enumerate(masked) if c == "\n"
    ]
    assert masked.split() == ["Hi", "Dana,", "Still", "no", "refund.", "Yes,", "badly."]
    assert text.find("Yes, badly.") == masked.find("Yes, badly.")


@pytest.mark.parametrize(
    ("text", "new_text"),
    [
        (
            "Still waiting.\n\nOn Tue, 3 Nov 2026 at 09:15, Keepword Support Team\n"
            "<support@shop.example> wrote:\nWe shipped it.\n",
            "Still waiting.",
        ),
        (
            "Still waiting.\n\nOn Nov 30, 2026, at 12:47 PM, Keepword Support <\n"
            "support@shop.example>\nwrote:\n\nWe shipped it.",
            "Still waiting.",
        ),
        (
            "Please cancel.\n\n________________________________\nFrom: Dana <d@shop.example>\n"
            "Subject: RE: order\n\nWe shipped it.",
            "Please cancel.",
        ),
        (
            "Please cancel.\nDate: Fri, 28 Sep 2026 10:55:48 +0000\nFrom: d@shop.example\n"
            "To: a@example.com\nWe shipped it.",
            "Please cancel.",
        ),
        (
            "Please cancel.\nFrom: d@shop.example Date: Thu, 24 Mar 2026 08:07:12 -0700\n"
            "We shipped it.",
            "Please cancel.",
        ),
        ("Please cancel.\n\n---- Dana wrote ----\nWe shipped it.", "Please cancel."),
        ("Please cancel.\n\n-----Reply Message-----\nWe shipped it.", "Please cancel."),
        (
            "Proszę anulować.\n\nW dniu 28 stycznia 2026 01:53 użytkownik Dana <d@x.pl>\n"
            "napisał:\n\nWysłaliśmy.",
            "Proszę anulować.",
        ),
        (
            "Avbryt den.\nFrån: Dana [mailto:d@x.se]\nSkickat: den 26 augusti 2026 14:45\n"
            "Till: Alex\nÄmne: RE: Order\n\nSkickat.",
            "Avbryt den.",
        ),
        (
            "Annuleer.\n\nOp 17-feb.-2026, om 13:18 heeft Dana <d@x.nl> het volgende "
            "geschreven:\n\nVerzonden.",
            "Annuleer.",
        ),
        (
            'Отмените.\n02.04.2026 14:20 пользователь "Dana" <\nd@x.ru> написал:\n\nОтправлено.',  # noqa: RUF001
            "Отмените.",
        ),
        ("Ok.\n\nSent from my Verizon, Samsung Galaxy smartphone\n> quoted", "Ok."),
        ("Ok.\n\nSent from Samsung Mobile", "Ok."),
        ("Ok.\n\nSent with Sparrow (http://www.sparrowmailapp.com/?sig)", "Ok."),
    ],
    ids=[
        "wrapped-header-unquoted",
        "header-wrapped-over-three-lines",
        "outlook-rule-and-from",
        "block-led-by-its-date",
        "block-on-one-line",
        "android-framed",
        "reply-message",
        "polish",
        "swedish-block",
        "dutch",
        "russian",
        "device-signature-with-comma",
        "samsung-mobile",
        "sparrow",
    ],
)
def test_histories_without_quote_marks_and_phone_signatures_are_not_own_words(
    text: str, new_text: str
) -> None:
    assert own_words(text) == new_text


@pytest.mark.parametrize(
    "text",
    [
        "On 3 Nov I ordered a lamp and a shade;\nhere is what your colleague\nwrote:\nSoon.",
        "Date: the 3rd was fine.\nTo: be honest, later is fine too.",
        "Sent from our warehouse on Monday, the parcel never came; please check.",
        "Sent from my desk yesterday, the form still fails.",
        "_____\nFill in the blank above.",
        "-- reply with your order number --\nThanks",
        "2026-11-03 is the date I paid: 40 EUR <see receipt>:\nNothing since.",
    ],
    ids=[
        "wrapped-prose",
        "date-prose",
        "sent-from-a-place",
        "sent-from-desk",
        "rule",
        "dashes",
        "date-led-prose",
    ],
)
def test_prose_that_looks_like_history_is_kept(text: str) -> None:
    assert own_words(text) == text


LONGEST_BODY = 200_000  # the event contract's MessageReceived.body

# (what arrived, the own words left): each is read line by line, looking a few lines ahead.
HOSTILE_TEXTS: list[tuple[str, str, str]] = [
    ("only quote markers", "> " * (LONGEST_BODY // 2), ""),
    ("only quote markers, one a line", ">\n" * (LONGEST_BODY // 2), ""),
    ("blank lines", "\n" * LONGEST_BODY, ""),
    ("a run of spaces", "a" + " " * LONGEST_BODY + "b", "a" + " " * LONGEST_BODY + "b"),
    ("reply headers", "On Mon, Dana wrote:\n" * 10_000, ""),
    ("From lines, no Sent or To", "From: a\n" * 25_000, ("From: a\n" * 25_000).strip()),
    ("a header, then blank lines", "Ok.\nOn Mon, a wrote:" + "\n" * LONGEST_BODY + "> x", "Ok."),
    ("date-led lines", "1 a\n" * 50_000, ("1 a\n" * 50_000).strip()),
    ("wrapped header starts", "On 1 a\n" * 28_000, ("On 1 a\n" * 28_000).strip()),
    ("rules, then blank lines", ("_____" + "\n" * 1_000) * 190, ""),
    ("dates with times, no block", "Date: 10:00\n" * 16_000, ("Date: 10:00\n" * 16_000).strip()),
    ("From lines of sent labels", "From: " + "date:" * 40_000, "From: " + "date:" * 40_000),
]


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("text", "own"),
    [(text, own) for _, text, own in HOSTILE_TEXTS],
    ids=[name for name, _, _ in HOSTILE_TEXTS],
)
def test_hostile_text_is_read_with_a_sensible_answer(text: str, own: str) -> None:
    assert own_words(text) == own
    assert own_words_in_place(text).split() == own.split()
