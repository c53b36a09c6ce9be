"""Hostile but well-formed input through the front doors, against the four services as processes.

Each hostile input is either refused at the door (a 4xx problem, nothing published) or accepted
and then handled by every service. Either way no service may stop: after each one, a normal
thread (an angry customer, which opens an escalation at once) flows through all four services
within seconds — the escalation opened, an email sent — and every service is still live. At the
end, nothing that was accepted sits in a dead-letter topic.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import smtplib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from keepword_events import Envelope, EscalationOpened, Event, NotificationSent
from keepword_events.topics import CATALOG, dead_letter_topic
from keepword_ops.lag import consumer_lag, over
from keepword_platform.auth.store import create_api_key
from keepword_testkit.kafka_probe import TopicProbe
from keepword_testkit.stories import EventFeed

from .conftest import RunningSystem

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.smtp]

SUPPORT = "support@brightline.example"  # deploy/local/demo.toml
MIA = "mia.marketing@brightline.example"
MAX_BODY = 200_000  # characters: the contract's limit for a message body
# Long enough for the escalation (opened at once) and the acknowledgement (after 5 s in the demo
# configuration) on a loaded two-core machine; a stopped service never gets there.
FLOW_SECONDS = 60.0
# No digest window: each module test's normal thread has its email at once, not up to 10 s on.
NOTIFIER_DIGEST_SECONDS = 0

# The services' consumer groups (the broker is shared with other tests' groups).
SERVICE_GROUPS = [
    f"keepword-{name}" for name in ("commitments", "escalation", "notifier", "insights")
]

_numbers = itertools.count(1)


@dataclass
class Doors:
    """Intake's HTTP API and SMTP listener, and what comes out of the system."""

    system: RunningSystem
    http: httpx.AsyncClient
    feed: EventFeed
    dead_letters: TopicProbe

    async def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        # Not `json=`: httpx escapes every non-ASCII character, which makes 200,000 emoji
        # four times the request body limit. A client sends UTF-8.
        content = json.dumps(body, ensure_ascii=False).encode()
        return await self.http.post(
            path, content=content, headers={"Content-Type": "application/json"}
        )

    async def mail(self, message: EmailMessage) -> None:
        def deliver() -> None:
            port = self.system.intake_smtp_port
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
                client.send_message(message)

        await asyncio.to_thread(deliver)


@pytest_asyncio.fixture(scope="module")
async def doors(system: RunningSystem) -> AsyncIterator[Doors]:
    conn = await asyncpg.connect(system.database_url)
    try:
        key = await create_api_key(conn, "hostile")
    finally:
        await conn.close()
    intake = system.services["intake"].url
    headers = {"Authorization": f"Bearer {key.text}"}
    dlq = [dead_letter_topic(spec.name) for spec in CATALOG]
    async with (
        httpx.AsyncClient(base_url=intake, headers=headers, timeout=120) as http,
        EventFeed(system.bootstrap) as feed,
        TopicProbe(system.bootstrap, dlq) as dead_letters,
    ):
        yield Doors(system, http, feed, dead_letters)


def customer(label: str) -> dict[str, Any]:
    number = next(_numbers)
    return {"email": f"{label}.{number}@example.org", "name": f"Customer {number}"}


def inbound(body: str, **extra: Any) -> dict[str, Any]:
    who = extra.pop("customer", None) or customer("hostile")
    return {
        "direction": "inbound",
        "channel": "web",
        "customer": who,
        "author": {"email": who["email"], "name": who["name"], "role": "customer"},
        "body": body,
        **extra,
    }


async def a_normal_thread_flows(doors: Doors) -> None:
    """An angry customer writes; the escalation opens and an email goes out, within seconds."""
    angry = inbound(
        "This is the third time I am writing. Your team promised our shop would be back online "
        "on Monday and it is still down. This is unacceptable. I want a refund.",
        subject="Still offline",
    )
    answer = await doors.post("/v1/messages", angry)
    assert answer.status_code == 202, answer.text
    thread = answer.json()["thread_id"]

    def of_thread(kind: type[Event]) -> Callable[[Envelope[Event]], bool]:
        return lambda e: isinstance(e.data, kind) and e.data.thread_id == thread

    try:
        await doors.feed.wait_for(
            of_thread(EscalationOpened), within=FLOW_SECONDS, what="escalation opened"
        )
        await doors.feed.wait_for(
            of_thread(NotificationSent), within=FLOW_SECONDS, what="email sent"
        )
    except TimeoutError as error:
        pytest.fail(f"{error}: a normal thread stopped flowing\n{doors.system.troubles()}")
    for name, service in doors.system.services.items():
        live = await doors.http.get(f"{service.url}/healthz/live", timeout=10)
        assert live.status_code == 200, f"{name}: {live.text}"


async def test_a_normal_thread_flows_before_anything_hostile(doors: Doors) -> None:
    await a_normal_thread_flows(doors)


async def test_a_body_of_200000_emoji(doors: Doors) -> None:
    answer = await doors.post("/v1/messages", inbound("😡" * MAX_BODY, subject="😡😡😡"))

    assert answer.status_code == 202, answer.text
    await a_normal_thread_flows(doors)


