"""Liveness and readiness: is each consumer making progress, and what to do when it is not."""
