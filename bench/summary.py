"""One table of every benchmark's headline figures against the issue's targets.

    .venv/bin/python bench/summary.py [--results bench/results]

Reads the newest JSON of each benchmark in bench/results/ (`<name>-<UTC stamp>.json`, as each
run.py writes it), prints one markdown table (service, measure, the service's figure, the raw
baseline measured in the same run, their ratio, the target, met?) and writes it, with the files
it came from, to bench/results/summary.md. A benchmark without a result says "not run". A run
smaller than its target names (escalation's 10,000 among 1,000,000) is shown, not judged.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
NONE = "—"


@dataclass(frozen=True)
class Reading:
    """What one result file says about one measure."""

    figure: str
    baseline: str = NONE
    ratio: str = NONE
    met: str = NONE
    size: str = ""  # how big the run was, when that matters to the figure


@dataclass(frozen=True)
class Measure:
    """One line of the table: a figure of one benchmark and the target it is held to."""

    service: str
    label: str
    target: str
    read: Callable[[dict[str, Any]], Reading]


@dataclass(frozen=True)
class Row:
    """A rendered line of the table."""

    service: str
    measure: str
    figure: str
    baseline: str
    ratio: str
    target: str
    met: str


# --- formatting and judging (pure) ---------------------------------------------------------------


def rate(value: float, unit: str) -> str:
    return f"{value:,.0f} {unit}"


def share(value: float) -> str:
    return f"{value:.0%}"


def ms(value: float) -> str:
    return f"{value:,.0f} ms"


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def at_least_share(ratio: float, floor: float) -> str:
    # Compared at the shown precision: 40% shown is 40% met.
    return verdict(round(ratio, 2) >= floor)


# --- the benchmarks' figures -------------------------------------------------------------------


def intake_batches(d: dict[str, Any]) -> Reading:
    ratio = d["batch"]["rate"] / d["raw_producer"]["bulk"]["rate"]
    s = d["settings"]
    return Reading(
        figure=rate(d["batch"]["rate"], "msg/s"),
        baseline=rate(d["raw_producer"]["bulk"]["rate"], "msg/s") + " (bulk send)",
        ratio=share(ratio),
        met=at_least_share(ratio, 0.70),
        size=f"{s['batches']} batches, {s['in_flight']} in flight, {s.get('workers', 1)} worker(s)",
    )


def intake_single(d: dict[str, Any]) -> Reading:
    single = d["single_post"]["rate"]
    raw = d["raw_producer"]["single"]["rate"]
    s = d["settings"]
    return Reading(
        figure=rate(single, "req/s"),
        baseline=rate(raw, "msg/s") + " (send_and_wait)",
        ratio=share(single / raw),
        met=verdict(single >= 3000),
        size=f"{s['connections']} connections, {s['seconds']} s, {s.get('workers', 1)} worker(s)",
    )


def commitments_bulk(d: dict[str, Any]) -> Reading:
    return Reading(
        figure=rate(d["keepword"]["rate"], "events/s"),
        baseline=rate(d["baseline"]["rate"], "events/s"),
        ratio=share(d["ratio"]),
        met=at_least_share(d["ratio"], 0.40),
        size=f"{d['settings']['events']:,} at once",
    )


TARGET_DUE, TARGET_THREADS, TARGET_P99_MS = 10_000, 1_000_000, 1000.0


def escalation_lag(d: dict[str, Any]) -> Reading:
    due, threads = d["settings"]["due"], d["settings"]["threads"]
    size = f"{due:,} due among {threads:,} threads"
    if (instances := d["settings"].get("instances", 1)) > 1:
        size += f", {instances} instances"
    if "lag" not in d:
        return Reading(figure="no event published", met="NO", size=size)
    p99 = d["lag"]["p99_ms"]
    complete = d["missing"] == 0
    if due < TARGET_DUE or threads < TARGET_THREADS:
        met = "not judged (smaller run)"
    else:
        met = verdict(p99 <= TARGET_P99_MS and complete)
    missing = "" if complete else f", {d['missing']:,} missing"
    return Reading(figure=ms(p99) + missing, met=met, size=size)


def notifier_emails(d: dict[str, Any]) -> Reading:
    best = max(d["raw_one_connection"]["rate"], d["raw_connection_each"]["rate"])
    ratio = d["notifier"]["rate"] / best
    return Reading(
        figure=rate(d["notifier"]["rate"], "emails/s"),
        baseline=rate(best, "emails/s") + " (best raw loop)",
        ratio=share(ratio),
        met=at_least_share(ratio, 0.50),
        size=f"{d['settings']['emails']:,} emails",
    )


def insights_ingest(d: dict[str, Any]) -> Reading:
    ingest = d["ingest"]
    return Reading(
        figure=rate(ingest["insights"]["rate"], "events/s"),
        baseline=rate(ingest["raw"]["rate"], "events/s"),
        ratio=share(ingest["ratio"]),
        size=f"{d['settings']['events']:,} events",
    )


def insights_query(d: dict[str, Any]) -> Reading:
    calls = d["query"]["calls"]["default"]
    return Reading(
        figure=f"p50 {ms(calls['p50_ms'])}, p99 {ms(calls['p99_ms'])}",
        size=f"{d['query']['threads']:,} threads, {calls['calls']} calls",
    )


BENCHMARKS: dict[str, tuple[Measure, ...]] = {
    "intake": (
        Measure("intake", "batches of 1,000", ">= 70% of the raw producer", intake_batches),
        Measure("intake", "single POSTs", ">= 3,000/s", intake_single),
    ),
    "commitments": (
        Measure(
            "commitments",
            "consume → ledger → relay → publish",
            ">= 40% of the raw consume → produce loop",
            commitments_bulk,
        ),
    ),
    "escalation": (
        Measure(
            "escalation",
            "deadline → opened event, p99",
            "10,000 due among 1,000,000 threads: p99 <= 1 s",
            escalation_lag,
        ),
    ),
    "notifier": (
        Measure(
            "notifier",
            "emails end to end",
            ">= 50% of the best raw aiosmtplib loop",
            notifier_emails,
        ),
    ),
    "insights": (
        Measure("insights", "ingest of the catalog's topics", NONE, insights_ingest),
        Measure("insights", "GET /v1/indices, last 28 days", NONE, insights_query),
    ),
}


def row_of(measure: Measure, data: dict[str, Any] | None) -> Row:
    """The measure's line for a result (None: the benchmark has not run)."""
    if data is None:
        reading = Reading(figure="not run", met="not run")
    else:
        try:
            reading = measure.read(data)
        except (KeyError, TypeError, ZeroDivisionError) as error:
            reading = Reading(figure=f"unreadable ({type(error).__name__}: {error})")
    label = f"{measure.label} ({reading.size})" if reading.size else measure.label
    return Row(
        measure.service,
        label,
        reading.figure,
        reading.baseline,
        reading.ratio,
        measure.target,
        reading.met,
    )


