"""Hostile but well-formed input at intake's door, against the real broker and database: refused
with a problem document before anything reaches Kafka, or accepted in a form every service
downstream can handle. Nothing accepted is lost later."""

from __future__ import annotations

import asyncio
import smtplib
import uuid
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from keepword_events import MessageReceived
from keepword_intake import facts
from keepword_intake.publishing import SOURCE as INTAKE
from keepword_testkit.kafka_probe import TopicProbe
from keepword_testkit.processes import free_port

from .conftest import IntakeClient, running_intake
from .test_http_api import inbound, intake_bootstrap, promise

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

CONFIG = Path(__file__).resolve().parents[4] / "deploy" / "local" / "keepword.toml"


async def _refused(intake: IntakeClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    async with TopicProbe(intake_bootstrap(intake), source=INTAKE) as probe:
        answer = await intake.http.post(path, json=body, headers=intake.auth)
        records = await probe.records()
    assert records == []
    assert answer.headers["content-type"] == "application/problem+json", answer.text
    problem: dict[str, Any] = answer.json()
    assert problem["status"] == answer.status_code
    return problem


def _promise(**changes: Any) -> dict[str, Any]:
    return promise(f"t-{uuid.uuid4().hex[:12]}") | changes


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        (_promise(due_at="0001-01-01T00:00:00Z"), "due_at", "between 2000-01-01 and 2100-01-01"),
        (_promise(due_at="9999-12-31T23:59:59Z"), "due_at", "between 2000-01-01 and 2100-01-01"),
        (_promise(due_at="2099-01-01T00:00:00Z"), "due_at", "within ten years"),
        (_promise(due_at="2030-01-01T00:00:00"), "due_at", "timezone"),
        (_promise(text="by\x00Friday"), "text", "U+0000"),
    ],
    ids=["year-1", "year-9999", "in-73-years", "naive", "nul"],
)
async def test_a_promise_intake_cannot_keep_is_refused(
    intake: IntakeClient, body: dict[str, Any], field: str, says: str
) -> None:
    problem = await _refused(intake, "/v1/commitments", body)
    assert problem["status"] == 422
    assert problem["errors"][0]["field"] == field
    assert says in problem["errors"][0]["message"]


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"body": "Hello\x00there"}, "body", "U+0000"),
        ({"body": "Hello\x1b[2Jthere"}, "body", "U+001B"),
        ({"sent_at": "0001-01-01T00:00:00Z"}, "sent_at", "between 2000-01-01"),
        ({"subject": "Invoice \u202efdp.exe"}, "subject", "bidi override"),
        (
            {"customer": {"email": "dana@example.com", "name": "Dana\u202e"}},
            "customer.name",
            "bidi override",
        ),
        (
            {
                "customer": {"email": "jörg@example.com"},
                "author": {"email": "jörg@example.com", "role": "customer"},
            },
            "customer.email",
            "must be ASCII",
        ),
        (
            {
                "customer": {"email": "dana@exa\u202emple.com"},
                "author": {"email": "dana@exa\u202emple.com", "role": "customer"},
            },
            "customer.email",
            "not a valid international domain",
        ),
    ],
    ids=["nul", "escape", "year-1", "rlo-subject", "rlo-name", "utf8-local-part", "rlo-domain"],
)
async def test_a_message_downstream_could_not_handle_is_refused(
    intake: IntakeClient, changes: dict[str, Any], field: str, says: str
) -> None:
    problem = await _refused(intake, "/v1/messages", inbound(**changes))
    assert problem["status"] == 422
    assert problem["errors"][0]["field"] == field, problem
    assert says in problem["errors"][0]["message"]


async def test_an_international_domain_is_published_in_its_ascii_form(
    intake: IntakeClient,
) -> None:
    customer = {"email": "kunde@bücher.example", "name": "Kunde"}
    body = inbound(customer=customer, author=customer | {"role": "customer"})
    body["body"] = "Tab\tnewline\r\nfine."
    async with TopicProbe(intake_bootstrap(intake), source=INTAKE) as probe:
        answer = await intake.http.post("/v1/messages", json=body, headers=intake.auth)
        events = await probe.events()
    assert answer.status_code == 202, answer.text
    [event] = events
    assert isinstance(event.data, MessageReceived)
    assert event.data.customer.email == "kunde@xn--bcher-kva.example"
    assert event.data.body == "Tab\tnewline\r\nfine."


