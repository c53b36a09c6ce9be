"""The end of `make demo`: the indices of the stories just played, and the dashboard's link.

Insights reads the same topics as everyone else; the demo waits until it has seen the stories'
escalations, then asks `GET /v1/indices` for the demo's minutes and prints a few headline
numbers, with a signed sign-in link to the dashboard for the first manager of the chain.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
from keepword_platform.company import CompanyConfig
from keepword_platform.dashboard_links import dashboard_link
from rich.console import Console
from rich.table import Table


def _minutes(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f} min"


def headline(found: dict[str, Any]) -> list[tuple[str, str]]:
    """The few numbers worth a line each, from `GET /v1/indices`."""
    first = found["replies"]["first_reply"]["all"]
    promises = found["promises"]["all"]
    escalations = found["escalations"]
    within = first.get("within_sla_percent")
    return [
        ("first replies", f"{first['count']}, median {_minutes(first['p50_seconds'])}"),
        ("answered within the SLA", "—" if within is None else f"{within}%"),
        ("promises made", str(promises.get("made", 0))),
        (
            "  confirmed / rejected / countered",
            " / ".join(str(promises.get(s, 0)) for s in ("confirmed", "rejected", "countered")),
        ),
        ("escalations opened", str(escalations["opened"])),
        (
            "  by rule",
            ", ".join(f"{rule} {n}" for rule, n in escalations["opened_by_rule"].items() if n)
            or "—",
        ),
        ('"handle it" answers', str(sum(escalations["handle_it_by_manager"].values()))),
        ("refunds", f"{escalations['refunds']['count']} ({escalations['refunds']['total']})"),
    ]


async def show_indices(
    console: Console,
    http: httpx.AsyncClient,
    *,
    insights_url: str,
    api_key: str,
    since: datetime,
    escalations_expected: int,
    company: CompanyConfig,
    link_secret: str,
    public_url: str,
    wait_seconds: float = 30,
) -> None:
    """Print the demo's indices once insights has caught up (or after `wait_seconds`)."""
    params = {"from": (since - timedelta(minutes=1)).isoformat()}
    headers = {"Authorization": f"Bearer {api_key}"}
    found: dict[str, Any] | None = None
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        try:
            answer = await http.get(f"{insights_url}/v1/indices", params=params, headers=headers)
            answer.raise_for_status()
            found = answer.json()
        except httpx.HTTPError as error:
            console.print(f"[yellow]insights did not answer ({error}); no indices shown[/]")
            return
        caught_up = found["escalations"]["opened"] >= escalations_expected
        if caught_up or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(1)
    table = Table(title="The indices of these stories (insights)", show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    for name, value in headline(found):
        table.add_row(name, value)
    console.print(table)
    managers = company.management_chain()
    if managers:
        link = dashboard_link(link_secret, public_url, managers[0].email)
        console.print(f"\nThe dashboard, signed in as {managers[0].name}: {link}")
