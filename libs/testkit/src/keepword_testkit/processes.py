"""Start a service as a separate OS process, wait until it is healthy, stop or kill it."""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from keepword_platform.settings import ServiceSettings

SERVICES = ("intake", "commitments", "escalation", "notifier", "insights")


def members_per_process(service: str) -> int:
    """Members of each consumer group in a process of `service` started here: the setting the
    process inherits from this environment (`KEEPWORD_CONSUMERS_PER_PROCESS`), or the service's
    default."""
    if given := os.environ.get("KEEPWORD_CONSUMERS_PER_PROCESS"):
        return int(given)
    module = importlib.import_module(f"keepword_{service}.settings")
    [settings] = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ServiceSettings)
        and value.__module__ == module.__name__
    ]
    default: int = settings.model_fields["consumers_per_process"].default
    return default


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ServiceProcess:
    """A service running as its own process."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        """Base URL of its HTTP server."""
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        """Everything it has logged so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Return once /healthz says 200; raise with the log's tail if it never does."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.log()[-4000:]}"
                )
            try:
                answer = httpx.get(f"{self.url}/healthz", timeout=2.0)
                if answer.status_code == 200:
                    return
                last = f"{answer.status_code} {answer.text}"
            except httpx.HTTPError as error:
                last = repr(error)
            time.sleep(0.2)
        raise TimeoutError(
            f"{self.name} not healthy after {timeout}s ({last}):\n{self.log()[-4000:]}"
        )

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait for a clean exit; returns the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL: no clean-up, as in a crash."""
        self.process.kill()
        self.process.wait(timeout=30)


def start_service(
    name: str, *, log_dir: Path, env: dict[str, str] | None = None, port: int | None = None
) -> ServiceProcess:
    """Start `keepword_<name>` as a process with `env` added to this process's environment."""
    port = port or free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}-{port}.log"
    ports = {f"KEEPWORD_{name.upper()}_PORT": str(port)}
    if name == "intake":  # its SMTP listener too, so it never collides with a running stack
        ports["KEEPWORD_INTAKE_SMTP_PORT"] = str(free_port())
    full_env = os.environ | ports | (env or {})
    full_env.setdefault("KEEPWORD_LOG_FORMAT", "json")
    # Test processes run with the development link secret, http:// links and a plain-text
    # database, which a production deployment (the default) refuses.
    full_env.setdefault("KEEPWORD_ENV", "test")
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", f"keepword_{name}"],
            env=full_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    return ServiceProcess(name=name, port=port, process=process, log_path=log_path)


@contextlib.contextmanager
def running_service(
    name: str, *, log_dir: Path, env: dict[str, str] | None = None, timeout: float = 90.0
) -> Iterator[ServiceProcess]:
    """A service process, healthy, for the block; stopped (killed if it will not stop) after."""
    service = start_service(name, log_dir=log_dir, env=env)
    try:
        service.wait_healthy(timeout=timeout)
        yield service
    finally:
        try:
            service.stop()
        except subprocess.TimeoutExpired:
            service.kill()
