"""Read the emails in the local mail catcher (a Maildir), decoded.

python -m keepword_testkit.read_mail                   # the 20 newest: time, to, subject
python -m keepword_testkit.read_mail --thread thr-…    # one thread's emails
python -m keepword_testkit.read_mail --last 3 --body   # with their plain-text bodies
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

from .stories.mailbox import body_of, subject_of


def main(argv: Sequence[str] | None = None) -> int:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--maildir", default=".local/mail", type=Path)
    parser.add_argument("--thread", help="only the emails that name this thread")
    parser.add_argument("--last", type=int, default=20, help="how many of the newest")
    parser.add_argument("--body", action="store_true", help="print each plain-text body too")
    args = parser.parse_args(argv)
    folder = args.maildir / "new"
    if not folder.is_dir():
        parser.error(f"no Maildir at {args.maildir} (the catcher writes to .local/mail/new/)")
    files = sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime)
    chosen: list[EmailMessage] = []
    for path in reversed(files):  # newest first, until enough were found
        raw = path.read_bytes()
        if args.thread and args.thread.encode() not in raw:
            continue
        chosen.append(message_from_bytes(raw, policy=policy.default))
        if len(chosen) == args.last:
            break
    for email in reversed(chosen):
        sent = parsedate_to_datetime(str(email["Date"])) if email["Date"] else None
        when = f"{sent.astimezone():%H:%M:%S}" if sent else "--:--:--"
        print(f"{when}  {email['To']}\n          {subject_of(email)}")
        if args.body:
            print("\n" + body_of(email).strip() + "\n" + "-" * 72)
    if not chosen:
        print("no emails" + (f" naming {args.thread}" if args.thread else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
