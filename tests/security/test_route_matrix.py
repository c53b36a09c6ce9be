"""Every HTTP route of every service, and the key it needs: none, or one made for its scope.

The table below names each route once. The test reads the routes of each service's ASGI app
(`app.routes`, what the app really serves), so a route added without a row here fails it. Each
row is then sent three ways against the apps running in-process on the real PostgreSQL and
Kafka: without a key (401), with a key made for other scopes (403), with the right one (what
the route itself answers). A route that needs no key says what it answers without one.

Open, on purpose: health (`/healthz`, `/healthz/ready`, `/healthz/live`: probes carry no
credentials), `/metrics` (Prometheus scrapes it; no personal data), the OpenAPI document and
its pages (the shape of the API, not its data), escalation's decision pages
(`/decisions/{token}`) and intake's answer, promise and call pages (`/answers/`,
`/promises/`, `/calls/{token}`): the signed, single-use link is their credential; so is the
rating link of intake's rating pages (`/feedback/{token}`). Insights' dashboard pages
(`/dashboard...`) take the session its signed sign-in link opens, or a key made for `read`:
without either they answer a 401 page (tested below with each credential).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from keepword_commitments.app import create_app as commitments_app
from keepword_commitments.settings import CommitmentsSettings
from keepword_escalation.app import create_app as escalation_app
from keepword_escalation.settings import EscalationSettings
from keepword_insights.app import create_app as insights_app
from keepword_insights.settings import InsightsSettings
from keepword_intake.app import create_app as intake_app
from keepword_intake.settings import IntakeSettings
from keepword_notifier.app import create_app as notifier_app
from keepword_notifier.settings import NotifierSettings
from keepword_platform.auth.grants import Scope
from keepword_platform.auth.store import create_api_key
from keepword_platform.dashboard_links import dashboard_url, sign_dashboard
from keepword_platform.problems import PROBLEM_JSON
from keepword_platform.registry import installed_services
from keepword_testkit.api_keys import bearer, new_key
from keepword_testkit.processes import free_port
from starlette.routing import Mount, Route

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

MORGAN = "morgan.lead@brightline.example"
COMPANY = f"""
[company]
name = "Brightline Digital"
support_address = "support@brightline.example"
timezone = "America/New_York"

