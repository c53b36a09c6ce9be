"""What logs may say about a recipient: a reference, never the address."""

from __future__ import annotations

import hashlib


def recipient_ref(address: str) -> str:
    """A short, stable stand-in for `address` in logs: the first 12 hex digits of the SHA-256
    of the lower-cased address. Ops can find one person's lines (hash the address they are
    asked about) while the logs themselves hold no address."""
    return hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()[:12]
