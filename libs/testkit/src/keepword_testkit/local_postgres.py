"""A private PostgreSQL cluster for tests that stop, kill and start it (deploy/local/postgres.sh).

The shared local cluster serves every other test and `make up`; a fault test that takes the
database away must take away its own. Stopping and starting keeps the port and the data.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
SCRIPT = ROOT / "deploy" / "local" / "postgres.sh"


@dataclass
class LocalPostgres:
    """A cluster of its own with its data under `state_dir`, on its own port."""

    state_dir: Path
    port: int
    # postgres.sh's hooks (TLS and a password: secure_stack).
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The URL of its `keepword` database."""
        return f"postgresql://keepword@127.0.0.1:{self.port}/keepword"

    def _run(self, command: str) -> None:
        env = (
            os.environ
            | {
                "KEEPWORD_LOCAL_DIR": str(self.state_dir),
                "KEEPWORD_PG_PORT": str(self.port),
            }
            | self.env
        )
        done = subprocess.run(  # noqa: S603 - the project's own script
            ["/bin/bash", str(SCRIPT), command],
            env=env,
            capture_output=True,
            timeout=240,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"postgres.sh {command} failed ({done.returncode}): {done.stderr.decode()[-2000:]}"
            )

    def start(self) -> None:
        """Start it (initdb on first use) and wait until it accepts connections."""
        self._run("start")

    def stop(self) -> None:
        """Fast shutdown: connections are cut, as when the database goes away."""
        self._run("stop")

    def destroy(self) -> None:
        """Stop it and delete its data."""
        self._run("destroy")
