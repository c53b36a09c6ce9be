"""The benchmarks' shared measures: percentiles, CPU from /proc and cores busy per party."""

from __future__ import annotations

import os

import pytest
from keepword_testkit.measuring import (
    cores_busy,
    cpu_seconds,
    cpu_seconds_of,
    distribution,
    median_round,
    parent_pid,
    percentile,
)


def test_percentiles_take_the_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.99), percentile(values, 1.0)) == (
        51.0,
        100.0,
        100.0,
    )
    assert distribution([3.0, 1.0, 2.0]) == {
        "p50_ms": 2.0,
        "p99_ms": 3.0,
        "min_ms": 1.0,
        "max_ms": 3.0,
    }


def test_cpu_is_read_past_a_command_name_with_spaces_and_parentheses() -> None:
    ticks = os.sysconf("SC_CLK_TCK")
    fields = ["S", "1", *["0"] * 9, str(3 * ticks), str(ticks), str(2 * ticks), str(ticks)]
    stat = f"42 (python (bench) x) {' '.join(fields)}"
    assert cpu_seconds_of(stat) == pytest.approx(4.0)
    assert cpu_seconds_of(stat, with_ended_children=True) == pytest.approx(7.0)
    assert cpu_seconds(os.getpid()) > 0
    assert parent_pid(os.getpid()) == os.getppid()


def test_others_is_the_machine_s_cpu_no_party_accounts_for() -> None:
    before = {"service": 10.0, "postgres": 5.0, "machine": 100.0}
    after = {"service": 12.0, "postgres": 6.0, "machine": 108.0}
    assert cores_busy(before, after, 4.0) == {
        "service": 0.5,
        "postgres": 0.25,
        "machine": 2.0,
        "others": 1.25,
    }


def test_the_median_round_is_kept_whole_with_every_rounds_rate() -> None:
    rounds = [{"rate": 3.0, "n": 1}, {"rate": 1.0, "n": 2}, {"rate": 2.0, "n": 3}]
    assert median_round(rounds) == {"rate": 2.0, "n": 3, "rounds": [3.0, 1.0, 2.0]}
    assert median_round([{"rate": 1.0}, {"rate": 2.0}])["rate"] == 2.0
