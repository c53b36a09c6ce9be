"""The contract's checks of times and text, through the events that carry them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from keepword_events import CommitmentDeclared, MessageReceived, Person
from pydantic import ValidationError

_PROMISE: dict[str, Any] = {
    "thread_id": "t-1",
    "correlation_id": "t-1",
    "commitment_id": "cmt-1",
    "made_by": {"email": "sam@shop.example", "role": "sales"},
    "kind": "delivery",
    "text": "Delivered by Friday.",
    "due_at": "2030-05-01T12:00:00Z",
}
_MESSAGE: dict[str, Any] = {
    "thread_id": "t-1",
    "correlation_id": "t-1",
    "message_id": "msg-1",
    "channel": "web",
    "customer": {"email": "kim@home.example"},
    "author": {"email": "kim@home.example", "role": "customer"},
    "body": "Hello",
    "sent_at": "2030-05-01T12:00:00Z",
    "received_at": "2030-05-01T12:00:01Z",
}


@pytest.mark.parametrize(
    "due_at",
    [
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "1999-12-31T23:59:59Z",
        "2100-01-01T00:00:00Z",
    ],
)
def test_refuses_times_outside_the_business_window(due_at: str) -> None:
    with pytest.raises(ValidationError, match="between 2000-01-01 and 2100-01-01"):
        CommitmentDeclared.model_validate({**_PROMISE, "due_at": due_at})


def test_refuses_a_naive_time_rather_than_guessing_its_zone() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        CommitmentDeclared.model_validate({**_PROMISE, "due_at": "2030-05-01T12:00:00"})


def test_normalises_times_to_utc() -> None:
    berlin = timezone(timedelta(hours=2))
    promise = CommitmentDeclared.model_validate(
        {**_PROMISE, "due_at": datetime(2030, 5, 1, 14, tzinfo=berlin)}
    )
    assert promise.due_at == datetime(2030, 5, 1, 12, tzinfo=UTC)
    assert promise.due_at.tzinfo is UTC
    assert promise.model_dump(mode="json")["due_at"] == "2030-05-01T12:00:00Z"


def test_accepts_the_edges_of_the_window() -> None:
    for due_at in ("2000-01-01T00:00:00Z", "2099-12-31T23:59:59Z"):
        CommitmentDeclared.model_validate({**_PROMISE, "due_at": due_at})


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b"])
def test_refuses_control_characters_in_a_body(control: str) -> None:
    with pytest.raises(ValidationError, match=f"U\\+{ord(control):04X}"):
        MessageReceived.model_validate({**_MESSAGE, "body": f"a{control}b"})


def test_keeps_tab_newline_carriage_return_and_right_to_left_text_in_a_body() -> None:
    text = "Line one\r\n\tLine two\n\u05e9\u05dc\u05d5\u05dd \u202ereversed\u202c"
    assert MessageReceived.model_validate({**_MESSAGE, "body": text}).body == text


@pytest.mark.parametrize("field", ["text"])
def test_refuses_a_nul_in_a_promise(field: str) -> None:
    with pytest.raises(ValidationError, match="U\\+0000"):
        CommitmentDeclared.model_validate({**_PROMISE, field: "by\x00Friday"})


@pytest.mark.parametrize(
    "culprit", ["\u202e", "\u202a", "\u2066", "\u2069", "\u2028", "\t", "\x00"]
)
def test_refuses_bidi_overrides_and_controls_in_one_line_text(culprit: str) -> None:
    with pytest.raises(ValidationError, match="bidi override"):
        MessageReceived.model_validate({**_MESSAGE, "subject": f"Invoice{culprit}fdp.exe"})
    with pytest.raises(ValidationError, match="bidi override"):
        Person(email="sam@shop.example", name=f"Sam{culprit}", role="sales")


def test_a_right_to_left_name_without_overrides_is_fine() -> None:
    assert Person(email="a@b.example", name="\u05e9\u05e8\u05d4", role="sales").name
