"""The mailbox connector: intake reads the company's IMAP mailboxes (INBOX: customers' mail,
Sent: the staff's replies) and takes each message in once, as the SMTP listener does.

`imap` speaks IMAP, `position` holds the pure rules of where to read, `store` keeps positions
and set-aside messages in PostgreSQL, `reader` is one folder's loop, `connector` the extension.
"""

from .connector import mailbox_connector

__all__ = ["mailbox_connector"]
