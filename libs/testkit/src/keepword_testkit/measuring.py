"""What the benchmarks measure with: latency percentiles, progress lines, and the CPU and memory
each party used (Linux /proc), so that a busy service can be told from a waiting one and a run
on a shared machine from a clean one."""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

_STARTED = time.monotonic()


def progress(text: str) -> None:
    """A progress line on stderr, with the seconds since the benchmark started."""
    print(f"[bench {time.monotonic() - _STARTED:6.1f}s] {text}", file=sys.stderr, flush=True)


def scratch_directory(prefix: str) -> tempfile.TemporaryDirectory[str]:
    """A temporary directory in memory (/dev/shm) when the machine has one, for a benchmark's
    private broker: on a machine of one disk, the broker's page-cache writeback held
    PostgreSQL's WAL flushes for 0.4-1.1 s at a time (pauses of the shared disk, not of the
    service measured; in production each has a disk of its own). Kafka never flushes its log
    itself, so nothing it promises changes."""
    memory = Path("/dev/shm")  # noqa: S108 - a directory of our own is made inside it
    in_memory = memory.is_dir() and os.access(memory, os.W_OK)
    return tempfile.TemporaryDirectory(prefix=prefix, dir=memory if in_memory else None)


def median_round(rounds: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The round of median `rate` (the upper one of an even count), with every round's rate
    under `rounds`: one round's figure scatters by a quarter either way on a shared machine."""
    ranked = sorted(rounds, key=lambda r: float(r["rate"]))
    return dict(ranked[len(ranked) // 2]) | {"rounds": [r["rate"] for r in rounds]}


def percentile(values: Sequence[float], q: float) -> float:
    """The value below which a share `q` (0 to 1) of `values` falls (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def distribution(values: Sequence[float]) -> dict[str, float]:
    """Median, 99th percentile, least and most of latencies in milliseconds."""
    return {
        "p50_ms": statistics.median(values),
        "p99_ms": percentile(values, 0.99),
        "min_ms": min(values),
        "max_ms": max(values),
    }


# ----- CPU and memory -------------------------------------------------------------------------


def stat_fields(stat: str) -> list[str]:
    """The fields of a /proc/PID/stat text after the command name (which may hold spaces):
    [0] is the state, [1] the parent's pid, [11]-[14] the CPU ticks."""
    return stat.rsplit(")", 1)[1].split()


def cpu_seconds_of(stat: str, *, with_ended_children: bool = False) -> float:
    """User + system CPU time in a /proc/PID/stat text, and that of the process's children that
    ended (a postmaster reaps its backends: their CPU stays counted)."""
    fields = stat_fields(stat)
    ticks = int(fields[11]) + int(fields[12])
    if with_ended_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, *, with_ended_children: bool = False) -> float:
    """User + system CPU time of a process so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return cpu_seconds_of(stat, with_ended_children=with_ended_children)


def parent_pid(pid: int) -> int:
    """The process's parent."""
    return int(stat_fields(Path(f"/proc/{pid}/stat").read_text())[1])


def postgres_cpu_seconds(postmaster: int) -> float:
    """Every backend's CPU, other clients' too (the postmaster reaps ended ones)."""
    total = cpu_seconds(postmaster, with_ended_children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):  # ended meanwhile
                if parent_pid(int(entry.name)) == postmaster:
                    total += cpu_seconds(int(entry.name))
    return total


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent on anything but idling, since boot (/proc/stat)."""
    counters = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = counters[3] + counters[4]  # idle and iowait
    return (sum(counters[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def cores_busy(
    before: Mapping[str, float], after: Mapping[str, float], seconds: float
) -> dict[str, float]:
    """Average cores each party kept busy between two snapshots that include `machine`;
    `others` is what the rest of the machine used (other engineers' runs, py-spy, the kernel):
    how far to trust a run."""
    busy = {party: (after[party] - before[party]) / seconds for party in before}
    accounted = sum(v for party, v in busy.items() if party != "machine")
    return busy | {"others": max(0.0, busy["machine"] - accounted)}


def memory_kib(pid: int) -> dict[str, int]:
    """Resident memory now (VmRSS) and at its peak so far (VmHWM), KiB."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found


def listening_pid(port: int) -> int | None:
    """The process listening on TCP `port` on this machine, if any."""
    sockets = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                listening = fields[3] == "0A"
                if listening and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    sockets.add(f"socket:[{fields[9]}]")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if any(os.readlink(fd) in sockets for fd in (entry / "fd").iterdir()):
                    return int(entry.name)
    return None
