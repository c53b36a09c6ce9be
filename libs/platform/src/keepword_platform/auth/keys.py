"""API keys: how they look, how they are hashed and checked. Pure functions, no I/O.

A key reads `kw_<key id>_<secret>`. The key id finds the stored row; the secret is 32 random
bytes, so a plain SHA-256 digest is enough (there is nothing to brute-force) and comparing
digests in constant time leaks nothing about the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

_KEY = re.compile(r"^kw_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A freshly made key: the full text (shown once) and what is stored."""

    key_id: str
    text: str
    digest: bytes


def digest_of(secret: str) -> bytes:
    """What the database keeps of a secret."""
    return hashlib.sha256(secret.encode()).digest()


def new_api_key() -> NewApiKey:
    """A new random key."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewApiKey(key_id=key_id, text=f"kw_{key_id}_{secret}", digest=digest_of(secret))


def parse_api_key(text: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed key, or None."""
    match = _KEY.match(text.strip())
    return (match[1], match[2]) if match else None


def secret_matches(secret: str, stored_digest: bytes) -> bool:
    """Whether `secret` is the one whose digest was stored, compared in constant time."""
    return hmac.compare_digest(digest_of(secret), stored_digest)
