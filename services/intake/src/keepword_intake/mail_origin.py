"""Where an email was read, which decides what the door can vouch for about its sender."""

from __future__ import annotations

from enum import StrEnum


class MailOrigin(StrEnum):
    """Where an email was read: what that door can vouch for about its sender."""

    SMTP = "smtp"  # the listener, no SMTP AUTH: the From: header is only a claim
    SMTP_AUTH = "smtp_auth"  # the listener, after SMTP AUTH
    SMTP_RELAY = "smtp_relay"  # the listener, from a trusted relay (its Authentication-Results)
    MAILBOX_INBOX = "mailbox_inbox"  # the company's mailbox, INBOX: anyone can write there
    MAILBOX_SENT = "mailbox_sent"  # the company's own Sent folder: written by its staff
