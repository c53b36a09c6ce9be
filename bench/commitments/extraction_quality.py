"""Quality and speed of promise extraction, as markdown tables for docs/commitments.md.

    .venv/bin/python bench/commitments/extraction_quality.py
    .venv/bin/python bench/commitments/extraction_quality.py --tuned

Scores `find_promises` on the labelled corpus (services/commitments/tests/unit/
promise_corpus.jsonl): a found promise counts as correct only with the right kind, and its due
time is right when it equals the corpus's `due_offset` after the corpus's sending time. "tuned"
is the part the rules were written against, "holdout" the part never tuned on; "first corpus"
is the original labelled set, "support writing" the sentences adapted from public customer-
service templates (source per row; a third held out by a hash of the text). Vague times: the
rows whose promise names only a vague time ("shortly"), and how many the reading reports for
the maker. Then times a 2,000-character reply: the first call (dateparser loads its English
data) and the median of later calls on a typical reply and on one dense with calendar dates
(the dateparser cache is cleared for each call, as for a new reply). No servers needed.

`--tuned` scores the tuned part only and skips the timing: what to look at while the rules
change, so that the held-out part is measured once, after the last change.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from keepword_commitments.extraction import due_times, find_promises, read_reply
from keepword_commitments.extraction.scoring import score, score_by_kind
from keepword_events import CommitmentKind

CORPUS = (
    Path(__file__).resolve().parents[2] / "services/commitments/tests/unit/promise_corpus.jsonl"
)
TIMEZONE = "America/New_York"
SENT_AT = datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo(TIMEZONE))
WARM_RUNS = 200

REPLY = (CORPUS.parent / "sample_reply.txt").read_text()


def load_corpus() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CORPUS.read_text().splitlines()]


def ratio(numerator: int, denominator: int) -> str:
    return f"{numerator / denominator:.3f} ({numerator}/{denominator})" if denominator else "n/a"


def quality_table(rows: list[dict[str, Any]], *, tuned_only: bool = False) -> str:
    lines = [
        "| part | sentences | promises | precision | recall | due times right |",
        "| --- | ---: | ---: | --- | --- | --- |",
    ]
    for part, subset in tuned_parts(rows) if tuned_only else parts(rows):
        s = score(subset, sent_at=SENT_AT, timezone=TIMEZONE)
        lines.append(
            f"| {part} | {len(subset)} | {s.expected} | {ratio(s.correct, s.found)} "
            f"| {ratio(s.correct, s.expected)} | {ratio(s.due_right, s.due_checked)} |"
        )
    return "\n".join(lines)


def parts(rows: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The corpus by origin and split, then the whole held-out part and the whole corpus."""
    first = [r for r in rows if "(first corpus)" in r["source"]]
    support = [r for r in rows if r not in first]
    return [
        *(
            (f"{origin}, {split}", [r for r in subset if r["split"] == split])
            for origin, subset in (("first corpus", first), ("support writing", support))
            for split in ("tuned", "holdout")
        ),
        ("**all held out**", [r for r in rows if r["split"] == "holdout"]),
        ("**overall**", rows),
    ]


def tuned_parts(rows: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The tuned part by origin, then the whole tuned part: no held-out row is read."""
    tuned = [r for r in rows if r["split"] == "tuned"]
    first = [r for r in tuned if "(first corpus)" in r["source"]]
    support = [r for r in tuned if r not in first]
    return [
        ("first corpus, tuned", first),
        ("support writing, tuned", support),
        ("**all tuned**", tuned),
    ]


def vague_table(rows: list[dict[str, Any]], splits: tuple[str, ...]) -> str:
    lines = [
        "| part | promises with only a vague time | reported for the maker | recorded |",
        "| --- | ---: | --- | ---: |",
    ]
    for split in splits:
        subset = [r for r in rows if r.get("vague") and r["split"] == split]
        readings = [read_reply(r["text"], sent_at=SENT_AT, timezone=TIMEZONE) for r in subset]
        reported = sum(
            any(p.vague_time == r["vague"] for p in reading.vague)
            for r, reading in zip(subset, readings, strict=True)
        )
        recorded = sum(bool(reading.promises) for reading in readings)
        lines.append(f"| {split} | {len(subset)} | {ratio(reported, len(subset))} | {recorded} |")
    return "\n".join(lines)


def kind_table(rows: list[dict[str, Any]]) -> str:
    by_kind = score_by_kind(rows, sent_at=SENT_AT, timezone=TIMEZONE)
    lines = [
        "| kind | promises | precision | recall | due times right |",
        "| --- | ---: | --- | --- | --- |",
    ]
    for kind in CommitmentKind:
        s = by_kind[kind.value]
        lines.append(
            f"| {kind.value} | {s.expected} | {ratio(s.correct, s.found)} "
            f"| {ratio(s.correct, s.expected)} | {ratio(s.due_right, s.due_checked)} |"
        )
    return "\n".join(lines)


def timed_runs(text: str) -> list[float]:
    """Milliseconds per scan, each with dateparser's results forgotten, as for a new reply."""
    runs = []
    for _ in range(WARM_RUNS):
        due_times.calendar_date.cache_clear()  # a bench may reach in; the service may not
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tuned", action="store_true", help="the tuned part only, no timing")
    tuned_only = parser.parse_args().tuned
    if tuned_only:
        rows = [r for r in load_corpus() if r["split"] == "tuned"]
        print("### Promise extraction: the tuned part only\n")
        print(quality_table(rows, tuned_only=True), end="\n\n")
        print(vague_table(rows, ("tuned",)))
        return
    speed = timing_table()  # first, so that the first call is really the process's first
    rows = load_corpus()
    print("### Promise extraction: kind detection on the labelled corpus\n")
    print(quality_table(rows), end="\n\n")
    print("### Vague times\n")
    print(vague_table(rows, ("tuned", "holdout")), end="\n\n")
    print("### Per kind (whole corpus)\n")
    print(kind_table(rows), end="\n\n")
    print("### Speed\n")
    print(speed)


if __name__ == "__main__":
    main()
