"""Named crash points for fault tests: `KEEPWORD_CRASH_AT=<name>` makes the process SIGKILL
itself when it reaches that point, as a power cut would. Unset in normal operation."""

from __future__ import annotations

import os
import signal

_CHOSEN = os.environ.get("KEEPWORD_CRASH_AT")


def crash_point(name: str) -> None:
    """Die here, at once and without clean-up, if the environment asks for it."""
    if name == _CHOSEN:
        os.kill(os.getpid(), signal.SIGKILL)
