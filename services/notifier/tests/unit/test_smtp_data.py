"""The DATA bytes the sender prepares itself are the ones aiosmtplib's `sendmail` would send."""

from __future__ import annotations

import pytest
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings
from keepword_notifier.smtp import _crlf_lines, _dot_stuffed


@pytest.mark.parametrize(
    "data",
    [
        b"Subject: x\r\n\r\nbody\r\n",
        b"Subject: x\r\n\r\nno final line break",
        b".leading dot\r\n.\r\n..two\r\nend\r\n",
        b"bare\nline feeds\nand\rcarriage returns\r",
        b"mixed\r\n.dot after CRLF\n.dot after LF\r.dot after CR",
        b"",
        b"\r\n",
    ],
)
def test_data_is_sent_as_aiosmtplib_would_send_it(data: bytes) -> None:
    lines = normalize_message_line_endings(data)

    assert _crlf_lines(data) == lines  # what SIZE counts
    assert _dot_stuffed(_crlf_lines(data)) == PERIOD_REGEX.sub(b"..", lines) + b".\r\n"
