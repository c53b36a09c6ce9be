"""The benchmark's SMTP server, run as its own process: aiosmtpd accepting every email (and
offering PIPELINING) and counting Message-IDs; on SIGTERM it writes the counts as JSON to the
file it was given.

    python bench/notifier/sink.py PORT COUNTS.json
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class Counting:
    """Accepts everything; remembers how often each Message-ID arrived. Offers PIPELINING
    (RFC 2920), as production servers do (Postfix, Exim, the big providers): aiosmtpd handles
    pipelined commands but does not say so unless told. aiosmtplib, the raw loops' client,
    never pipelines whatever the server offers."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        head = envelope.original_content.split(b"\r\n\r\n", 1)[0]
        found = _MESSAGE_ID.search(head)
        self.seen[found[1].decode() if found else "(none)"] += 1
        return "250 2.0.0 OK"


async def serve(port: int) -> Counter[str]:
    """Accept email on `port` until SIGTERM; returns the counts."""
    handler = Counting()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="bench-sink"), host="127.0.0.1", port=port
    )
    stopped = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopped.set)
    print("ready", flush=True)
    await stopped.wait()
    server.close()
    return handler.seen


if __name__ == "__main__":
    counted = asyncio.run(serve(int(sys.argv[1])))
    Path(sys.argv[2]).write_text(json.dumps(dict(counted)))
