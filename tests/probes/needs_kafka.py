"""A probe run by test_missing_servers_fail.py in a child pytest: it needs the broker."""

from __future__ import annotations


def test_needs_the_broker(kafka_bootstrap: str) -> None:
    assert kafka_bootstrap


def test_needs_the_database(database_url: str) -> None:
    assert database_url