async def test_a_body_of_a_single_word_at_the_limit_and_a_mebibyte_of_it_by_email(
    doors: Doors,
) -> None:
    answer = await doors.post("/v1/messages", inbound("a" * MAX_BODY))
    assert answer.status_code == 202, answer.text
    email = EmailMessage()
    email["From"] = "Word Person <word.person@example.org>"
    email["To"] = SUPPORT
    email["Subject"] = "one word"
    email.set_content("b" * 1024 * 1024)
    await doors.mail(email)

    await a_normal_thread_flows(doors)


async def test_deeply_nested_html_by_email(doors: Doors) -> None:
    depth = 100_000
    markup = "<div><blockquote>" * depth + "Where is my order?" + "</blockquote></div>" * depth
    email = EmailMessage()
    email["From"] = "Nested Person <nested.person@example.org>"
    email["To"] = SUPPORT
    email["Subject"] = "nested"
    email.set_content(markup, subtype="html")
    await doors.mail(email)

    await a_normal_thread_flows(doors)


async def test_a_body_of_only_quote_markers(doors: Doors) -> None:
    answer = await doors.post("/v1/messages", inbound(">" * MAX_BODY))
    assert answer.status_code == 202, answer.text
    lines = inbound("\n".join("> " * 40 for _ in range(MAX_BODY // 81)))
    assert (await doors.post("/v1/messages", lines)).status_code == 202
    email = EmailMessage()
    email["From"] = "Quote Person <quote.person@example.org>"
    email["To"] = SUPPORT
    email["Subject"] = "quotes"
    email.set_content("\n".join(">" * n for n in range(1, 2000)))
    await doors.mail(email)

    await a_normal_thread_flows(doors)


@pytest.mark.parametrize(
    "due_at", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1900-01-01T00:00:00+14:00"]
)
async def test_dates_at_the_edges_of_the_calendar_are_refused_at_the_door(
    doors: Doors, due_at: str
) -> None:
    thread = (await doors.post("/v1/messages", inbound("Hello"))).json()["thread_id"]
    promise = {
        "thread_id": thread,
        "made_by": {"email": "sam.sales@brightline.example", "name": "Sam", "role": "sales"},
        "kind": "delivery",
        "text": "Your site goes live then",
        "due_at": due_at,
    }
    message = inbound("Hello", sent_at=due_at)

    refused_promise = await doors.post("/v1/commitments", promise)
    refused_message = await doors.post("/v1/messages", message)

    for answer in (refused_promise, refused_message):
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
    await a_normal_thread_flows(doors)


async def test_every_text_field_at_its_maximum_size(doors: Doors) -> None:
    who = {"email": f"{'m' * 60}.{next(_numbers)}@example.org", "name": "N" * 200}
    message = inbound(
        "Why? " * (MAX_BODY // 5),
        customer={**who, "phone": "+" + "1" * 39},
        subject="S" * 300,
        deposit={"amount": "999999999.99", "currency": "USD"},
    )
    answer = await doors.post("/v1/messages", message)
    assert answer.status_code == 202, answer.text
    thread = answer.json()["thread_id"]
    promise = {
        "thread_id": thread,
        "made_by": {
            "email": "mia.marketing@brightline.example",
            "name": "M" * 200,
            "role": "marketing",
        },
        "kind": "outcome",
        "text": "T" * 5000,
        "due_at": "2030-01-01T00:00:00Z",
        "customer": {**who, "phone": "+" + "1" * 39},
    }
    declared = await doors.post("/v1/commitments", promise)
    assert declared.status_code == 202, declared.text
    commitment = declared.json()["commitment_id"]
    countered = await doors.post(
        f"/v1/commitments/{commitment}/answer",
        {
            "answered_by": {
                "email": "pat.production@brightline.example",
                "name": "P" * 200,
                "role": "production",
            },
            "verdict": "countered",
            "note": "N" * 5000,
            "feasible_due_at": "2031-01-01T00:00:00Z",
        },
    )
    assert countered.status_code == 202, countered.text

    await a_normal_thread_flows(doors)


async def test_nothing_accepted_was_dead_lettered(doors: Doors) -> None:
    # Last in the module: once every service has read all there is, whatever was set aside is
    # in a dead-letter topic.
    for _ in range(2 * int(FLOW_SECONDS)):
        behind = over(await consumer_lag(doors.system.bootstrap, SERVICE_GROUPS), 0)
        if not behind:
            break
        await asyncio.sleep(1)
    assert not behind, f"services still behind: {behind}"
    letters = await doors.dead_letters.records()
    # The session's broker also carries what other tests wrote on purpose before this module (a
    # notifier test smuggles an unreadable message onto it), which a service reading the topics
    # from the start for the first time sets aside: only this module's threads count here.
    ours = {envelope.data.thread_id for envelope in doors.feed.events}

    reasons = [
        (r.topic, dict(r.headers).get("keepword-dlq-reason", b"").decode()[:300])
        for r in letters
        if (r.key or b"").decode("utf-8", "replace") in ours
    ]
    assert not reasons
    assert doors.feed.undecodable == 0  # nothing published during the module was unreadable