[[people]]
email = "{MORGAN}"
name = "Morgan Reyes"
role = "management"
level = 1
"""

OPEN = None  # a route that needs no key


@dataclass(frozen=True)
class Row:
    """One route: what it needs, how to call it, what it answers when let through."""

    service: str
    method: str  # "*" for a mounted app
    path: str  # as the app declares it
    needs: Scope | None
    answers: int  # with the right key (or with none, for an open route)
    url: str = ""  # the path to call, when the declared one has parameters
    body: Any = None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.service} {self.method} {self.path}"


def _open_common(service: str, ready: int = 200) -> list[Row]:
    return [
        Row(service, "GET", "/healthz", OPEN, ready),
        Row(service, "GET", "/healthz/ready", OPEN, ready),
        Row(service, "GET", "/healthz/live", OPEN, 200),
        Row(service, "*", "/metrics", OPEN, 200, url="/metrics/"),
        Row(service, "GET", "/openapi.json", OPEN, 200),
        Row(service, "GET", "/docs", OPEN, 200),
        Row(service, "GET", "/docs/oauth2-redirect", OPEN, 200),
        Row(service, "GET", "/redoc", OPEN, 200),
    ]


READ, WRITE, DECIDE = Scope.READ, Scope.WRITE, Scope.DECIDE
NONE_ID = "matrix-none"
DECISION = {"option": "phone_call", "decided_by": MORGAN}

ROWS: list[Row] = [
    *_open_common("intake"),
    # Intake's POSTs: an empty object is let through to validation (422).
    Row("intake", "POST", "/v1/messages", WRITE, 422, body={}),
    Row("intake", "POST", "/v1/messages:batch", WRITE, 422, body={}),
    Row("intake", "POST", "/v1/commitments", WRITE, 422, body={}),
    *(
        Row("intake", "POST", f"/v1/commitments/{{commitment_id}}/{verb}", WRITE, 422, body={})
        for verb in ("answer", "fulfilment", "cancel")
    ),
    *_open_common("commitments"),
    Row("commitments", "GET", "/v1/commitments", READ, 200, params={"thread_id": NONE_ID}),
    Row("commitments", "GET", "/v1/commitments/{commitment_id}", READ, 404),
    *_open_common("escalation"),
    Row("escalation", "GET", "/v1/escalations", READ, 200),
    Row("escalation", "GET", "/v1/threads/{thread_id}", READ, 404),
    # Let through, the decision finds no such escalation (404).
    Row(
        "escalation",
        "POST",
        "/v1/escalations/{escalation_id}/decisions",
        DECIDE,
        404,
        body=DECISION,
    ),
    # The signed link is the credential: a forged one is refused by the page itself (400).
    Row("escalation", "GET", "/decisions/{token}", OPEN, 400),
    # (a POST without the page's CSRF token is refused first: 403)
    Row("escalation", "POST", "/decisions/{token}", OPEN, 403),
    # Intake's answer pages: the signed link is the credential; a forged one is refused (400).
    Row("intake", "GET", "/answers/{token}", OPEN, 400),
    Row("intake", "POST", "/answers/{token}", OPEN, 400),
    Row("intake", "GET", "/promises/{token}", OPEN, 400),
    Row("intake", "POST", "/promises/{token}", OPEN, 400),
    Row("intake", "GET", "/calls/{token}", OPEN, 400),
    Row("intake", "POST", "/calls/{token}", OPEN, 400),
    # The customer's rating pages, the same way (not single use: a rating may change a while).
    Row("intake", "GET", "/feedback/{token}", OPEN, 400),
    Row("intake", "POST", "/feedback/{token}", OPEN, 400),
    *_open_common("notifier"),
    *_open_common("insights"),
    Row("insights", "GET", "/v1/indices", READ, 200),
    Row("insights", "GET", "/v1/indices.csv", READ, 200),
    # The dashboard: a session (from the signed link) or a read key; without, a 401 page.
    Row("insights", "GET", "/dashboard", OPEN, 401),
    Row("insights", "GET", "/dashboard/threads", OPEN, 401, params={"cell": "reply:all"}),
    Row("insights", "GET", "/dashboard/sign-in/{token}", OPEN, 400),
]
DASHBOARD = [r for r in ROWS if r.path in ("/dashboard", "/dashboard/threads")]


def declared_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route `app` serves; "*" for a mounted app."""
    found: set[tuple[str, str]] = set()
    # Included routers are resolved lazily: read the routes as the OpenAPI document does.
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount):
            found.add(("*", route.path))
        elif isinstance(route, APIRoute | Route) and context.path and context.methods:
            found |= {(method, context.path) for method in context.methods - {"HEAD"}}
        else:
            raise AssertionError(f"a route of an unknown kind: {route!r}")
    return found


def _url(row: Row) -> str:
    if row.url:
        return row.url
    path = row.path
    for part in ("{commitment_id}", "{thread_id}", "{escalation_id}"):
        path = path.replace(part, NONE_ID)
    return path.replace("{token}", "forged.token")


@dataclass
class Running:
    """The services in-process, and keys of every kind."""

    clients: dict[str, httpx.AsyncClient]
    apps: dict[str, FastAPI]
    keys: dict[str, str]

    async def call(self, row: Row, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.clients[row.service].request(
            "GET" if row.method == "*" else row.method,
            _url(row),
            json=row.body,
            params=row.params,
            headers=headers or {},
        )

    def wrong_key_for(self, scope: Scope) -> str:
        """A valid key made for every scope but `scope`."""
        return self.keys[{READ: "write+decide", WRITE: "read+decide", DECIDE: "read+write"}[scope]]

    def right_key_for(self, scope: Scope) -> str:
        return self.keys[{READ: "read", WRITE: "write", DECIDE: "decide"}[scope]]


@pytest.fixture(scope="module")
async def running(
    catalog_topics: str,
    fresh_kafka: str,
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Running]:
    company = tmp_path_factory.mktemp("matrix") / "company.toml"
    company.write_text(COMPANY)
    common: dict[str, Any] = {"database_url": database_url, "config": company}
    factories: dict[str, Callable[[], FastAPI]] = {
        "intake": lambda: intake_app(
            IntakeSettings(kafka_bootstrap=catalog_topics, smtp_listen_port=free_port(), **common)
        ),
        # The consuming services read their inputs from the start: the private broker.
        "commitments": lambda: commitments_app(
            CommitmentsSettings(kafka_bootstrap=fresh_kafka, **common)
        ),
        "escalation": lambda: escalation_app(
            EscalationSettings(kafka_bootstrap=fresh_kafka, **common)
        ),
        "notifier": lambda: notifier_app(
            NotifierSettings(kafka_bootstrap=fresh_kafka, smtp_port=free_port(), **common)
        ),
        "insights": lambda: insights_app(InsightsSettings(kafka_bootstrap=fresh_kafka, **common)),
    }
    async with AsyncExitStack() as stack:
        apps, clients = {}, {}
        for name, factory in factories.items():
            app = apps[name] = factory()
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            clients[name] = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url=f"http://{name}")
            )
        made = {
            "read": ([READ], None),
            "write": ([WRITE], None),
            "decide": ([DECIDE], MORGAN),
            "write+decide": ([WRITE, DECIDE], MORGAN),
            "read+decide": ([READ, DECIDE], MORGAN),
            "read+write": ([READ, WRITE], None),
        }
        keys = {
            kind: await new_key(database_url, scopes, manager=manager)
            for kind, (scopes, manager) in made.items()
        }
        yield Running(clients=clients, apps=apps, keys=keys)


