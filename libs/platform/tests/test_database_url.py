"""A database URL shown in a message or a log never carries its password."""

from __future__ import annotations

import pytest
from keepword_platform.database import shown_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://keepword@127.0.0.1:5432/keepword",
            "postgresql://keepword@127.0.0.1:5432/keepword",
        ),
        (
            "postgresql://keepword:s3cr%40t@db.internal:5432/keepword?sslmode=verify-full",
            "postgresql://keepword:***@db.internal:5432/keepword?sslmode=verify-full",
        ),
        ("postgresql://:only-a-password@db/keepword", "postgresql://:***@db/keepword"),
    ],
)
def test_the_password_is_masked(url: str, shown: str) -> None:
    assert shown_url(url) == shown