async def test_an_all_invalid_batch_gets_its_refusals_not_a_500(intake: IntakeClient) -> None:
    items = [inbound(body="a\x00b"), inbound(channel="fax"), inbound(sent_at="0001-01-01T00:00Z")]
    async with TopicProbe(intake_bootstrap(intake), source=INTAKE) as probe:
        answer = await intake.http.post(
            "/v1/messages:batch", json={"messages": items}, headers=intake.auth
        )
        records = await probe.records()
    assert records == []
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert (result["accepted"], result["rejected"]) == (0, 3)
    assert [r["status"] for r in result["results"]] == [422, 422, 422]
    assert [r["errors"][0]["field"] for r in result["results"]] == ["body", "channel", "sent_at"]


@pytest.fixture
async def small_events(catalog_topics: str, database_url: str) -> AsyncIterator[IntakeClient]:
    """Intake that takes events of at most 64 KiB, and bodies of up to 1 MiB."""
    async with running_intake(
        kafka_bootstrap=catalog_topics,
        database_url=database_url,
        smtp_listen_port=free_port(),
        max_body_bytes=1024 * 1024,
        max_event_bytes=64 * 1024,
    ) as client:
        yield client


async def test_an_event_over_the_record_limit_is_refused_once_and_for_all(
    small_events: IntakeClient,
) -> None:
    intake = small_events
    await intake.http.post("/v1/messages", json=inbound(), headers=intake.auth)
    producer = intake.app.state.intake.publisher.producer._producer
    assert producer is not None

    problem = await _refused(intake, "/v1/messages", inbound(body="x" * 100_000))
    assert problem["status"] == 413
    assert problem["limit_bytes"] == 64 * 1024
    assert problem["size_bytes"] > 100_000

    items = [inbound(), inbound(body="ü" * 40_000), inbound()]
    async with TopicProbe(intake_bootstrap(intake), source=INTAKE) as probe:
        answer = await intake.http.post(
            "/v1/messages:batch", json={"messages": items}, headers=intake.auth
        )
        events = await probe.events()
    assert answer.status_code == 200, answer.text
    assert [r["status"] for r in answer.json()["results"]] == [202, 413, 202]
    assert len(events) == 2
    # The producer was kept: an oversized event is the request's fault, not the broker's.
    assert intake.app.state.intake.publisher.producer._producer is producer


async def test_an_unexpected_error_is_a_counted_problem(
    intake: IntakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> MessageReceived:
        raise RuntimeError("a bug")

    monkeypatch.setattr(facts, "message_event", broken)
    answer = await intake.http.post("/v1/messages", json=inbound(), headers=intake.auth)
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 500
    metrics = (await intake.http.get("/metrics/")).text
    assert 'keepword_intake_requests_total{route="POST /v1/messages",status="500"}' in metrics


@pytest.mark.smtp
async def test_an_email_whose_event_is_too_large_is_refused_for_good(
    catalog_topics: str, database_url: str
) -> None:
    async with running_intake(
        kafka_bootstrap=catalog_topics,
        database_url=database_url,
        config=CONFIG,
        smtp_listen_port=free_port(),
        max_event_bytes=64 * 1024,
    ) as intake:
        email = EmailMessage()
        email["From"] = "Dana Whitfield <dana@example.com>"
        email["To"] = "support@brightline.example"
        email["Subject"] = f"Many files {uuid.uuid4()}"
        email.set_content("See attached.")
        for number in range(400):  # each recorded as metadata: ~300 bytes of event apiece
            email.add_attachment(
                b"x",
                maintype="application",
                subtype="octet-stream",
                filename=f"{number:04d}-" + "n" * 200 + ".bin",
            )
        port: int = intake.app.state.runtime.settings.smtp_listen_port

        def deliver() -> None:
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
                client.send_message(email)

        async with TopicProbe(intake_bootstrap(intake), source=INTAKE) as probe:
            with pytest.raises(smtplib.SMTPDataError) as refused:
                await asyncio.to_thread(deliver)
            records = await probe.records()
        assert records == []
        assert refused.value.smtp_code == 552
