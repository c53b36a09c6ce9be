"""`make demo`: plays the stories through the running system and shows what happens.

    python -m keepword_testkit.demo --api-key KEY [--maildir .local/mail] [--only KEY ...]

The services must run with deploy/local/demo.toml (SLAs in seconds); `make demo`
(deploy/local/demo.sh) sees to that and makes the API key. Every event of the stories' threads
is printed as it is read from the topics, under a progress display; at the end each thread's
timeline, then every story's expectations checked against the mail catcher and the topics.
Exits 1 when an expected email or event is missing, or a story could not be played.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from keepword_events import Envelope, EscalationOpened, Event
from keepword_platform.company import load_company_config
from keepword_platform.settings import KeepwordSettings
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
)
from rich.table import Table

from .demo_indices import show_indices
from .stories import STORIES, EventFeed, Finding, Mailbox, Player, Stack, Story, StoryRun
from .stories.describe import describe
from .stories.model import (
    AnswerEmail,
    AwaitEmail,
    AwaitEvent,
    ChooseOption,
    CustomerWrites,
    ProductionAnswers,
    PromiseDeclared,
    StaffReplies,
    Step,
)

COLOURS = ("cyan", "magenta", "yellow", "green", "blue", "red")
KIND_STYLE = {
    "message": "white",
    "request": "dim",
    "promise": "bold yellow",
    "warning": "yellow",
    "escalation": "bold red",
    "decision": "bold green",
    "resolved": "green",
    "email": "bright_blue",
    "failure": "bold red",
    "other": "dim",
}


def _step_text(step: Step) -> str:
    if isinstance(step, CustomerWrites):
        return f"the customer writes ({step.via})"
    if isinstance(step, StaffReplies):
        how = "logs a call" if step.channel == "phone" else f"replies ({step.via})"
        return f"{step.by.name} {how}"
    if isinstance(step, PromiseDeclared):
        return f"{step.by.name} declares a promise"
    if isinstance(step, ProductionAnswers):
        return f"{step.by.name} answers: {step.verdict}"
    if isinstance(step, AwaitEmail):
        return f"waiting for the email to {step.to.split('@')[0]}"
    if isinstance(step, AwaitEvent):
        return f"waiting for {step.type.removeprefix('keepword.').removesuffix('.v1')}"
    if isinstance(step, AnswerEmail):
        return f"{step.by.name} answers the email '{step.email}'"
    assert isinstance(step, ChooseOption)
    return f"clicking /{step.label}/ in '{step.email}'"


@dataclass
class Show:
    """What the demo prints, as it happens."""

    console: Console
    progress: Progress
    runs: dict[str, StoryRun]
    started: float = field(default_factory=time.monotonic)
    tasks: dict[str, TaskID] = field(default_factory=dict)
    colours: dict[str, str] = field(default_factory=dict)
    waiting: list[Envelope[Event]] = field(default_factory=list)

    def add(self, run: StoryRun, colour: str) -> None:
        key = run.story.key
        self.colours[key] = colour
        self.tasks[key] = self.progress.add_task(
            f"[{colour}]{key:<12}[/] starting", total=len(run.story.steps) + 1
        )

    def on_step(self, run: StoryRun, step: Step) -> None:
        key = run.story.key
        self.progress.update(
            self.tasks[key],
            completed=run.steps_done,
            description=f"[{self.colours[key]}]{key:<12}[/] {escape(_step_text(step))}",
        )

    def checking(self, run: StoryRun) -> None:
        key = run.story.key
        self.progress.update(
            self.tasks[key],
            completed=len(run.story.steps),
            description=f"[{self.colours[key]}]{key:<12}[/] checking the emails and events",
        )

    def finished(self, run: StoryRun, ok: bool) -> None:
        key = run.story.key
        mark = "[green]done[/]" if ok else "[red]FAILED[/]"
        self.progress.update(
            self.tasks[key],
            completed=len(run.story.steps) + 1,
            description=f"[{self.colours[key]}]{key:<12}[/] {mark}",
        )

    def on_event(self, envelope: Envelope[Event]) -> None:
        self.waiting.append(envelope)
        self.flush()

    def flush(self) -> None:
        """Print the events whose story is known (a thread started by email is known only once
        its first event was read); forget others after a minute."""
        owners = {r.thread_id: r.story.key for r in self.runs.values() if r.thread_id}
        now = datetime.now(UTC)
        keep = []
        for envelope in self.waiting:
            key = owners.get(envelope.data.thread_id)
            if key is not None:
                self._print(key, envelope)
            elif (now - envelope.time).total_seconds() < 60:
                keep.append(envelope)
        self.waiting = keep

    def _print(self, key: str, envelope: Envelope[Event]) -> None:
        kind, text = describe(envelope)
        elapsed = time.monotonic() - self.started
        style = KIND_STYLE.get(kind, "white")
        self.console.print(
            f"[dim]{envelope.time.astimezone():%H:%M:%S} +{elapsed:5.1f}s[/] "
            f"[{self.colours[key]}]{key:<12}[/] [{style}]{kind:<10}[/] {escape(text)}",
            soft_wrap=True,  # one line per event, however long: the terminal wraps it
        )


async def run_demo(args: argparse.Namespace, console: Console) -> int:
    """Play the chosen stories at once; 0 when everything expected came out."""
    stories: Sequence[Story] = [s for s in STORIES if not args.only or s.key in args.only]
    stack = Stack(
        intake_url=args.intake_url, intake_smtp_port=args.intake_smtp_port, api_key=args.api_key
    )
    async with httpx.AsyncClient(timeout=30) as http:
        for url in (args.intake_url, args.escalation_url):
            try:
                (await http.get(f"{url}/healthz")).raise_for_status()
            except httpx.HTTPError as error:
                console.print(f"[red]{url} does not answer ({error}): run `make up` first[/]")
                return 2
        console.print(
            f"[bold]Keepword demo[/]: {len(stories)} stories at once, SLAs in seconds "
            f"(deploy/local/demo.toml). Emails land in {args.maildir}/new/.\n"
        )
        for story in stories:
            console.print(f"  [bold]{story.key}[/]: {story.title}")
        console.print()
        mailbox = Mailbox(Path(args.maildir))
        began = datetime.now(UTC)
        async with EventFeed(args.bootstrap) as feed:
            runs, findings = await play_and_show(
                console, stack, feed, mailbox, http, stories, wait_limit=args.timeout
            )
            opened = sum(
                1
                for run in runs.values()
                for envelope in feed.of_thread(run.thread_id or "-")
                if isinstance(envelope.data, EscalationOpened)
            )
        settings = KeepwordSettings()
        await show_indices(
            console,
            http,
            insights_url=args.insights_url,
            api_key=args.api_key,
            since=began,
            escalations_expected=opened,
            company=load_company_config(settings.config),
            link_secret=settings.link_secret,
            public_url=settings.insights_public_url,
        )
    return 0 if all(f.ok for found in findings.values() for f in found) else 1


async def play_and_show(
    console: Console,
    stack: Stack,
    feed: EventFeed,
    mailbox: Mailbox,
    http: httpx.AsyncClient,
    stories: Sequence[Story],
    *,
    wait_limit: float,
) -> tuple[dict[str, StoryRun], dict[str, list[Finding]]]:
    """Play the stories at once under a progress display, printing every event of their threads
    as it is read; then each thread's timeline and its checks. A story that could not be played
    has a finding that says why."""
    runs = {story.key: StoryRun(story) for story in stories}
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        console=console,
        transient=False,
    )
    show = Show(console, progress, runs)
    for index, run in enumerate(runs.values()):
        show.add(run, COLOURS[index % len(COLOURS)])
    feed.listen(show.on_event)
    player = Player(stack, feed, mailbox, http, timeout=wait_limit, on_step=show.on_step)

    async def play(run: StoryRun) -> list[Finding]:
        try:
            await player.play(run.story, run)
            show.checking(run)
            found = await player.verify(run)
        except Exception as error:
            show.finished(run, ok=False)
            return [Finding(False, f"the story could not be played: {error}")]
        show.finished(run, ok=all(f.ok for f in found))
        return found

    with progress:
        outcomes = await asyncio.gather(*(play(r) for r in runs.values()))
        findings = dict(zip(runs, outcomes, strict=True))
        await asyncio.sleep(1)  # the last emails' events, for the timelines
        show.flush()
    _report(console, feed, mailbox, runs, findings, show)
    return runs, findings


def _report(
    console: Console,
    feed: EventFeed,
    mailbox: Mailbox,
    runs: dict[str, StoryRun],
    findings: dict[str, list[Finding]],
    show: Show,
) -> None:
    for key, run in runs.items():
        colour = show.colours[key]
        console.rule(f"[{colour}]{key}[/]: {escape(run.story.title)} — thread {run.thread_id}")
        events = feed.of_thread(run.thread_id or "-")
        if events:
            first = events[0].time
            timeline = Table(box=None, show_header=False, pad_edge=False)
            timeline.add_column(justify="right", style="dim")
            timeline.add_column()
            timeline.add_column(overflow="fold")
            for envelope in events:
                kind, text = describe(envelope)
                if kind == "request":
                    continue  # the ledger's own line says the same
                timeline.add_row(
                    f"+{(envelope.time - first).total_seconds():.1f}s",
                    f"[{KIND_STYLE.get(kind, 'white')}]{kind}[/]",
                    escape(text),
                )
            console.print(timeline)
        letters = mailbox.of_thread(run.thread_id or "-")
        console.print(f"\n  [bold]{len(letters)} emails[/] of this thread in the catcher")
        for finding in findings[key]:
            mark = "[green]✓[/]" if finding.ok else "[red]✗[/]"
            console.print(f"  {mark} {escape(finding.what)}")
        console.print()
    failed = sum(not f.ok for found in findings.values() for f in found)
    total = sum(len(found) for found in findings.values())
    if failed:
        console.print(f"[bold red]{failed} of {total} expectations not met.[/]")
    else:
        console.print(
            f"[bold green]All {total} expectations met.[/] Read the emails: "
            f"ls -t {mailbox.root}/new | head; less {mailbox.root}/new/<file>"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api-key", default=os.environ.get("KEEPWORD_DEMO_API_KEY"))
    host = os.environ.get("KEEPWORD_HTTP_HOST", "127.0.0.1")
    intake_port = os.environ.get("KEEPWORD_INTAKE_PORT", "8080")
    escalation_port = os.environ.get("KEEPWORD_ESCALATION_PORT", "8081")
    parser.add_argument("--intake-url", default=f"http://{host}:{intake_port}")
    parser.add_argument("--escalation-url", default=f"http://{host}:{escalation_port}")
    insights_port = os.environ.get("KEEPWORD_INSIGHTS_PORT", "8084")
    parser.add_argument("--insights-url", default=f"http://{host}:{insights_port}")
    smtp_port = int(os.environ.get("KEEPWORD_INTAKE_SMTP_PORT", "2525"))
    parser.add_argument("--intake-smtp-port", type=int, default=smtp_port)
    parser.add_argument(
        "--bootstrap", default=os.environ.get("KEEPWORD_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    )
    parser.add_argument("--maildir", default=".local/mail")
    parser.add_argument("--only", nargs="*", choices=[s.key for s in STORIES])
    parser.add_argument("--timeout", type=float, default=120, help="seconds any wait may take")
    args = parser.parse_args(argv)
    if not args.api_key:
        parser.error("an intake API key is needed: --api-key or KEEPWORD_DEMO_API_KEY")
    # The feed's consumer retries by itself when a slow broker times a fetch out.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    console = Console(highlight=False)
    if not console.is_terminal:  # into a file or a pipe: wide enough for the timeline
        console = Console(highlight=False, width=140)
    try:
        return asyncio.run(run_demo(args, console))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
