"""Sampling a service with py-spy during a benchmark phase, and summarising where time went."""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

PROFILED_PACKAGES = ("keepword", "asyncpg", "aiokafka", "faststream", "pydantic")

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>.*?)(?::\d+)?\)$")
_SHORTER = re.compile(r"^.*?/(?:site-packages|src|lib/python3\.\d+)/")


@contextlib.contextmanager
def sampled(pid: int, path: Path | None, *, nonblocking: bool = False) -> Iterator[None]:
    """Sample `pid` with py-spy into `path` while the block runs (not at all without a path).

    `nonblocking` keeps py-spy from pausing the process for each sample, for phases whose
    latency is what is measured.
    """
    if path is None:
        yield
        return
    spy = shutil.which("py-spy")
    if spy is None:
        raise SystemExit("--profile needs py-spy: `pip install py-spy` (not into .venv)")
    # -d is only a backstop: SIGINT ends the sampling when the phase ends, and py-spy then
    # writes what it has.
    command = [spy, "record", "-p", str(pid), "--format", "raw", "-o", str(path)]
    command += ["-d", "600", "-r", "200", *(["--nonblocking"] if nonblocking else [])]
    process = subprocess.Popen(  # noqa: S603 - py-spy, found on PATH, with our own arguments
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    time.sleep(1.0)  # py-spy attaches before the phase starts
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=60)
        if process.returncode != 0:
            print(
                f"[bench] py-spy failed ({process.returncode}): {errors.decode()[-1000:]}",
                file=sys.stderr,
            )


def frame_name(frame: str) -> str:
    """`function (file:line)` as `function (package/module.py)`: lines of one function merge."""
    match = _FRAME.match(frame)
    if not match:
        return frame
    return f"{match['function']} ({_SHORTER.sub('', match['file'])})"


def profile_summary(
    path: Path,
    *,
    top_self: int = 15,
    top_inclusive: int = 40,
    packages: Sequence[str] = PROFILED_PACKAGES,
) -> dict[str, Any]:
    """Self and inclusive sample shares per function, from py-spy's raw (collapsed) output."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [frame_name(f) for f in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    # Frames in (nearly) every sample are the process's entry points: they say nothing.
    ours = Counter(
        {
            name: n
            for name, n in inclusive.items()
            if any(p in name for p in packages) and n < 0.9 * total
        }
    )
    share = 100.0 / max(total, 1)
    return {
        "samples": total,
        "self": [(name, n * share) for name, n in own.most_common(top_self)],
        "inclusive": [(name, n * share) for name, n in ours.most_common(top_inclusive)],
    }


def print_profile(summary: dict[str, Any], during: str) -> None:
    """The summary as markdown tables on stdout."""
    print(f"\nprofile of the service {during}: {summary['samples']:,} busy samples")
    for title, rows in (("self time", summary["self"]), ("inclusive", summary["inclusive"])):
        print(f"\n| {title} | % of samples |\n| --- | ---: |")
        for name, share in rows:
            print(f"| `{name}` | {share:.1f} |")
