"""The pure parts of tail, dlq and lag: what they print and how replays are remembered."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from aiokafka.partitioner import DefaultPartitioner
from keepword_events import encode, new_envelope
from keepword_events.examples import every_event
from keepword_ops import groups, lag
from keepword_ops.dead_letters import ReplayMark, Selection, read_dead_letter
from keepword_ops.dlq import DLQ_TOPICS, Listed, format_listing
from keepword_ops.lag import PartitionLag
from keepword_ops.timeline import entry_of, format_json, format_line, gist, partition_for
from keepword_platform.messaging.records import dead_letter

AT = datetime(2026, 11, 2, 9, 30, 15, 250_000, tzinfo=UTC)


@dataclass
class Record:
    """A consumed record, as aiokafka gives it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]] = field(default=())
    timestamp: int = int(AT.timestamp() * 1000)


def _record(index: int = 0, offset: int = 5) -> Record:
    event = every_event("thr-1")[index]
    built = encode(new_envelope(event, source="/test", time=AT, event_id=f"evt-{index}"))
    return Record(built.topic, 2, offset, built.key, built.value, built.headers)


def _letter(reason: str = "rejected: no such commitment", offset: int = 9) -> Record:
    original = _record(2)
    built = dead_letter(original, reason, service="commitments", attempts=1, now=AT).record
    return Record(built.topic, 2, offset, built.key, built.value, built.headers)


@pytest.mark.parametrize("thread", ["thr-1", "thr-0123456789abcdef", "x", "ünïcode"])
@pytest.mark.parametrize("partitions", [1, 6, 7])
def test_partition_for_is_where_aiokafka_puts_the_key(thread: str, partitions: int) -> None:
    every = list(range(partitions))
    assert partition_for(thread, partitions) == DefaultPartitioner()(thread.encode(), every, every)


def test_every_event_type_has_a_gist_without_its_body() -> None:
    for event in every_event("thr-1"):
        text = gist(event)
        assert text != type(event).__name__, event.ce_type
        assert "I paid a deposit" not in text
    received = every_event("thr-1")[0]
    assert gist(received) == (
        'email from dana@example.com: "Where is my ranking report?" (deposit 1500.00 USD)'
    )


def test_an_event_is_a_line_with_time_topic_type_and_gist() -> None:
    line = format_line(entry_of(_record()))
    assert line.startswith("2026-11-02 09:30:15.250Z  messages.v1")
    assert line.split()[3] == "message.received"
    entry = json.loads(format_json(entry_of(_record())))
    assert (entry["time"], entry["type"], entry["offset"]) == (
        "2026-11-02T09:30:15.250000Z",
        "keepword.message.received.v1",
        5,
    )


def test_a_record_that_is_no_event_is_still_a_line() -> None:
    junk = Record("keepword.messages.v1", 0, 1, b"thr-1", b"{not json", [("ce_type", b"x.v1")])
    entry = entry_of(junk)
    assert entry.event_type == "x.v1"
    assert entry.gist.startswith("undecodable: ")


def test_a_dead_letter_reads_back_with_where_it_came_from_and_why() -> None:
    letter = read_dead_letter(_letter())
    assert letter.reason == "rejected: no such commitment"
    assert (letter.source_topic, letter.source_partition, letter.source_offset) == (
        "keepword.commitment-requests.v1",
        2,
        5,
    )
    assert (letter.service, letter.attempts, letter.at) == ("commitments", 1, AT)
    assert letter.event_type == "keepword.commitment.declared.v1"
    assert letter.original_headers() == tuple(_record(2).headers)
    replay = dict(letter.replay_headers())
    assert replay["keepword-replay-of"] == b"keepword.commitment-requests.v1.dlq:2:9"
    assert not any(name.startswith("keepword-dlq") for name in replay)
    entry = entry_of(_letter())
    assert entry.dead_letter
    assert entry.gist == "dead letter from commitments: rejected: no such commitment"


def test_listing_groups_dead_letters_under_their_topic() -> None:
    lines = format_listing([Listed(read_dead_letter(_letter()), replayed=True)])
    assert lines[0] == "keepword.commitment-requests.v1.dlq (1)"
    assert "replayed  commitment.declared.v1" in lines[1]
    assert lines[2].endswith("after 1 attempt(s): rejected: no such commitment")
    assert format_listing([]) == ["no dead letters"]


