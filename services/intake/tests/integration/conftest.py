"""Intake running in-process (its real lifespan) against the real broker and database."""

from __future__ import annotations

import asyncio
import smtplib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from keepword_intake.app import create_app
from keepword_intake.settings import IntakeSettings
from keepword_platform.auth.store import create_api_key
from keepword_testkit.processes import free_port


@dataclass
class IntakeClient:
    """An HTTP client of a running intake, with a valid API key."""

    http: httpx.AsyncClient
    app: FastAPI
    key: str
    key_name: str

    @property
    def auth(self) -> dict[str, str]:
        """Headers that authenticate."""
        return {"Authorization": f"Bearer {self.key}"}


@asynccontextmanager
async def running_intake(**overrides: Any) -> AsyncIterator[IntakeClient]:
    """Start intake with `overrides` of its settings; yields a client with a fresh API key."""
    settings = IntakeSettings(**overrides)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        pool = app.state.runtime.db
        name = f"test-{uuid.uuid4().hex[:10]}"
        key = await create_api_key(pool, name)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
            yield IntakeClient(http=http, app=app, key=key.text, key_name=name)


@pytest.fixture
async def intake(catalog_topics: str, database_url: str) -> AsyncIterator[IntakeClient]:
    """Intake on the shared test broker and database, with a 4 KiB body limit for 413 tests."""
    async with running_intake(
        kafka_bootstrap=catalog_topics,
        database_url=database_url,
        smtp_listen_port=free_port(),  # never the 2525 of a stack left running by `make up`
        max_body_bytes=4096,
        max_batch_body_bytes=1024 * 1024,
    ) as client:
        yield client


async def send_mail(
    intake: IntakeClient, message: EmailMessage | bytes, *, login: tuple[str, str] | None = None
) -> None:
    """Deliver to intake's SMTP listener with smtplib (after SMTP AUTH with `login`), off the
    event loop intake runs on; bytes go as they are (a signed email must stay byte for byte)."""
    port: int = intake.app.state.runtime.settings.smtp_listen_port

    def deliver() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            if login is not None:
                client.login(*login)
            if isinstance(message, bytes):
                client.sendmail("sender@example.com", ["support@brightline.example"], message)
            else:
                client.send_message(message)

    await asyncio.to_thread(deliver)
