"""Intake's HTTP API against the real broker and database: every endpoint, every error status,
and what reaches Kafka (or does not)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from keepword_events import (
    CommitmentAnswered,
    CommitmentCancelled,
    CommitmentDeclared,
    CommitmentFulfilled,
    MessageReceived,
    ReplySent,
    Verdict,
    topics,
)
from keepword_intake.publishing import SOURCE as INTAKE
from keepword_platform.auth.store import revoke_api_key
from keepword_testkit.kafka_probe import TopicProbe
from keepword_testkit.processes import free_port

from .conftest import IntakeClient

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def inbound(**changes: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "direction": "inbound",
        "channel": "web",
        "customer": {"email": "dana@example.com", "name": "Dana Whitfield"},
        "author": {"email": "dana@example.com", "name": "Dana Whitfield", "role": "customer"},
        "subject": "Where is my ranking report?",
        "body": f"I paid a deposit two weeks ago. ({uuid.uuid4()})",
        "deposit": {"amount": "1500.00", "currency": "USD"},
    }
    return message | changes


def reply(thread_id: str) -> dict[str, Any]:
    return {
        "direction": "outbound",
        "channel": "email",
        "thread_id": thread_id,
        "customer": {"email": "dana@example.com"},
        "author": {"email": "sam@brightline.example", "name": "Sam", "role": "sales"},
        "subject": "Re: Where is my ranking report?",
        "body": "We will respond within three hours.",
    }


def promise(thread_id: str) -> dict[str, Any]:
    return {
        "thread_id": thread_id,
        "made_by": {"email": "mia@brightline.example", "role": "marketing"},
        "kind": "outcome",
        "text": "Guaranteed first-page ranking in 30 days",
        "due_at": "2026-12-31T17:00:00-05:00",
    }


async def test_inbound_message_is_published_before_the_202(intake: IntakeClient) -> None:
    async with TopicProbe(intake_bootstrap(intake), source=INTAKE) as probe:
        answer = await intake.http.post("/v1/messages", json=inbound(), headers=intake.auth)
        events = await probe.events()

    assert answer.status_code == 202, answer.text
    accepted = answer.json()
    assert set(accepted) == {"thread_id", "event_id", "message_id"}
    [envelope] = events
    assert envelope.id == accepted["event_id"]
    assert isinstance(envelope.data, MessageReceived)
    assert envelope.data.thread_id == accepted["thread_id"]
    assert envelope.data.deposit is not None
    assert str(envelope.data.deposit.amount) == "1500.00"


async def test_a_staff_reply_joins_the_thread(intake: IntakeClient) -> None:
    first = await intake.http.post("/v1/messages", json=inbound(), headers=intake.auth)
    thread = first.json()["thread_id"]

    async with TopicProbe(intake_bootstrap(intake), source=INTAKE) as probe:
        answer = await intake.http.post("/v1/messages", json=reply(thread), headers=intake.auth)
        [envelope] = await probe.events()

    assert answer.status_code == 202
    assert answer.json()["thread_id"] == thread
    assert isinstance(envelope.data, ReplySent)
    assert envelope.data.thread_id == thread
    assert not envelope.data.automatic


async def test_commitment_then_answer_by_id_alone(intake: IntakeClient) -> None:
    thread = "thr-0123456789abcdef"
    async with TopicProbe(
        intake_bootstrap(intake), [topics.COMMITMENT_REQUESTS], source=INTAKE
    ) as probe:
        declared = await intake.http.post(
            "/v1/commitments", json=promise(thread), headers=intake.auth
        )
        commitment_id = declared.json()["commitment_id"]
        answered = await intake.http.post(
            f"/v1/commitments/{commitment_id}/answer",
            json={
                "answered_by": {"email": "pat@brightline.example", "role": "production"},
                "verdict": "countered",
                "note": "Page two in 60 days is feasible.",
                "feasible_due_at": "2027-02-28T17:00:00-05:00",
            },
            headers=intake.auth,
        )
        events = await probe.events()

    assert declared.status_code == 202, declared.text
    assert answered.status_code == 202, answered.text
    assert answered.json()["thread_id"] == thread
    declaration, answer = (e.data for e in events)
    assert isinstance(declaration, CommitmentDeclared)
    assert isinstance(answer, CommitmentAnswered)
    assert answer.commitment_id == declaration.commitment_id == commitment_id
    assert answer.verdict is Verdict.COUNTERED
    assert events[0].data.thread_id == events[1].data.thread_id == thread


async def test_renegotiation_fulfilment_and_cancellation(intake: IntakeClient) -> None:
    thread = f"thr-{uuid.uuid4().hex[:16]}"
    async with TopicProbe(
        intake_bootstrap(intake), [topics.COMMITMENT_REQUESTS], source=INTAKE
    ) as probe:
        first = (
            await intake.http.post("/v1/commitments", json=promise(thread), headers=intake.auth)
        ).json()
        renewed = await intake.http.post(
            "/v1/commitments",
            json=promise(thread)
            | {"text": "Page two in 60 days", "supersedes": first["commitment_id"]},
            headers=intake.auth,
        )
        second = renewed.json()["commitment_id"]
        fulfilled = await intake.http.post(
            f"/v1/commitments/{second}/fulfilment",
            json={
                "reported_by": {"email": "pat@brightline.example", "role": "production"},
                "kept": True,
                "note": "Page two reached.",
            },
            headers=intake.auth,
        )
        cancelled = await intake.http.post(
            f"/v1/commitments/{first['commitment_id']}/cancel",
            json={
                "cancelled_by": {"email": "morgan@brightline.example", "role": "management"},
                "reason": "Deposit refunded.",
            },
            headers=intake.auth,
        )
        by_customer = await intake.http.post(
            f"/v1/commitments/{second}/cancel",
            json={
                "cancelled_by": {"email": "dana@example.com", "role": "customer"},
                "reason": "I changed my mind.",
            },
            headers=intake.auth,
        )
        events = [e.data for e in await probe.events()]

    assert [renewed.status_code, fulfilled.status_code, cancelled.status_code] == [202, 202, 202]
    assert by_customer.status_code == 422
    _first, redeclared, kept, withdrawn = events
    assert isinstance(redeclared, CommitmentDeclared)
    assert redeclared.supersedes == first["commitment_id"]
    assert isinstance(kept, CommitmentFulfilled)
    assert (kept.commitment_id, kept.kept, kept.thread_id) == (second, True, thread)
    assert isinstance(withdrawn, CommitmentCancelled)
    assert withdrawn.reason == "Deposit refunded."


async def test_answering_an_unknown_commitment_needs_its_thread(intake: IntakeClient) -> None:
    body = {"answered_by": {"email": "pat@brightline.example", "role": "production"}}
    body["verdict"] = "confirmed"  # type: ignore[assignment]
    unknown = await intake.http.post(
        "/v1/commitments/cmt-from-another-tool/answer", json=body, headers=intake.auth
    )
    with_thread = await intake.http.post(
        "/v1/commitments/cmt-from-another-tool/answer",
        json=body | {"thread_id": "thr-00000000000000aa"},
        headers=intake.auth,
    )

    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert with_thread.status_code == 202


async def _assert_nothing_published(
    intake: IntakeClient, method: str, path: str, **request: Any
) -> dict[str, Any]:
    async with TopicProbe(intake_bootstrap(intake), source=INTAKE) as probe:
        answer = await intake.http.request(method, path, **request)
        records = await probe.records()
    assert records == []
    assert answer.headers["content-type"] == "application/problem+json", answer.text
    problem: dict[str, Any] = answer.json()
    assert {"type", "title", "status", "detail"} <= set(problem)
    assert problem["status"] == answer.status_code
    return problem | {"_headers": dict(answer.headers)}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer kw_000000000000_" + "A" * 43},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer not-a-key"},
    ],
    ids=["missing", "unknown", "wrong-scheme", "malformed"],
)
async def test_401_without_a_valid_key(intake: IntakeClient, headers: dict[str, str]) -> None:
    problem = await _assert_nothing_published(
        intake, "POST", "/v1/messages", json=inbound(), headers=headers
    )
    assert problem["status"] == 401
    assert problem["_headers"]["www-authenticate"] == "Bearer"


async def test_401_with_a_revoked_key(catalog_topics: str, database_url: str) -> None:
    from .conftest import running_intake

    async with running_intake(
        kafka_bootstrap=catalog_topics,
        database_url=database_url,
        api_key_cache_seconds=0,
        smtp_listen_port=free_port(),
    ) as intake:
        await revoke_api_key(intake.app.state.runtime.db, intake.key_name)
        problem = await _assert_nothing_published(
            intake, "POST", "/v1/messages", json=inbound(), headers=intake.auth
        )
    assert problem["status"] == 401


async def test_413_when_the_declared_body_is_too_large(intake: IntakeClient) -> None:
    problem = await _assert_nothing_published(
        intake, "POST", "/v1/messages", json=inbound(body="x" * 5000), headers=intake.auth
    )
    assert problem["status"] == 413


async def test_413_when_a_chunked_body_grows_too_large(intake: IntakeClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"direction": "inbound", "body": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    problem = await _assert_nothing_published(
        intake,
        "POST",
        "/v1/messages",
        content=chunks(),
        headers=intake.auth | {"Content-Type": "application/json"},
    )
    assert problem["status"] == 413


async def test_415_when_the_body_is_not_json(intake: IntakeClient) -> None:
    problem = await _assert_nothing_published(
        intake,
        "POST",
        "/v1/messages",
        content=b"direction=inbound",
        headers=intake.auth | {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert problem["status"] == 415


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (inbound(subject="Hello\r\nBcc: everyone@example.com"), "subject"),
        (inbound(customer={"email": "dana@example.com", "name": "Dana\x00"}), "customer.name"),
        (inbound(channel="carrier-pigeon"), "channel"),
        (inbound(customer={"email": "not-an-address"}), "customer.email"),
        (inbound(sent_at="last tuesday"), "sent_at"),
        (inbound(sent_at="2026-11-02T09:30:00"), "sent_at"),
        (inbound(deposit={"amount": "-5", "currency": "USD"}), "deposit.amount"),
        (inbound(author={"email": "sam@b.example", "role": "sales"}), "(body)"),
        (inbound(unexpected="field"), "unexpected"),
    ],
    ids=[
        "crlf-subject",
        "nul-name",
        "channel",
        "email",
        "date-words",
        "naive-date",
        "negative-deposit",
        "staff-inbound",
        "unknown-field",
    ],
)
async def test_422_names_the_failing_field(
    intake: IntakeClient, body: dict[str, Any], field: str
) -> None:
    problem = await _assert_nothing_published(
        intake, "POST", "/v1/messages", json=body, headers=intake.auth
    )
    assert problem["status"] == 422
    assert field in {error["field"] for error in problem["errors"]}, problem["errors"]


async def test_422_for_malformed_json(intake: IntakeClient) -> None:
    problem = await _assert_nothing_published(
        intake,
        "POST",
        "/v1/messages",
        content=b'{"direction": ',
        headers=intake.auth | {"Content-Type": "application/json"},
    )
    assert problem["status"] == 422


async def test_422_for_a_counter_offer_without_terms(intake: IntakeClient) -> None:
    problem = await _assert_nothing_published(
        intake,
        "POST",
        "/v1/commitments/cmt-x/answer",
        json={
            "answered_by": {"email": "pat@brightline.example", "role": "production"},
            "verdict": "countered",
            "thread_id": "thr-00000000000000aa",
        },
        headers=intake.auth,
    )
    assert "feasible_due_at" in problem["errors"][0]["message"]


async def test_a_retried_idempotency_key_publishes_once(intake: IntakeClient) -> None:
    key = {"Idempotency-Key": f"retry-{uuid.uuid4()}"}
    body = inbound()
    async with TopicProbe(intake_bootstrap(intake), source=INTAKE) as probe:
        first = await intake.http.post("/v1/messages", json=body, headers=intake.auth | key)
        second = await intake.http.post("/v1/messages", json=body, headers=intake.auth | key)
        records = await probe.records()

    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert len(records) == 1


async def test_an_idempotency_key_reused_for_another_body_is_refused(intake: IntakeClient) -> None:
    key = {"Idempotency-Key": f"reuse-{uuid.uuid4()}"}
    await intake.http.post("/v1/messages", json=inbound(), headers=intake.auth | key)

    problem = await _assert_nothing_published(
        intake, "POST", "/v1/messages", json=inbound(), headers=intake.auth | key
    )
    assert problem["status"] == 422
    assert "Idempotency-Key" in problem["detail"]


async def test_batch_accepts_and_refuses_item_by_item(intake: IntakeClient) -> None:
    items = [inbound(), inbound(channel="fax"), inbound(channel="phone")]
    async with TopicProbe(intake_bootstrap(intake), source=INTAKE) as probe:
        answer = await intake.http.post(
            "/v1/messages:batch", json={"messages": items}, headers=intake.auth
        )
        events = await probe.events()

    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert (result["accepted"], result["rejected"]) == (2, 1)
    assert [r["status"] for r in result["results"]] == [202, 422, 202]
    assert result["results"][1]["errors"][0]["field"] == "channel"
    assert sorted(e.id for e in events) == sorted(
        r["event_id"] for r in result["results"] if r["status"] == 202
    )


async def test_batch_over_1000_is_refused(intake: IntakeClient) -> None:
    problem = await _assert_nothing_published(
        intake,
        "POST",
        "/v1/messages:batch",
        json={"messages": [{}] * 1001},
        headers=intake.auth,
    )
    assert problem["status"] == 422


async def test_healthz_and_metrics(intake: IntakeClient) -> None:
    await intake.http.post("/v1/messages", json=inbound(), headers=intake.auth)
    health = await intake.http.get("/healthz")
    metrics = await intake.http.get("/metrics/")

    assert health.status_code == 200
    assert health.json()["checks"] == {"kafka": "ok", "database": "ok", "producer": "ok"}
    assert 'keepword_intake_requests_total{route="POST /v1/messages",status="202"}' in metrics.text
    assert "keepword_intake_publish_seconds_bucket" in metrics.text
    await intake.http.post("/v1/messages", json=inbound())
    metrics = await intake.http.get("/metrics/")
    assert 'keepword_http_problems_total{reason="unauthorized"}' in metrics.text


async def test_openapi_documents_the_api(intake: IntakeClient) -> None:
    spec = (await intake.http.get("/openapi.json")).json()
    assert {"/v1/messages", "/v1/messages:batch", "/v1/commitments"} <= set(spec["paths"])
    assert "/v1/commitments/{commitment_id}/answer" in spec["paths"]


def intake_bootstrap(intake: IntakeClient) -> str:
    bootstrap: str = intake.app.state.runtime.settings.kafka_bootstrap
    return bootstrap