HEADER = ("service", "measure", "figure", "raw baseline, same run", "ratio", "target", "met?")


def table(rows: Sequence[Row]) -> str:
    """The rows as a markdown table."""
    lines = [HEADER, ("---", "---", "---:", "---:", "---:", "---", "---")]
    lines += [(r.service, r.measure, r.figure, r.baseline, r.ratio, r.target, r.met) for r in rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


# --- the files ---------------------------------------------------------------------------------


def newest(results: Path, name: str) -> Path | None:
    """The benchmark's latest result: the UTC stamps in the names sort as the runs did."""
    found = sorted(results.glob(f"{name}-*.json"))
    return found[-1] if found else None


def source_line(name: str, path: Path | None, data: dict[str, Any] | None) -> str:
    if path is None or data is None:
        return f"- {name}: not run"
    return (
        f"- {name}: {path.name} (run {data.get('when', '?')}, "
        f"{data.get('machine', {}).get('cpus', '?')} CPUs, settings {data.get('settings', {})})"
    )


def summary(results: Path) -> str:
    """The summary document: the table, then which result file each benchmark's rows came from."""
    rows: list[Row] = []
    sources: list[str] = []
    for name, measures in BENCHMARKS.items():
        path = newest(results, name)
        data: dict[str, Any] | None = json.loads(path.read_text()) if path else None
        rows += [row_of(m, data) for m in measures]
        sources.append(source_line(name, path, data))
    written = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    return (
        f"# Benchmarks: summary\n\nWritten by bench/summary.py on {written} from the newest "
        f"result of each benchmark in {results.name}/.\n\n{table(rows)}\n\nFrom:\n\n"
        + "\n".join(sources)
        + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS, help="the results folder")
    results: Path = parser.parse_args().results
    text = summary(results)
    results.mkdir(parents=True, exist_ok=True)
    path = results / "summary.md"
    path.write_text(text)
    print(text)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
