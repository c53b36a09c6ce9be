"""The `keepword` command against the real broker and database."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from keepword_events.topics import ALL_TOPICS
from keepword_ops.cli import app
from keepword_platform.auth.grants import DEFAULT_SCOPES, Grant
from keepword_platform.auth.store import authenticate
from typer.testing import CliRunner

runner = CliRunner()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, catalog_topics: str, database_url: str) -> None:
    monkeypatch.setenv("KEEPWORD_KAFKA_BOOTSTRAP", catalog_topics)
    monkeypatch.setenv("KEEPWORD_DATABASE_URL", database_url)


@pytest.mark.kafka
@pytest.mark.usefixtures("env")
def test_topics_describe_lists_the_catalog_with_partition_counts() -> None:
    created = runner.invoke(app, ["topics", "create"])
    described = runner.invoke(app, ["topics", "describe"])

    assert created.exit_code == 0, created.output
    assert described.exit_code == 0, described.output
    lines = {line.split()[0]: line.split()[1:] for line in described.output.splitlines()[1:]}
    assert set(lines) == set(ALL_TOPICS)
    assert {fields[0] for fields in lines.values()} == {"6"}


@pytest.mark.postgres
@pytest.mark.usefixtures("env")
def test_apikey_create_prints_the_key_once_and_stores_only_its_hash(database_url: str) -> None:
    name = f"test-{uuid.uuid4().hex[:8]}"

    created = runner.invoke(app, ["apikey", "create", name])

    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[0]
    assert key.startswith("kw_")
    secret = key.split("_", 2)[2]

    async def check() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            row = await conn.fetchrow("SELECT * FROM auth.api_keys WHERE name = $1", name)
            assert row is not None
            assert secret not in str(dict(row))
            assert bytes(row["digest"]) == hashlib.sha256(secret.encode()).digest()
            grant = await authenticate(conn, key)
            assert grant is not None
            assert (grant.name, grant.scopes, grant.expires_at) == (name, DEFAULT_SCOPES, None)
            assert await authenticate(conn, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
        finally:
            await conn.close()

    asyncio.run(check())

    listed = runner.invoke(app, ["apikey", "list"])
    assert name in listed.output
    assert secret not in listed.output
    assert "scopes read,write, never expires" in created.stderr


@pytest.mark.postgres
@pytest.mark.usefixtures("env")
def test_apikey_create_takes_scopes_a_manager_and_an_expiry(database_url: str) -> None:
    name = f"test-{uuid.uuid4().hex[:8]}"
    manager = "Morgan.Lead@brightline.example"

    created = runner.invoke(
        app,
        [
            "apikey",
            "create",
            name,
            "--scope",
            "decide",
            "--manager",
            manager,
            "--expires-in",
            "90d",
        ],
    )

    assert created.exit_code == 0, created.output
    assert "scopes decide, decides for morgan.lead@brightline.example" in created.stderr
    listed = runner.invoke(app, ["apikey", "list"]).stdout.splitlines()
    line = next(line for line in listed if f" {name} " in line)
    assert line.split()[2:4] == ["decide", "morgan.lead@brightline.example"]
    assert line.endswith("active")
    expires = datetime.strptime(" ".join(line.split()[-3:-1]), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    assert abs(expires - (datetime.now(UTC) + timedelta(days=90))) < timedelta(minutes=5)


@pytest.mark.postgres
@pytest.mark.usefixtures("env")
@pytest.mark.parametrize(
    ("options", "says"),
    [
        (["--scope", "admin"], "unknown scope admin"),
        (["--manager", "morgan.lead@brightline.example"], "add decide to --scope"),
        (["--expires", "2001-01-01"], "expire at once"),
        (["--expires-in", "soon"], "not a duration"),
        (["--expires-in", "1d", "--expires", "2999-01-01"], "not both"),
    ],
)
def test_apikey_create_refuses_what_it_cannot_mean(options: list[str], says: str) -> None:
    created = runner.invoke(app, ["apikey", "create", f"test-{uuid.uuid4().hex[:8]}", *options])

    assert created.exit_code != 0
    assert says in created.output


@pytest.mark.postgres
@pytest.mark.usefixtures("env")
def test_a_revoked_key_no_longer_authenticates(database_url: str) -> None:
    name = f"test-{uuid.uuid4().hex[:8]}"
    key = runner.invoke(app, ["apikey", "create", name]).stdout.strip().splitlines()[0]

    revoked = runner.invoke(app, ["apikey", "revoke", name])
    again = runner.invoke(app, ["apikey", "revoke", name])

    assert revoked.exit_code == 0, revoked.output
    assert again.exit_code == 1
    assert "no active API key" in again.output

    async def check() -> Grant | None:
        conn = await asyncpg.connect(database_url)
        try:
            return await authenticate(conn, key)
        finally:
            await conn.close()

    assert asyncio.run(check()) is None


@pytest.mark.postgres
@pytest.mark.usefixtures("env")
def test_two_active_keys_cannot_share_a_name() -> None:
    name = f"test-{uuid.uuid4().hex[:8]}"
    runner.invoke(app, ["apikey", "create", name])

    second = runner.invoke(app, ["apikey", "create", name])

    assert second.exit_code == 1
    assert "already named" in second.output


def test_schemas_check_passes_on_the_committed_files() -> None:
    result = runner.invoke(app, ["schemas", "export", "--check"])
    assert result.exit_code == 0, result.output


def test_unreachable_broker_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEEPWORD_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    result = runner.invoke(app, ["topics", "describe"])
    assert result.exit_code == 1
    assert "cannot reach Kafka at 127.0.0.1:1" in result.output
