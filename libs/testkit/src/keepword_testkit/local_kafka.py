"""A private Kafka broker (deploy/local/kafka.sh), or a cluster of three
(deploy/local/kafka-cluster.sh), for tests that stop, kill and start them.

Stopping and starting it again keeps its ports and its data folder (topics, records, committed
offsets): clients see the same broker come back, as after a broker restart in production.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from keepword_platform.kafka import create_topics

from keepword_testkit.processes import free_port

ROOT = Path(__file__).resolve().parents[4]
SCRIPT = ROOT / "deploy" / "local" / "kafka.sh"
CLUSTER_SCRIPT = ROOT / "deploy" / "local" / "kafka-cluster.sh"
PROBE_GROUP = "keepword-testkit-probe"  # a group nobody joins: only asked about


@dataclass
class LocalKafka:
    """A broker of its own in `state_dir`, on its own ports, driven by the project's script."""

    state_dir: Path
    port: int
    controller_port: int
    # For a broker with locked doors (secure_stack): kafka.sh's hooks, and the admin's login.
    env: dict[str, str] = field(default_factory=dict)
    client_options: dict[str, Any] = field(default_factory=dict)

    @property
    def bootstrap(self) -> str:
        """Its bootstrap address."""
        return f"127.0.0.1:{self.port}"

    def _run(self, command: str) -> None:
        env = (
            os.environ
            | {
                "KEEPWORD_LOCAL_DIR": str(self.state_dir),
                "KEEPWORD_KAFKA_PORT": str(self.port),
                "KEEPWORD_KAFKA_CONTROLLER_PORT": str(self.controller_port),
            }
            | self.env
        )
        subprocess.run(  # noqa: S603 - the project's own script
            ["/bin/bash", str(SCRIPT), command],
            env=env,
            check=True,
            capture_output=True,
            timeout=240,
        )

    def start(self) -> None:
        """Start it and wait until it is ready, consumer groups included."""
        shared_jars = ROOT / ".local" / "kafka" / "lib"
        own_jars = self.state_dir / "kafka" / "lib"
        if shared_jars.is_dir() and not own_jars.exists():
            # Reuse the jars the main local broker already installed instead of copying them.
            own_jars.parent.mkdir(parents=True, exist_ok=True)
            own_jars.symlink_to(shared_jars)
        self._run("start")
        self.wait_for_group_coordinator()

    def stop(self) -> None:
        """Stop it cleanly (SIGTERM); `start` brings it back with the same ports and data."""
        self._run("stop")

    def restart(self) -> None:
        """Stop it, then start it again on the same ports with the same data."""
        self.stop()
        self.start()

    def wait_for_group_coordinator(self, timeout: float = 60.0) -> None:
        """Return once the broker coordinates consumer groups (see wait_for_group_coordinator)."""
        wait_for_group_coordinator(self.bootstrap, self.client_options, timeout)


@dataclass
class LocalKafkaCluster:
    """Three brokers of their own (deploy/local/kafka-cluster.sh): replication 3, min ISR 2,
    a three-voter KRaft quorum; a node killed for good leaves a working cluster."""

    state_dir: Path
    ports: tuple[int, int, int]
    controller_ports: tuple[int, int, int]

    @classmethod
    def on_free_ports(cls, state_dir: Path) -> LocalKafkaCluster:
        """A cluster in `state_dir` on six ports free right now."""
        ports = (free_port(), free_port(), free_port())
        return cls(state_dir, ports, (free_port(), free_port(), free_port()))

    @property
    def bootstrap(self) -> str:
        """The bootstrap list, every node in it (a client finds the cluster through any)."""
        return ",".join(f"127.0.0.1:{port}" for port in self.ports)

    def _run(self, *command: str) -> None:
        env = os.environ | {
            "KEEPWORD_KAFKA_CLUSTER_DIR": str(self.state_dir),
            "KEEPWORD_KAFKA_CLUSTER_PORTS": ",".join(map(str, self.ports)),
            "KEEPWORD_KAFKA_CLUSTER_CONTROLLER_PORTS": ",".join(map(str, self.controller_ports)),
        }
        done = subprocess.run(  # noqa: S603 - the project's own script
            ["/bin/bash", str(CLUSTER_SCRIPT), *command],
            env=env,
            capture_output=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"kafka-cluster.sh {' '.join(command)} failed ({done.returncode}):\n"
                f"{done.stderr.decode()[-3000:]}"
            )

    def start(self) -> None:
        """Start the three nodes and wait until they are ready, consumer groups included."""
        self._run("start")
        wait_for_group_coordinator(self.bootstrap, {}, 90.0)

    def stop(self) -> None:
        """Stop every node still running (SIGTERM); the data stays."""
        self._run("stop")

    def restart(self) -> None:
        """Stop every node, then start them again on the same ports with the same data."""
        self.stop()
        self.start()

    def kill(self, node: int) -> None:
        """SIGKILL node 1, 2 or 3, as when its machine dies."""
        self._run("kill", str(node))

    def wait_for_group_coordinator(self, timeout: float = 60.0) -> None:
        """Return once the cluster coordinates consumer groups."""
        wait_for_group_coordinator(self.bootstrap, {}, timeout)


def wait_for_group_coordinator(
    bootstrap: str, client_options: dict[str, Any], timeout: float = 60.0
) -> None:
    """Return once the broker(s) at `bootstrap` coordinate consumer groups.

    "Kafka Server started" comes before the offsets topic exists (on a new broker) or is
    loaded (after a restart); a consumer joining in between gets "coordinator not
    available" errors. Asking for a coordinator until one answers waits that out.
    """
    # A thread of its own: callers may be inside a running event loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _find_coordinator(bootstrap, client_options, timeout)).result()


async def _find_coordinator(bootstrap: str, client_options: dict[str, Any], within: float) -> None:
    deadline = time.monotonic() + within
    last: Exception | None = None
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=5000, **client_options
        )
        try:
            await admin.start()
            # Answers once the coordinator exists and has loaded its groups (error 0).
            for response in await admin.describe_consumer_groups([PROBE_GROUP]):
                codes = [group[0] for group in response.groups]
                if any(codes):
                    raise RuntimeError(f"describe groups: error codes {codes}")
            return
        except Exception as error:  # not yet: the offsets topic is being created or loaded
            last = error
        finally:
            await admin.close()
        await asyncio.sleep(0.3)
    raise TimeoutError(f"no group coordinator on {bootstrap} after {within}s: {last!r}")


@contextlib.contextmanager
def private_broker(state_dir: Path, partitions: int) -> Iterator[str]:
    """A broker of its own, on free ports, with the catalog's topics; stopped at the end.

    For benchmarks and tests whose consumer groups start at the earliest offset: on a shared
    broker with a long history they would first work through all of it.
    """
    broker = LocalKafka(state_dir, port=free_port(), controller_port=free_port())
    try:
        broker.start()
        asyncio.run(create_topics(broker.bootstrap, partitions))
        yield broker.bootstrap
    finally:
        # Also after a failed start: kafka.sh may have launched the JVM before giving up.
        try:
            broker.stop()
        except subprocess.CalledProcessError as error:
            print(
                f"stopping the private broker failed: {error.stderr.decode()[-500:]}",
                file=sys.stderr,
            )
