"""API keys, shared by every service with an API: made by `keepword apikey create` for scopes
(read, write, decide), stored as SHA-256 digests in the `auth` schema, checked in constant time,
revocable, optionally expiring; every route names the scope it needs (`dependencies`)."""

SCHEMA = "auth"
MIGRATIONS = ("keepword_platform.auth",)
