"""The threads of a run, and a client that drives them through intake's public HTTP API.

Three kinds of thread, in turn: nobody answers the customer (acknowledgement, warning, stalled
escalation); service answers at once (nothing more happens); sales records a promised delivery
that production rejects (production and the owner hear of it, a promise gap escalates). The
promise threads carry no messages: what the escalation email says of a thread must not depend
on the order in which two topics are read, which no fault run can fix.

The client behaves as the API asks of one: it retries a request that failed for want of an
answer (connection refused, 5xx, 409 in progress) with the same Idempotency-Key until it is
accepted, so a killed intake or a broker restart costs time, never a message.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx

DOMAIN = "faults.example"
SALES = {"email": "sam.sales@faults.example", "name": "Sam Ortega", "role": "sales"}
SERVICE = {"email": "casey.service@faults.example", "name": "Casey Brooks", "role": "service"}
PRODUCTION = {"email": "pat.production@faults.example", "name": "Pat Novak", "role": "production"}

CONFIG = """\
# The fault run's company: around the clock, SLAs in seconds.
[company]
name = "Fault Run Co."
support_address = "support@faults.example"
timezone = "UTC"

[sla]
first_reply = "{first_reply}s"
next_reply = "{first_reply}s"
warn_at = 0.5
max_unanswered_followups = 5
manager_decision = "2h"
acknowledge_after = "{acknowledge_after}s"

[[people]]
email = "sam.sales@faults.example"
name = "Sam Ortega"
role = "sales"

[[people]]
email = "casey.service@faults.example"
name = "Casey Brooks"
role = "service"

[[people]]
email = "pat.production@faults.example"
name = "Pat Novak"
role = "production"

[[people]]
email = "morgan.lead@faults.example"
name = "Morgan Reyes"
role = "management"
level = 1

[[people]]
email = "drew.director@faults.example"
name = "Drew Adler"
role = "management"
level = 2
"""


# 409: the first attempt with this key is still in progress (or died with a killed intake
# and has not been abandoned yet); 429: too many requests. Both say: retry.
RETRY = frozenset({409, 429})


class Kind(StrEnum):
    """What happens on a thread."""

    UNANSWERED = "unanswered"
    ANSWERED = "answered"
    PROMISE_REJECTED = "promise_rejected"


KINDS = tuple(Kind)


@dataclass(frozen=True)
class Plan:
    """One thread of the workload."""

    index: int
    kind: Kind

    @property
    def label(self) -> str:
        """How the thread is named in both runs (thread ids differ between runs)."""
        return f"T{self.index:03}"

    @property
    def customer(self) -> dict[str, str]:
        """The thread's customer."""
        return {"email": f"customer{self.index:03}@{DOMAIN}", "name": f"Customer {self.index:03}"}


def plans(count: int) -> list[Plan]:
    """`count` threads, the kinds taking turns."""
    return [Plan(i, KINDS[i % len(KINDS)]) for i in range(count)]


class Driver:
    """Plays plans through intake; remembers which thread id each plan got."""

    def __init__(self, base_url: str, api_key: str, run: str) -> None:
        self.base_url = base_url
        self.run = run
        self.client = httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=15.0
        )
        self.thread_ids: dict[str, str] = {}  # label -> thread id
        # A promise names its thread: 12 hex digits of our own, unique to this run.
        self.run_tag = uuid.uuid4().hex[:12]
        # Fixed for the run: a retry must send the same body with its Idempotency-Key.
        self.promised_for = (
            (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0).isoformat()
        )
        self.retries = 0

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()

    async def _post(self, path: str, body: Mapping[str, Any], key: str) -> dict[str, Any]:
        """POST until accepted; a 4xx other than those in `RETRY` is a bug in the test."""
        while True:
            try:
                answer = await self.client.post(
                    path, json=body, headers={"Idempotency-Key": f"{self.run}-{key}"}
                )
            except httpx.TransportError:
                answer = None
            if answer is not None and answer.status_code < 300:
                result: dict[str, Any] = answer.json()
                return result
            if (
                answer is not None
                and 400 <= answer.status_code < 500
                and answer.status_code not in RETRY
            ):
                raise AssertionError(f"{path}: {answer.status_code} {answer.text}")
            self.retries += 1
            await asyncio.sleep(0.25)

    async def play(self, plan: Plan) -> None:
        """Every step of one thread."""
        customer = plan.customer
        if plan.kind is Kind.PROMISE_REJECTED:
            await self._promise_rejected(plan)
            return
        accepted = await self._post(
            "/v1/messages",
            {
                "direction": "inbound",
                "channel": "email",
                "customer": customer,
                "author": customer | {"role": "customer"},
                "subject": f"Order {plan.index:03}: when will it ship?",
                "body": f"Hello,\n\nCould you tell me when order {plan.index:03} ships?\n\n"
                "Thank you,\n" + customer["name"],
            },
            f"{plan.label}-message",
        )
        thread_id = str(accepted["thread_id"])
        self.thread_ids[plan.label] = thread_id
        if plan.kind is Kind.UNANSWERED:
            return
        await self._post(
            "/v1/messages",
            {
                "direction": "outbound",
                "channel": "email",
                "thread_id": thread_id,
                "customer": customer,
                "author": SERVICE,
                "subject": f"Re: Order {plan.index:03}: when will it ship?",
                "body": f"Dear {customer['name']},\n\nThank you for your message.\n\n"
                "Kind regards,\nCasey Brooks",
            },
            f"{plan.label}-reply",
        )

    async def _promise_rejected(self, plan: Plan) -> None:
        thread_id = f"thr-{plan.index:04x}{self.run_tag}"
        self.thread_ids[plan.label] = thread_id
        promised = await self._post(
            "/v1/commitments",
            {
                "thread_id": thread_id,
                "made_by": SALES,
                "kind": "delivery",
                "text": f"Order {plan.index:03} will be delivered within a week",
                "due_at": self.promised_for,
                "customer": plan.customer,
            },
            f"{plan.label}-promise",
        )
        await self._post(
            f"/v1/commitments/{promised['commitment_id']}/answer",
            {
                "answered_by": PRODUCTION,
                "verdict": "rejected",
                "note": "The parts arrive next month; we cannot ship before then.",
                "thread_id": thread_id,
            },
            f"{plan.label}-answer",
        )
