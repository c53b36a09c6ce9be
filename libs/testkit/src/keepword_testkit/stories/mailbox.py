"""The mail catcher's Maildir, read as it fills: the emails the notifier sent.

`make up` runs aiosmtpd's Mailbox handler into `.local/mail/`; the end-to-end tests run the same
handler into a folder of their own. One file per email lands in `new/`.

Emails are read as letters: an email about one thread is one letter; a digest that gathers
several threads' escalations for one manager is read as one letter per thread (its part of
the body, found by the thread's subject token), so that a story finds its own part, and the
option links in it, whether the email came alone or in a digest.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from keepword_events.thread_refs import thread_in_message_ids, thread_in_subject

_REFRESH_SECONDS = 0.2
_TOKEN = re.compile(r"\[#(thr-[0-9a-f]{16})\]")
_PART_NUMBER = re.compile(r"^\s*\d+\s+of\s+\d+:\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Letter:
    """One email as far as one thread is concerned."""

    email: EmailMessage
    thread_id: str | None
    to: frozenset[str]
    subject: str
    text: str
    html: str
    in_digest: bool = False


class Mailbox:
    """Emails that arrived in a Maildir since this object was made (older ones are ignored)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._seen: set[str] = set(self._names())
        self._letters: list[Letter] = []
        self._refreshed = 0.0

    def _names(self) -> list[str]:
        folder = self.root / "new"
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    def letters(self) -> list[Letter]:
        """Every letter received since the start, oldest file first."""
        now = time.monotonic()
        if now - self._refreshed >= _REFRESH_SECONDS:
            self._refreshed = now
            for name in self._names():
                if name in self._seen:
                    continue
                try:
                    raw = (self.root / "new" / name).read_bytes()
                except FileNotFoundError:  # a mail program moved it to cur/ meanwhile
                    continue
                self._seen.add(name)
                self._letters.extend(letters_of(message_from_bytes(raw, policy=policy.default)))
        return list(self._letters)

    def of_thread(self, thread_id: str) -> list[Letter]:
        """The letters about one thread."""
        return [letter for letter in self.letters() if letter.thread_id == thread_id]


def letters_of(email: EmailMessage) -> list[Letter]:
    """An email about one thread is one letter; a digest is one letter per thread it names."""
    to = frozenset(recipients(email))
    subject, text, html = subject_of(email), body_of(email), body_of(email, "html")
    thread = (
        str(email.get("X-Keepword-Thread") or "").strip()
        or thread_in_subject(subject)
        or thread_in_message_ids([str(email.get("Message-ID") or "")])
    )
    if thread or not _TOKEN.search(text):
        return [Letter(email, thread or None, to, subject, text, html)]
    return [
        Letter(
            email,
            thread_id,
            to,
            _PART_NUMBER.sub("", part_subject),
            part_text,
            _part(html, thread_id),
            in_digest=True,
        )
        for thread_id, part_subject, part_text in _parts(text)
    ]


def _parts(text: str) -> list[tuple[str, str, str]]:
    """(thread, the line naming it, its text) for each thread a digest names, in order."""
    firsts: list[tuple[int, str]] = []
    for match in _TOKEN.finditer(text):
        if match[1] not in {t for _, t in firsts}:
            firsts.append((match.start(), match[1]))
    found = []
    for index, (start, thread_id) in enumerate(firsts):
        end = firsts[index + 1][0] if index + 1 < len(firsts) else len(text)
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", start)
        line = text[line_start : line_end if line_end >= 0 else len(text)]
        found.append((thread_id, " ".join(line.split()), text[line_start:end]))
    return found


def _part(html: str, thread_id: str) -> str:
    """The stretch of a digest's HTML from the thread's token to the next thread's token."""
    start = html.find(f"[#{thread_id}]")
    if start < 0:
        return ""
    following = _TOKEN.search(html, start + len(thread_id) + 3)
    while following and following[1] == thread_id:
        following = _TOKEN.search(html, following.end())
    return html[start : following.start() if following else len(html)]


def recipients(email: EmailMessage) -> set[str]:
    """The addresses an email was sent to (To and Cc), lower case."""
    found: set[str] = set()
    for header in ("To", "Cc"):
        for value in email.get_all(header) or []:
            found.update(a.lower() for a in re.findall(r"[^\s<>,;\"]+@[^\s<>,;\"]+", str(value)))
    return found


def subject_of(email: EmailMessage) -> str:
    """The subject, on one line."""
    return " ".join(str(email.get("Subject") or "").split())


def body_of(email: EmailMessage, kind: str = "plain") -> str:
    """The plain-text (or "html") body."""
    part = email.get_body((kind,))
    return str(part.get_content()) if part is not None else ""
