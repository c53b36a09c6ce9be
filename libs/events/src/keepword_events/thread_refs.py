"""How a thread is named where email carries it: thread ids, subject tokens, Message-IDs.

The notifier writes these into the emails it sends, and intake reads them back from replies, so
both sides share this one definition.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

THREAD_ID = re.compile(r"thr-[0-9a-f]{16}")
_SUBJECT_TOKEN = re.compile(r"\[#(thr-[0-9a-f]{16})\]")
_MESSAGE_ID = re.compile(r"<kw\.(thr-[0-9a-f]{16})\.[A-Za-z0-9._-]+@[^<>\s]+>")


def new_thread_id() -> str:
    """A fresh thread id: `thr-` and 16 hex digits."""
    # os.urandom directly: `secrets.token_hex` goes through SystemRandom, several times slower,
    # and intake makes one of these for every new thread.
    return f"thr-{os.urandom(8).hex()}"


def subject_token(thread_id: str) -> str:
    """The token put in the subject of the emails we send, e.g. `[#thr-0123456789abcdef]`."""
    return f"[#{thread_id}]"


def thread_in_subject(subject: str | None) -> str | None:
    """The thread named by a subject token, if the subject carries one."""
    match = _SUBJECT_TOKEN.search(subject or "")
    return match[1] if match else None


def keepword_message_id(thread_id: str, unique: str, domain: str) -> str:
    """A Message-ID for an email we send that names its thread: `<kw.THREAD.UNIQUE@DOMAIN>`."""
    return f"<kw.{thread_id}.{unique}@{domain}>"


def thread_in_message_ids(message_ids: Iterable[str]) -> str | None:
    """The thread named by the first of our own Message-IDs among `message_ids`, if any."""
    for message_id in message_ids:
        match = _MESSAGE_ID.search(message_id)
        if match:
            return match[1]
    return None
