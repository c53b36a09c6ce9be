"""Where the connector stands in a folder, and where it reads from next: pure rules."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Position:
    """The last UID taken in under a UIDVALIDITY (0: nothing yet)."""

    uidvalidity: int
    last_uid: int


def start_from(recorded: Position | None, uidvalidity: int) -> Position:
    """The recorded place, or the folder's start when it is new to us or its UIDVALIDITY changed
    (the server renumbered it: the old UIDs mean nothing any more)."""
    if recorded is None or recorded.uidvalidity != uidvalidity:
        return Position(uidvalidity, 0)
    return recorded


def lag(position: Position, uids_in_folder: list[int]) -> int:
    """Messages in the folder above the recorded UID."""
    return sum(1 for uid in uids_in_folder if uid > position.last_uid)