def test_selection_by_topic_reason_and_event_id() -> None:
    letter = read_dead_letter(_letter("handler failed 3 times: RuntimeError()"))
    assert Selection().matches(letter)
    assert Selection(reason="HANDLER FAILED").matches(letter)
    assert not Selection(reason="rejected").matches(letter)
    assert Selection(event_ids=(letter.event_id or "",)).matches(letter)
    assert not Selection(event_ids=("other",)).matches(letter)
    assert Selection(("keepword.messages.v1", "keepword.messages.v1.dlq")).dlq_topics(
        DLQ_TOPICS
    ) == ("keepword.messages.v1.dlq",)
    with pytest.raises(ValueError, match="not a topic of the catalog"):
        Selection(("keepword.nope.v1",)).dlq_topics(DLQ_TOPICS)


def test_an_unfiltered_replay_moves_the_watermark_to_the_end() -> None:
    mark = ReplayMark().after([0, 1, 2], [0, 1, 2], start=0, end=3)
    assert mark == ReplayMark(3, frozenset())
    assert mark.done(2)
    assert not mark.done(3)


def test_a_filtered_replay_remembers_what_it_skipped_over() -> None:
    first = ReplayMark().after([0, 1, 2, 3], [1, 3], start=0, end=4)
    assert first == ReplayMark(0, frozenset({1, 3}))
    assert [first.done(o) for o in range(4)] == [False, True, False, True]
    second = first.after([0, 1, 2, 3], [0], start=0, end=4)
    assert second == ReplayMark(2, frozenset({3}))
    third = second.after([2, 3, 4], [2, 4], start=2, end=5)
    assert third == ReplayMark(5, frozenset())


def test_a_replay_mark_survives_its_round_trip_through_commit_metadata() -> None:
    mark = ReplayMark(4, frozenset({6, 9}))
    assert ReplayMark.stored(4, mark.metadata()) == mark
    assert ReplayMark.stored(None, None) == ReplayMark()
    assert ReplayMark.stored(-1, "") == ReplayMark()
    assert ReplayMark.stored(7, "not json") == ReplayMark(7)
    assert ReplayMark.stored(7, mark.metadata()) == ReplayMark(7, frozenset({9}))


def test_records_gone_by_retention_count_as_passed() -> None:
    assert ReplayMark(0).after([10, 11], [10, 11], start=10, end=12) == ReplayMark(12)
    assert ReplayMark(0).after([], [], start=10, end=10) == ReplayMark(10)


def test_lag_is_end_minus_committed_with_totals() -> None:
    assert lag.lag_of(2, 0, 5) == 3
    assert lag.lag_of(None, 1, 5) == 4  # nothing committed: from the log start
    assert lag.lag_of(0, 3, 5) == 2  # committed below the log start
    assert lag.lag_of(9, 0, 5) == 0
    lags = [
        PartitionLag("b", "t", 0, 2, 5, 3),
        PartitionLag("a", "t", 1, 1, 1, 0),
        PartitionLag("b", "t", 1, None, 4, 4),
    ]
    assert lag.totals(lags) == {"a": 0, "b": 7}
    assert lag.over(lags, 6) == {"b": 7}
    assert lag.over(lags, 7) == {}
    table = [line.split() for line in lag.format_table(lags)]
    assert table[1] == ["a", "t", "1", "1", "1", "0"]
    assert ["b", "t", "1", "-", "4", "4"] in table
    assert table[-2] == ["b", "(total)", "7"]
    assert table[-1] == ["all", "groups", "7"]
    assert json.loads(lag.format_json(lags))["total"] == 7


def test_a_group_reset_target_is_earliest_latest_or_a_time_with_an_offset() -> None:
    assert groups.parse_target("earliest") == "earliest"
    assert groups.parse_target("latest") == "latest"
    assert groups.parse_target("2026-11-02T09:30:00Z") == datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="no UTC offset"):
        groups.parse_target("2026-11-02T09:30:00")
    with pytest.raises(ValueError, match="is not earliest, latest"):
        groups.parse_target("yesterday")
    moves = [groups.Move("t", 0, 4, 0), groups.Move("t", 1, None, 0), groups.Move("t", 2, 0, 0)]
    assert groups.format_moves("g", moves, dry_run=True) == [
        "g  t 0: 4 -> 0",
        "g  t 1: - -> 0",
        "g  t 2: 0 -> 0",
        "would move 2 of 3 partition(s)",
    ]
