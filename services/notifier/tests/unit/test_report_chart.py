"""The weekly report's chart: a small PNG, the same bytes for the same figures, carried inline
beside the HTML under the Content-ID its <img> names; a resent email is the same bytes."""

from __future__ import annotations

import struct
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

from keepword_notifier.compose import compose, to_wire
from keepword_notifier.report_chart import HEIGHT_PX, WIDTH_PX, chart_png
from keepword_notifier.sendlog import Send

BARS = [
    {"name": "Promises kept", "now": 12, "before": 9},
    {"name": "Promises broken", "now": 2, "before": 2},
    {"name": "Refunds", "now": 0, "before": 0},
]
CID = "chart.2026-W44.report-5d41402abc4b2a76@keepword"
AT = datetime(2026, 11, 2, 13, 5, tzinfo=UTC)


def test_the_chart_is_a_small_png_and_the_same_for_the_same_figures() -> None:
    png = chart_png(BARS, "2026-W44")

    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert (width, height) == (WIDTH_PX, HEIGHT_PX)
    assert len(png) < 40_000
    assert chart_png(BARS, "2026-W44") == png
    assert chart_png([*BARS[:2], {"name": "Refunds", "now": 1, "before": 0}], "2026-W44") != png


def _send(png: bytes) -> Send:
    return Send(
        idempotency_key="evt-9:morgan.lead@brightline.example:weekly_report_manager",
        notification_id="ntf-00000000000000000009",
        source_event_id="evt-9",
        thread_id="report-5d41402abc4b2a76",
        template="weekly_report_manager",
        recipient="morgan.lead@brightline.example",
        recipient_role="management",
        message_id="<kw.report-5d41402abc4b2a76.000000000009@brightline.example>",
        subject="Your weekly report: how we kept our word in week 2026-W44",
        body_text="Hello,\n",
        body_html=f'<p>Hello,</p><p><img src="cid:{CID}" alt="chart"></p>\n',
        inline_cid=CID,
        inline_png=png,
    )


def _wire(send: Send) -> bytes:
    message = compose(
        send, sender_name="Brightline Digital", sender_address="support@brightline.example", at=AT
    )
    return to_wire(message)


def test_the_chart_travels_inline_beside_the_html() -> None:
    png = chart_png(BARS, "2026-W44")
    wire = _wire(_send(png))

    parsed = message_from_bytes(wire, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    kinds = [part.get_content_type() for part in parsed.walk()]
    assert kinds == [
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
    ]
    [image] = [part for part in parsed.walk() if part.get_content_type() == "image/png"]
    assert image["Content-ID"] == f"<{CID}>"
    assert image.get_content_disposition() == "inline"
    assert image.get_content() == png
    html = parsed.get_body(("html",))
    assert html is not None
    assert f'src="cid:{CID}"' in html.get_content()
    # Sent again (a sender killed after the server's "250"): the same bytes.
    assert _wire(_send(png)) == wire


def test_an_email_without_a_chart_has_no_related_part() -> None:
    wire = _wire(replace(_send(b""), inline_cid=None, inline_png=None))

    parsed = message_from_bytes(wire, policy=policy.default)
    assert "multipart/related" not in [part.get_content_type() for part in parsed.walk()]
