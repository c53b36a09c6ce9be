"""Helpers for tests that run Keepword's services as real processes."""
