"""Quality and speed of promise extraction, as markdown tables for the README.

    .venv/bin/python bench/commitments/extraction_quality.py

Scores `find_promises` on the labelled corpus (services/commitments/tests/unit/
promise_corpus.jsonl): a found promise counts as correct only with the right kind, and its due
time is right when it equals the corpus's `due_offset` after the corpus's sending time. "tuned"
is the part the rules were written against, "holdout" the part written later and never tuned
on. Then times a 2,000-character reply: the first call (dateparser loads its English data) and
the median of later calls on a typical reply and on one dense with calendar dates (the
dateparser cache is cleared for each call, as for a new reply). No servers needed.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from keepword_commitments import extraction
from keepword_commitments.extraction import FoundPromise, find_promises
from keepword_events import CommitmentKind

CORPUS = (
    Path(__file__).resolve().parents[2] / "services/commitments/tests/unit/promise_corpus.jsonl"
)
TIMEZONE = "America/New_York"
SENT_AT = datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo(TIMEZONE))
WARM_RUNS = 200
DURATION = re.compile(r"P(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?")

REPLY = """Hi Dana,

Thank you for your email and for your patience while we looked into the ranking drop on your
service pages. I have spoken to our technical SEO team this morning and I wanted to give you a
clear picture of where things stand and what happens next.

First, the drop was caused by a change to your site's canonical tags during last week's CMS
update. We have already reverted the change, and Google should pick it up over the coming days.
We can't guarantee how quickly rankings recover, but in our experience it is usually a matter of
weeks rather than months.

Second, we will deliver the full technical audit by Friday, March 13, and I will call you on
Monday at 10am to walk you through it. If you would prefer a different time, just reply to this
email and let me know which slot suits you best.

Third, as a thank-you for your patience, we will refund the $250 setup fee within 5 business
days, and the price of your monthly retainer is locked at $1,200 until the end of the year.

Our competitors promise top rankings in 30 days; we don't, because nobody honestly can. What
we do promise is that you'll hear from us within 24 hours whenever you write, and that
your monthly report will be in your inbox by the 5th of each month.

Please send us access to your Search Console by Wednesday so we can start the audit. Did you
receive the invitation we sent on Monday? If not, let me know and I will resend it.

Best regards,
Casey Brooks
Brightline Digital

On Mon, 9 Mar 2026 at 16:12, Dana Ruiz <dana@example.com> wrote:
> Our rankings have dropped badly. You promised first-page rankings within 30 days.
> Please call me back today, I expect a refund if this is not fixed by Friday.
"""


def load_corpus() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CORPUS.read_text().splitlines()]


def predictions(rows: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[FoundPromise]]]:
    """Each corpus row with the promises found in its text."""
    return [(row, find_promises(row["text"], sent_at=SENT_AT, timezone=TIMEZONE)) for row in rows]


def counts(scored: list[tuple[dict[str, Any], list[FoundPromise]]]) -> dict[str, Counter[str]]:
    """Per kind: correct finds (one per row at most), all finds, expected promises, and due
    times checked against the corpus and right."""
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    for row, found in scored:
        tally["found"].update(p.kind.value for p in found)
        if row["kind"] is None:
            continue
        tally["expected"][row["kind"]] += 1
        right = next((p for p in found if p.kind == row["kind"]), None)
        if right is None:
            continue
        tally["correct"][row["kind"]] += 1
        if "due_offset" in row:
            tally["due_checked"][row["kind"]] += 1
            tally["due_right"][row["kind"]] += right.due_at == due_from(row["due_offset"])
    return tally


def due_from(iso_duration: str | None) -> datetime | None:
    """SENT_AT plus an ISO-8601 duration (months and days on the local calendar), in UTC."""
    if iso_duration is None:
        return None
    m = DURATION.fullmatch(iso_duration)
    if m is None:
        raise ValueError(f"unsupported duration {iso_duration!r}")
    months, days, hours, minutes = (int(g or 0) for g in m.groups())
    month_index = SENT_AT.month - 1 + months
    moment = SENT_AT.replace(year=SENT_AT.year + month_index // 12, month=month_index % 12 + 1)
    return (moment + timedelta(days=days, hours=hours, minutes=minutes)).astimezone(UTC)


def ratio(numerator: int, denominator: int) -> str:
    return f"{numerator / denominator:.3f} ({numerator}/{denominator})" if denominator else "n/a"


def quality_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| part | sentences | promises | precision | recall | due times right |",
        "| --- | ---: | ---: | --- | --- | --- |",
    ]
    for part in ("tuned", "holdout", "overall"):
        subset = [r for r in rows if part in ("overall", r["split"])]
        tally = counts(predictions(subset))
        correct, expected = tally["correct"].total(), tally["expected"].total()
        lines.append(
            f"| {part} | {len(subset)} | {expected} | {ratio(correct, tally['found'].total())} "
            f"| {ratio(correct, expected)} "
            f"| {ratio(tally['due_right'].total(), tally['due_checked'].total())} |"
        )
    return "\n".join(lines)


def kind_table(rows: list[dict[str, Any]]) -> str:
    tally = counts(predictions(rows))
    lines = [
        "| kind | promises | precision | recall | due times right |",
        "| --- | ---: | --- | --- | --- |",
    ]
    for kind in CommitmentKind:
        k = kind.value
        lines.append(
            f"| {k} | {tally['expected'][k]} | {ratio(tally['correct'][k], tally['found'][k])} "
            f"| {ratio(tally['correct'][k], tally['expected'][k])} "
            f"| {ratio(tally['due_right'][k], tally['due_checked'][k])} |"
        )
    return "\n".join(lines)


def timed_runs(text: str) -> list[float]:
    """Milliseconds per scan, each with dateparser's results forgotten, as for a new reply."""
    runs = []
    for _ in range(WARM_RUNS):
        extraction._calendar_date.cache_clear()  # a bench may reach in; the service may not
        started = time.perf_counter()
        find_promises(text, sent_at=SENT_AT, timezone=TIMEZONE)
        runs.append((time.perf_counter() - started) * 1000)
    return sorted(runs)


def timing_table() -> str:
    reply = (REPLY * 2)[:2000]
    dated = " ".join(f"We will deliver part {n} on March {10 + n}." for n in range(1, 13))
    many_dates = (f"{dated} " * 3)[:2000]
    started = time.perf_counter()
    find_promises(reply, sent_at=SENT_AT, timezone=TIMEZONE)
    first = (time.perf_counter() - started) * 1000
    lines = [
        "| 2,000-character reply | median ms | 95th percentile ms |",
        "| --- | ---: | ---: |",
        f"| first call in a process (dateparser loads its data) | {first:.1f} | |",
    ]
    for label, text in (("typical reply", reply), ("36 promises, 12 calendar dates", many_dates)):
        runs = timed_runs(text)
        p95 = runs[int(0.95 * len(runs))]
        lines.append(f"| {label} | {statistics.median(runs):.2f} | {p95:.2f} |")
    return "\n".join(lines)


def main() -> None:
    speed = timing_table()  # first, so that the first call is really the process's first
    rows = load_corpus()
    print("### Promise extraction: kind detection on the labelled corpus\n")
    print(quality_table(rows), end="\n\n")
    print("### Per kind (whole corpus)\n")
    print(kind_table(rows), end="\n\n")
    print("### Speed\n")
    print(speed)


if __name__ == "__main__":
    main()
