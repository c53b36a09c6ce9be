"""Where the mailbox connector reads from: the recorded UID, or the start of a renumbered folder."""

from __future__ import annotations

import pytest
from keepword_intake.mailbox.position import Position, lag, start_from
from keepword_platform.company import Mailbox
from pydantic import ValidationError


def test_a_folder_seen_before_is_read_from_the_recorded_uid() -> None:
    assert start_from(Position(7, 41), 7) == Position(7, 41)


def test_a_new_or_renumbered_folder_is_read_from_its_start() -> None:
    assert start_from(None, 7) == Position(7, 0)
    assert start_from(Position(7, 41), 8) == Position(8, 0)


def test_lag_counts_the_messages_above_the_recorded_uid() -> None:
    assert lag(Position(7, 41), [40, 41, 42, 50]) == 2


def test_a_mailbox_needs_exactly_one_credential_and_a_folder_to_move_to() -> None:
    common = {"name": "support", "host": "imap.example.com", "username": "support@example.com"}
    assert Mailbox.model_validate(common | {"password": "x"}).after_read == "none"
    with pytest.raises(ValidationError):
        Mailbox.model_validate(common)
    with pytest.raises(ValidationError):
        Mailbox.model_validate(common | {"password": "x", "password_env": "PASSWORD"})
    with pytest.raises(ValidationError):
        Mailbox.model_validate(common | {"password": "x", "after_read": "move"})
