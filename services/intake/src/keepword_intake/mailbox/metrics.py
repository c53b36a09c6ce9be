"""Prometheus metrics of the mailbox connector (intake's /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

MESSAGES = Counter(
    "keepword_intake_mailbox_messages_total",
    "Messages read from a mailbox folder, by outcome (accepted, duplicate, set_aside, gone).",
    ["mailbox", "folder", "outcome"],
)
LAG = Gauge(
    "keepword_intake_mailbox_lag",
    "Messages in the folder above the last UID taken in, when the folder was last looked at.",
    ["mailbox", "folder"],
)
RECONNECTS = Counter(
    "keepword_intake_mailbox_reconnects_total",
    "Times the connector lost its IMAP session, broker or database and started again.",
    ["mailbox", "folder"],
)
CONNECTED = Gauge(
    "keepword_intake_mailbox_connected",
    "1 while the folder's IMAP session is open.",
    ["mailbox", "folder"],
)
