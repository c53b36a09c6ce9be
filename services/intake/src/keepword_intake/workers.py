"""Several HTTP worker processes on one port: a small pre-fork supervisor.

The supervisor forks `KEEPWORD_INTAKE_WORKERS` workers, each listening on the port with its own
SO_REUSEPORT socket, so the kernel spreads new connections evenly over them (with one socket
shared, the first worker to wake accepts every connection waiting: a burst of four batch
connections often all went to one worker). The supervisor listens on nothing and stays out of
the requests' way: it starts no event loop and no thread, so forking from it is safe. Worker 0
is the primary: only it runs the SMTP listener, the mailbox connector and the idempotency-key
purge, which must not run twice.
A worker that ends on its own is forked again under its index (so a primary is always back);
one that fails to start ends the whole service with uvicorn's start-up failure code (3), as a
single process would. SIGTERM or SIGINT is passed on to every worker; the supervisor waits for
their graceful shutdown and then ends by the same signal.

Metrics use prometheus_client's multiprocess mode: each worker writes its samples to files in
PROMETHEUS_MULTIPROC_DIR (a fresh directory unless set), and /metrics on any worker answers the
sum over all of them, so a scrape does not depend on which worker it reaches.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType

from .settings import IntakeSettings

METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"
STARTUP_FAILURE = 3  # uvicorn's exit code for a server that could not start
PR_SET_PDEATHSIG = 1  # prctl(2)
RESTART_PAUSE_SECONDS = 1.0  # between a worker's end and its next fork: no busy restart loop

Worker = Callable[[int], None]
"""Runs worker `index` until it is told to stop."""


def port_is_free(host: str, port: int) -> bool:
    """Whether nothing listens on `port` yet. Checked once, before the workers start: sockets
    with SO_REUSEPORT would otherwise share the port with another intake of the same user
    (one left running, say) instead of failing to start."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no owner
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `port` beside the other workers' (SO_REUSEPORT); a port taken by
    another program ends the worker as a failed start.

    Not listening yet: uvicorn listens once the app has started, and only a listening socket
    is given connections, so none waits on a worker that is still starting (or restarting).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        print(f"intake cannot listen on {host}:{port}: {error}", file=sys.stderr)
        raise SystemExit(STARTUP_FAILURE) from error
    return sock


@contextlib.contextmanager
def metrics_directory() -> Iterator[str]:
    """PROMETHEUS_MULTIPROC_DIR for the workers; a fresh one (removed after) unless set.

    Must be in the environment before prometheus_client is imported, in the supervisor too.
    """
    given = os.environ.get(METRICS_DIR)
    if given:
        yield given
        return
    made = tempfile.mkdtemp(prefix="keepword-intake-metrics-")
    os.environ[METRICS_DIR] = made
    try:
        yield made
    finally:
        shutil.rmtree(made, ignore_errors=True)


@dataclass
class Supervisor:
    """Keeps `count` workers running until SIGTERM/SIGINT."""

    count: int
    worker: Worker
    children: dict[int, int] = field(default_factory=dict)  # pid -> worker index
    stopping: int | None = None  # the signal that asked us to stop

    def run(self) -> int:
        """Start the workers, restart any that ends; return the exit code once all have ended
        (0 after SIGTERM/SIGINT: `stopping` says which)."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        code = 0
        for index in range(self.count):
            self._fork(index)
        while self.children:
            try:
                pid, status = os.wait()
            except InterruptedError:  # pragma: no cover - PEP 475 retries; kept for clarity
                continue
            index = self.children.pop(pid, -1)
            if index < 0:
                continue
            _forget_metrics_of(pid)
            if self.stopping is not None:
                continue
            exit_code = os.waitstatus_to_exitcode(status)
            if exit_code == STARTUP_FAILURE:
                print(f"intake worker {index} failed to start; stopping", file=sys.stderr)
                code = STARTUP_FAILURE
                self._stop(signal.SIGTERM, None)
                continue
            print(f"intake worker {index} ended ({exit_code}); starting it again", file=sys.stderr)
            time.sleep(RESTART_PAUSE_SECONDS)
            if self.stopping is None:
                self._fork(index)
        return code

    def _fork(self, index: int) -> None:
        supervisor = os.getpid()
        pid = os.fork()
        if pid == 0:  # the worker: never return into the supervisor's code
            code = 1
            try:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, signal.SIG_DFL)
                _end_with_parent(supervisor)
                self.worker(index)
                code = 0
            except SystemExit as ended:
                code = ended.code if isinstance(ended.code, int) else 1
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.children[pid] = index

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        if self.stopping is None:
            self.stopping = signum
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def _end_with_parent(supervisor: int) -> None:
    # A supervisor killed outright (SIGKILL) cannot pass SIGTERM on: Linux sends it for us, so
    # no worker is left serving the port on its own.
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != supervisor:  # it died before the request took effect
        raise SystemExit(0)


def _forget_metrics_of(pid: int) -> None:
    # A gauge's "live" samples of a dead worker must not be summed any more.
    from prometheus_client import multiprocess

    with contextlib.suppress(OSError):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def main() -> None:
    """Run intake: one process, or a supervisor and `settings.workers` workers."""
    settings = IntakeSettings()
    if settings.workers == 1:
        from .app import serve_one

        serve_one(settings)
        return
    if "prometheus_client" in sys.modules and METRICS_DIR not in os.environ:
        # Imported in single-process mode already (the console script imports the app first):
        # start again, so that every process counts in multiprocess mode from its first import.
        os.execv(sys.executable, [sys.executable, "-m", "keepword_intake", *sys.argv[1:]])  # noqa: S606
    if not port_is_free(settings.http_host, settings.http_port):
        print(f"intake: port {settings.http_port} is in use", file=sys.stderr)
        raise SystemExit(STARTUP_FAILURE)
    with metrics_directory():
        from .app import serve_worker  # after METRICS_DIR is set

        supervisor = Supervisor(settings.workers, lambda index: serve_worker(settings, index))
        code = supervisor.run()
    if supervisor.stopping is not None and code == 0:
        # Ended "killed by SIGTERM", as a single process ends after its graceful shutdown.
        signal.signal(supervisor.stopping, signal.SIG_DFL)
        signal.raise_signal(supervisor.stopping)
    raise SystemExit(code)
