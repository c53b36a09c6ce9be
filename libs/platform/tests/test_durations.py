from __future__ import annotations

from datetime import timedelta

import pytest
from keepword_platform.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", timedelta(hours=24)),
        ("90m", timedelta(minutes=90)),
        ("5s", timedelta(seconds=5)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(days=2)),
        (" 1H 5S ", timedelta(hours=1, seconds=5)),
        ("0.5h", timedelta(minutes=30)),
    ],
)
def test_parses_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "24", "h", "5 hours", "1h-5m", "tomorrow", "5x"])
def test_refuses_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["1d", "23h", "1h30m", "5s", "2d1h1m1s", "0s"])
def test_formatting_reads_back(text: str) -> None:
    assert format_duration(parse_duration(text)) == text
