"""The one error the CLI reports as a message rather than a traceback."""

from __future__ import annotations


class OpsError(RuntimeError):
    """A command failed in a way the operator can act on."""
