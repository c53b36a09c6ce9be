"""A private Kafka broker for tests that stop and start it (deploy/local/kafka.sh)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
SCRIPT = ROOT / "deploy" / "local" / "kafka.sh"


@dataclass
class LocalKafka:
    """A broker of its own in `state_dir`, on its own ports, driven by the project's script."""

    state_dir: Path
    port: int
    controller_port: int

    @property
    def bootstrap(self) -> str:
        """Its bootstrap address."""
        return f"127.0.0.1:{self.port}"

    def _run(self, command: str) -> None:
        env = os.environ | {
            "KEEPWORD_LOCAL_DIR": str(self.state_dir),
            "KEEPWORD_KAFKA_PORT": str(self.port),
            "KEEPWORD_KAFKA_CONTROLLER_PORT": str(self.controller_port),
        }
        subprocess.run(  # noqa: S603 - the project's own script
            ["/bin/bash", str(SCRIPT), command],
            env=env,
            check=True,
            capture_output=True,
            timeout=240,
        )

    def start(self) -> None:
        """Start it and wait until it is ready."""
        shared_jars = ROOT / ".local" / "kafka" / "lib"
        own_jars = self.state_dir / "kafka" / "lib"
        if shared_jars.is_dir() and not own_jars.exists():
            # Reuse the jars the main local broker already installed instead of copying them.
            own_jars.parent.mkdir(parents=True, exist_ok=True)
            own_jars.symlink_to(shared_jars)
        self._run("start")

    def stop(self) -> None:
        """Stop it cleanly."""
        self._run("stop")

    def kill(self) -> None:
        """SIGKILL it."""
        self._run("kill")
