"""API keys, shared by every service with an API: made by `keepword apikey create`, stored as
SHA-256 digests in the `auth` schema, checked in constant time, revocable."""

SCHEMA = "auth"
MIGRATIONS = ("keepword_platform.auth",)