async def test_the_table_names_every_route_of_every_service(running: Running) -> None:
    assert set(running.apps) == set(installed_services()), "a service without rows here"
    for service, app in running.apps.items():
        served = declared_routes(app)
        tabled = {(row.method, row.path) for row in ROWS if row.service == service}
        assert served - tabled == set(), f"{service}: routes without a rule in ROWS"
        assert tabled - served == set(), f"{service}: rows for routes it does not serve"


def _is_problem(answer: httpx.Response, status: int) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM_JSON), answer.headers
    assert answer.json()["status"] == status


@pytest.mark.parametrize("row", [r for r in ROWS if r.needs], ids=lambda r: r.name)
async def test_a_route_with_a_scope_lets_in_only_a_key_made_for_it(
    running: Running, row: Row
) -> None:
    assert row.needs is not None
    without = await running.call(row)
    unknown = await running.call(row, bearer("kw_000000000000_" + "A" * 43))
    wrong = await running.call(row, bearer(running.wrong_key_for(row.needs)))
    right = await running.call(row, bearer(running.right_key_for(row.needs)))

    _is_problem(without, 401)
    assert without.headers["www-authenticate"] == "Bearer"
    _is_problem(unknown, 401)
    _is_problem(wrong, 403)
    assert wrong.json()["required_scope"] == row.needs.value
    assert right.status_code == row.answers, right.text


@pytest.mark.parametrize("row", [r for r in ROWS if not r.needs], ids=lambda r: r.name)
async def test_an_open_route_answers_without_a_key(running: Running, row: Row) -> None:
    answer = await running.call(row)
    assert answer.status_code == row.answers, answer.text[:500]


async def test_the_dashboard_lets_in_a_managers_session_or_a_read_key(running: Running) -> None:
    insights = running.apps["insights"].state.runtime.settings
    link = dashboard_url("", sign_dashboard(insights.link_secret, manager=MORGAN))
    transport = httpx.ASGITransport(app=running.apps["insights"])
    async with httpx.AsyncClient(transport=transport, base_url="http://insights") as browser:
        signed_in = await browser.get(link)
        assert signed_in.status_code == 303
        for row in DASHBOARD:
            with_session = await browser.get(_url(row), params=row.params)
            with_key = await running.call(row, bearer(running.right_key_for(READ)))
            wrong_key = await running.call(row, bearer(running.wrong_key_for(READ)))
            assert with_session.status_code == 200, row.name
            assert with_key.status_code == 200, row.name
            assert wrong_key.status_code == 403, row.name


@pytest.mark.parametrize("service", ["intake", "commitments", "escalation"])
async def test_an_expired_key_is_refused_saying_so(
    running: Running, database_url: str, service: str
) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        key = await create_api_key(
            conn,
            f"expired-{uuid.uuid4().hex[:8]}",
            set(Scope),
            manager=MORGAN,
            expires_at=datetime.now(UTC) - timedelta(seconds=1),
        )
    finally:
        await conn.close()
    row = next(r for r in ROWS if r.service == service and r.needs)

    answer = await running.call(row, bearer(key.text))

    _is_problem(answer, 401)
    assert "expired" in answer.json()["detail"]


async def test_a_keys_use_is_recorded(running: Running, database_url: str) -> None:
    key = await new_key(database_url, [READ])
    key_id = key.split("_")[1]
    row = next(r for r in ROWS if r.service == "commitments" and r.needs)

    for _ in range(3):
        assert (await running.call(row, bearer(key))).status_code == row.answers
    conn = await asyncpg.connect(database_url)
    try:
        used = None
        for _ in range(100):  # written by a task of its own, after the answer
            used = await conn.fetchval(
                "SELECT last_used_at FROM auth.api_keys WHERE key_id = $1", key_id
            )
            if used is not None:
                break
            await asyncio.sleep(0.05)
    finally:
        await conn.close()
    assert used is not None
