"""POST /v1/messages answers the same with the fast path as through the FastAPI route alone.

Two intakes on the same broker and database, one without `MessageFastPath`: every request below
gets the same status, headers that matter and body (ids apart) from both.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from keepword_intake.app import create_app
from keepword_intake.fast_path import MessageFastPath
from keepword_intake.settings import IntakeSettings
from keepword_platform.auth.grants import Scope
from keepword_platform.auth.store import create_api_key
from keepword_testkit.processes import free_port

from .test_http_api import inbound

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

IDS = ("thread_id", "event_id", "message_id")


@asynccontextmanager
async def _client(
    catalog_topics: str, database_url: str, *, fast: bool
) -> AsyncIterator[httpx.AsyncClient]:
    settings = IntakeSettings(
        kafka_bootstrap=catalog_topics,
        database_url=database_url,
        smtp_listen_port=free_port(),
        max_body_bytes=4096,
    )
    app = create_app(settings)
    if not fast:
        fast_path: object = MessageFastPath
        app.user_middleware = [m for m in app.user_middleware if m.cls is not fast_path]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
            yield http


@pytest.fixture
async def both(
    catalog_topics: str, database_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    async with (
        _client(catalog_topics, database_url, fast=True) as fast,
        _client(catalog_topics, database_url, fast=False) as route,
    ):
        yield fast, route


async def _keys(database_url: str) -> dict[str, str]:
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        write = await create_api_key(conn, f"fast-{uuid.uuid4().hex[:8]}")
        read = await create_api_key(conn, f"fast-r-{uuid.uuid4().hex[:8]}", [Scope.READ])
    finally:
        await conn.close()
    return {"write": write.text, "read": read.text}


def _shape(answer: httpx.Response) -> tuple[int, str | None, Any]:
    body: Any = answer.json()
    if isinstance(body, dict):
        body = {k: ("<id>" if k in IDS else v) for k, v in body.items()}
    return answer.status_code, answer.headers.get("content-type"), body


async def _both(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], **request: Any
) -> tuple[Any, Any]:
    fast, route = clients
    return (
        _shape(await fast.post("/v1/messages", **request)),
        _shape(await route.post("/v1/messages", **request)),
    )


async def test_every_answer_is_the_routes_own(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient], database_url: str
) -> None:
    keys = await _keys(database_url)
    write = {"Authorization": f"Bearer {keys['write']}"}
    cases: list[dict[str, Any]] = [
        {"json": inbound(), "headers": write},  # accepted: 202 and the ids
        {"json": inbound()},  # no key: 401
        {"json": inbound(), "headers": {"Authorization": "Bearer kw_unknown"}},  # 401
        {"json": inbound(), "headers": {"Authorization": f"Basic {keys['write']}"}},  # 401
        {"json": inbound(), "headers": {"Authorization": f"Bearer {keys['read']}"}},  # 403
        {"json": inbound(direction="sideways"), "headers": write},  # 422, field errors
        {"json": inbound(author={"email": "x@y.z", "role": "sales"}), "headers": write},  # 422
        {"json": inbound(extra=1), "headers": write},  # 422: an unknown field
        {"content": b'{"direction": ', "headers": write | {"content-type": "application/json"}},
        {"content": b"\xff\xfe", "headers": write | {"content-type": "application/json"}},
        {"content": b"[]", "headers": write | {"content-type": "application/json"}},
        {"json": inbound(), "headers": write | {"Idempotency-Key": "with space"}},  # 422
        {"json": inbound(body="x" * 5000), "headers": write},  # 413 (the guard)
    ]
    for request in cases:
        fast, route = await _both(both, **request)
        assert fast == route, json.dumps(request, default=str)[:200]


async def test_an_idempotency_key_replays_across_both_paths(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient], database_url: str
) -> None:
    keys = await _keys(database_url)
    fast, route = both
    headers = {"Authorization": f"Bearer {keys['write']}", "Idempotency-Key": str(uuid.uuid4())}
    body = inbound()
    first = await fast.post("/v1/messages", json=body, headers=headers)
    again = await route.post("/v1/messages", json=body, headers=headers)
    once_more = await fast.post("/v1/messages", json=body, headers=headers)
    assert first.status_code == again.status_code == once_more.status_code == 202
    assert first.json() == again.json() == once_more.json()
    assert again.headers["Idempotent-Replayed"] == once_more.headers["Idempotent-Replayed"]
    other = await fast.post("/v1/messages", json=inbound(), headers=headers)
    reused = await route.post("/v1/messages", json=inbound(), headers=headers)
    assert _shape(other) == _shape(reused)
    assert other.status_code == 422
