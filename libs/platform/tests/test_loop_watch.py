"""Judging the event loop's heartbeats, naming what blocks it, the test hook (no I/O)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from types import FrameType

from keepword_platform.health import block_hook
from keepword_platform.health.loop_watch import Block, Input, liveness, reason, step
from keepword_platform.health.watchdog import Handling, InHand, running_input
from keepword_platform.messaging.consumer import suspect_of
from keepword_platform.messaging.store import LoopSuspect

STALL = 10.0
INPUT = Input("escalation", "escalation", "keepword.replies", 3, 1207)


def test_a_loop_that_beats_within_the_window_is_left_alone() -> None:
    assert step(None, last_beat=100.0, now=109.9, stall_after=STALL, suspect=INPUT) == (
        None,
        "none",
    )


def test_silence_for_the_window_starts_an_episode_blaming_the_running_input() -> None:
    block, change = step(None, last_beat=100.0, now=110.0, stall_after=STALL, suspect=INPUT)
    assert change == "blocked"
    assert block == Block(since=100.0, blocked_for=10.0, suspect=INPUT)


def test_a_block_with_no_input_running_blames_nobody() -> None:
    block, change = step(None, last_beat=100.0, now=130.0, stall_after=STALL, suspect=None)
    assert change == "blocked"
    assert block is not None
    assert block.suspect is None


def test_an_episode_goes_on_with_its_first_blame_until_the_loop_beats_again() -> None:
    block, _ = step(None, last_beat=100.0, now=110.0, stall_after=STALL, suspect=INPUT)
    block, change = step(block, last_beat=100.0, now=250.0, stall_after=STALL, suspect=None)
    assert change == "still_blocked"
    assert block == Block(since=100.0, blocked_for=150.0, suspect=INPUT)

    block, change = step(block, last_beat=260.0, now=260.1, stall_after=STALL, suspect=None)
    assert change == "turned"
    assert block == Block(since=100.0, blocked_for=160.0, suspect=INPUT, ended=True)

    # Ended, it stays as the last record until the next block replaces it.
    assert step(block, last_beat=270.0, now=271.0, stall_after=STALL, suspect=None) == (
        block,
        "none",
    )
    later, change = step(block, last_beat=300.0, now=315.0, stall_after=STALL, suspect=None)
    assert change == "blocked"
    assert later == Block(since=300.0, blocked_for=15.0, suspect=None)


def test_liveness_is_ok_and_tells_of_a_recent_block_for_a_while() -> None:
    assert liveness(None, now=5.0, remember_for=900) == "ok"
    ended = Block(since=100.0, blocked_for=160.0, suspect=INPUT, ended=True)
    told = liveness(ended, now=300.0, remember_for=900)
    assert told.startswith("ok; the event loop was blocked for 160s")
    assert "keepword.replies[3]@1207" in told
    assert liveness(ended, now=260.0 + 901, remember_for=900) == "ok"


def test_input_describes_its_position_and_event_id_only() -> None:
    assert INPUT.describe() == "keepword.replies[3]@1207"
    named = Input("n", "n", "t", 0, 5, event_id="evt-1")
    assert named.describe() == "t[0]@5 (event evt-1)"
    assert named.position == ("t", 0, 5)


def test_dead_letter_reason_says_how_long_it_blocked() -> None:
    assert reason(61.4) == "blocked the event loop for 61 s"


def _frame() -> FrameType:
    return sys._getframe()  # this function's frame stands for a consumer's handling frame


def test_the_input_is_blamed_only_when_its_handling_frame_is_on_the_stack() -> None:
    handling, in_hand = Handling(), InHand()
    frame = _frame()
    handling.enter(frame, in_hand)
    in_hand.take(INPUT)
    in_hand.identify("evt-9")
    assert running_input(frame, handling) == Input(
        "escalation", "escalation", "keepword.replies", 3, 1207, event_id="evt-9"
    )
    # Something else runs on the loop (the handler is suspended, awaiting): nobody is blamed.
    assert running_input(sys._getframe(), handling) is None
    in_hand.clear()
    assert running_input(frame, handling) is None
    in_hand.take(INPUT)
    handling.leave(frame)
    assert running_input(frame, handling) is None


def test_with_two_consumers_the_one_whose_frame_runs_is_blamed_not_the_last_to_take() -> None:
    handling, first, second = Handling(), InHand(), InHand()
    first_frame, second_frame = _frame(), _frame()
    handling.enter(first_frame, first)
    handling.enter(second_frame, second)
    first.take(INPUT)
    second.take(Input("escalation", "escalation", "keepword.replies", 4, 9))  # took it later
    assert running_input(first_frame, handling) == INPUT


def test_the_block_hook_reads_a_positive_number_of_seconds_and_nothing_else() -> None:
    header = block_hook.BLOCK_HEADER
    assert block_hook.block_seconds([(header, b"2.5")]) == 2.5
    assert block_hook.block_seconds([("other", b"1")]) is None
    for bad in (b"nan", b"inf", b"-1", b"0", b"soon"):
        assert block_hook.block_seconds([(header, bad)]) is None


def test_the_block_hook_does_nothing_while_hooks_are_off() -> None:
    block_hook.enable(False)
    # Off, even an hour's block returns at once (a sleep would hang this test).
    block_hook.block_if_asked([(block_hook.BLOCK_HEADER, b"3600")], offset=1)


@dataclass
class _Record:
    topic: str
    partition: int
    offset: int
    headers: Sequence[tuple[str, bytes]]
    key: bytes | None = None
    value: bytes | None = None


def test_a_suspect_is_the_record_at_its_position_with_its_event_id() -> None:
    suspects = {
        ("t", 0, 5): LoopSuspect("evt-1", 61.0),
        ("t", 0, 9): LoopSuspect(None, 30.0),  # blocked before its event id was known
    }
    assert suspect_of(suspects, _Record("t", 0, 5, [("ce_id", b"evt-1")])) == suspects[("t", 0, 5)]
    # The same position holding another event (a topic created anew): not the suspect.
    assert suspect_of(suspects, _Record("t", 0, 5, [("ce_id", b"evt-2")])) is None
    assert suspect_of(suspects, _Record("t", 0, 5, [])) is None
    assert suspect_of(suspects, _Record("t", 0, 9, [])) == suspects[("t", 0, 9)]
    assert suspect_of(suspects, _Record("t", 1, 5, [("ce_id", b"evt-1")])) is None
