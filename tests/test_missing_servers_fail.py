"""Under CI, a broker or database that cannot be reached fails the suite; it is never skipped."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

PROBE = Path(__file__).parent / "probes" / "needs_kafka.py"
ROOT = Path(__file__).resolve().parents[1]


def test_unreachable_servers_fail_the_run_instead_of_skipping() -> None:
    env = os.environ | {
        "CI": "true",
        "KEEPWORD_KAFKA_BOOTSTRAP": "127.0.0.1:1",  # nothing listens on port 1
        "KEEPWORD_DATABASE_URL": "postgresql://keepword@127.0.0.1:1/keepword",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(PROBE), "-q", "--no-header"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    output = result.stdout + result.stderr

    assert result.returncode == 1, output
    assert re.search(r"\b2 errors?\b", output), output
    assert "skipped" not in output, output
    assert "no Kafka broker at 127.0.0.1:1" in output
    assert "no PostgreSQL at" in output
