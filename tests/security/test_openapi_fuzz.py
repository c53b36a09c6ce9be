"""Each service's OpenAPI document tells the truth, shown by a property-based fuzzer.

Schemathesis reads a service's document (served in-process by the ASGI app, which runs its real
lifespan against the real PostgreSQL and Kafka) and sends, per operation, requests the document
calls valid and requests it calls invalid, with a valid API key. A response fails when it is a
5xx, an error that is not `application/problem+json`, a status or content type the document does
not list, a body or header that breaks its documented schema, a valid request refused or an
invalid one accepted. Generation is derandomized: the same code sends the same requests.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg
import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from keepword_commitments.app import create_app as commitments_app
from keepword_commitments.settings import CommitmentsSettings
from keepword_escalation.app import create_app as escalation_app
from keepword_escalation.settings import EscalationSettings
from keepword_events.checks import EARLIEST, LATEST
from keepword_intake.app import create_app as intake_app
from keepword_intake.settings import IntakeSettings
from keepword_platform.auth.grants import Scope
from keepword_platform.auth.store import create_api_key
from keepword_platform.problems import PROBLEM_JSON
from keepword_testkit.processes import free_port
from schemathesis import GenerationMode
from schemathesis.checks import CheckContext
from schemathesis.core.failures import FailureGroup
from schemathesis.python import asgi
from schemathesis.specs.openapi import checks

pytestmark = [
    pytest.mark.kafka,
    pytest.mark.postgres,
    # Hypothesis frowns on schemathesis' own use of `random` in its strategies; the warning would
    # also print the strategy's arguments, the API key among them.
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]

EXAMPLES_PER_MODE = 15  # per operation, once with valid and once with invalid requests


def _times_in_bounds() -> st.SearchStrategy[str]:
    """RFC 3339 times within the contract's documented bounds (`formatMinimum`,
    `formatExclusiveMaximum`, in UTC), written in any offset.

    Schemathesis reads neither bound, only the rough pattern beside them (a year 20xx as
    written), so by itself it sent 2000-01-01T00:00:00+02:02: 1999 in UTC, below the documented
    minimum, and rightly refused.
    """
    utc = st.datetimes(
        min_value=EARLIEST.replace(tzinfo=None), max_value=LATEST.replace(tzinfo=None)
    ).filter(lambda t: t < LATEST.replace(tzinfo=None))
    offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
        lambda minutes: timezone(timedelta(minutes=minutes))
    )
    return (
        st.tuples(utc, offsets)
        .map(lambda pair: pair[0].replace(tzinfo=UTC).astimezone(pair[1]).isoformat())
        .filter(lambda written: written.startswith("20"))
    )


schemathesis.openapi.format("date-time", _times_in_bounds())

MANAGER = "morgan.lead@brightline.example"
COMPANY = f"""
[company]
name = "Brightline Digital"
support_address = "support@brightline.example"
timezone = "America/New_York"

[[people]]
email = "{MANAGER}"
name = "Morgan Reyes"
role = "management"
level = 1
"""


def problem_json(_ctx: CheckContext, response: schemathesis.Response, _case: Any) -> bool:
    """Every error answer is an RFC 9457 problem document."""
    if response.status_code >= 400:
        content_type = response.headers.get("content-type", [""])[0].split(";")[0].strip()
        assert content_type == PROBLEM_JSON, (
            f"a {response.status_code} answered as {content_type!r}, not {PROBLEM_JSON}"
        )
    return True


CHECKS = [
    schemathesis.checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.positive_data_acceptance,
    checks.negative_data_rejection,
    checks.missing_required_header,
    problem_json,
]


@dataclass
class FuzzReport:
    """What one service's run sent and found."""

    operations: int = 0
    examples: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    samples: dict[str, str] = field(default_factory=dict)

    def record(self, operation: str, group: FailureGroup) -> None:
        for failure in group.exceptions:
            kind = f"{operation}: {failure.title}"
            self.failures[kind] += 1
            self.samples.setdefault(kind, group.message[:1500])


Case = schemathesis.Case[Any]


def unique_idempotency_key(case: Case) -> None:
    """Make a generated Idempotency-Key unique (still valid): one key reused with another
    request is rightly refused (422), and derandomized runs would reuse keys."""
    key = case.headers.get("Idempotency-Key") if case.headers else None
    if key is not None:
        case.headers["Idempotency-Key"] = key[:168] + uuid.uuid4().hex


def fuzz(schema: schemathesis.BaseSchema, key: str) -> FuzzReport:
    """Send each operation its examples, valid and invalid; count what failed, by kind."""
    report = FuzzReport()
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid one raises here
        report.operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz_operation(operation, mode, {"Authorization": f"Bearer {key}"}, report)
    return report


def fuzz_operation(
    operation: schemathesis.APIOperation[Any, Any, Any, Any],
    mode: GenerationMode,
    auth: dict[str, str],
    report: FuzzReport,
) -> None:
    """Send one operation its examples of one kind (valid or invalid requests)."""

    @hypothesis.settings(
        max_examples=EXAMPLES_PER_MODE,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(operation.as_strategy(generation_mode=mode, headers=auth))
    def send(case: Case) -> None:
        report.examples += 1
        if mode is GenerationMode.POSITIVE:
            unique_idempotency_key(case)
        response = case.call()
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            report.record(operation.label, group)

    try:
        send()
    except hypothesis.errors.Unsatisfiable:
        # Nothing to make invalid: an operation without parameters or body.
        assert mode is GenerationMode.NEGATIVE, operation.label


async def _new_key(database_url: str) -> str:
    """A key with every scope, deciding for the configured manager."""
    conn = await asyncpg.connect(database_url)
    try:
        name = f"fuzz-{uuid.uuid4().hex[:10]}"
        return (await create_api_key(conn, name, set(Scope), manager=MANAGER)).text
    finally:
        await conn.close()


@pytest.fixture
def company(tmp_path: Path) -> Path:
    path = tmp_path / "company.toml"
    path.write_text(COMPANY)
    return path


AppFactory = Callable[[], FastAPI]


@pytest.fixture
def apps(
    catalog_topics: str, fresh_kafka: str, database_url: str, company: Path
) -> dict[str, AppFactory]:
    """How to build each service against the test servers (escalation and commitments read
    their inputs from the start, so they get the private broker)."""
    return {
        "intake": lambda: intake_app(
            IntakeSettings(
                kafka_bootstrap=catalog_topics,
                database_url=database_url,
                smtp_listen_port=free_port(),
                config=company,
            )
        ),
        "escalation": lambda: escalation_app(
            EscalationSettings(
                kafka_bootstrap=fresh_kafka, database_url=database_url, config=company
            )
        ),
        "commitments": lambda: commitments_app(
            CommitmentsSettings(
                kafka_bootstrap=fresh_kafka, database_url=database_url, config=company
            )
        ),
    }


@pytest.fixture
def stop_apps() -> Iterator[None]:
    yield
    asgi.shutdown_lifespans()  # schemathesis started each app's lifespan on first use


@pytest.mark.usefixtures("stop_apps")
@pytest.mark.parametrize("service", ["intake", "escalation", "commitments"])
def test_the_openapi_document_tells_the_truth(
    service: str, apps: dict[str, AppFactory], database_url: str
) -> None:
    app = apps[service]()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)  # starts the app
    key = asyncio.run(_new_key(database_url))
    report = fuzz(schema, key)
    print(f"{service}: {report.operations} operations, {report.examples} examples")
    found = "\n".join(
        f"{count} x {kind}\n    {report.samples[kind]}" for kind, count in report.failures.items()
    )
    assert not report.failures, found
