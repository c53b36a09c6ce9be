"""Acts a story out against a running Keepword, through its public interfaces only: intake's
HTTP API and SMTP listener, the emails in the catcher and the decision links in them, and the
topics (to learn the thread an email started, and to wait for what the system says)."""

from __future__ import annotations

import asyncio
import re
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from html.parser import HTMLParser
from typing import Any

import httpx
from keepword_events import MessageReceived

from .checks import Finding, check_story, event_matches, letter_matches
from .feed import EventFeed
from .mailbox import Letter, Mailbox
from .model import (
    AnswerEmail,
    AwaitEmail,
    AwaitEvent,
    ChooseOption,
    CustomerWrites,
    ProductionAnswers,
    PromiseDeclared,
    Staff,
    StaffReplies,
    Step,
    Story,
)
from .smtp_logins import story_password


class StoryFailed(AssertionError):
    """A step could not be taken, or what it waited for never came."""


@dataclass(frozen=True)
class Stack:
    """Where the running system answers."""

    intake_url: str  # http://127.0.0.1:8080
    intake_smtp_port: int  # intake's inbound SMTP listener (2525)
    api_key: str
    intake_smtp_host: str = "127.0.0.1"


@dataclass
class StoryRun:
    """A story being played: its thread, and what the steps kept for later steps."""

    story: Story
    thread_id: str | None = None
    steps_done: int = 0
    letters: dict[str, Letter] = field(default_factory=dict)
    customer_message_ids: list[str] = field(default_factory=list)
    support_address: str | None = None
    first_subject: str | None = None
    commitment_id: str | None = None


StepListener = Callable[[StoryRun, Step], None]


class Player:
    """Plays stories; several may play at once, sharing the feed and the mailbox."""

    def __init__(
        self,
        stack: Stack,
        feed: EventFeed,
        mailbox: Mailbox,
        http: httpx.AsyncClient,
        *,
        timeout: float = 90.0,
        on_step: StepListener | None = None,
    ) -> None:
        self.stack = stack
        self.feed = feed
        self.mailbox = mailbox
        self.http = http
        self.timeout = timeout
        self.on_step = on_step

    async def play(self, story: Story, run: StoryRun | None = None) -> StoryRun:
        """Take every step of the story in order; raises StoryFailed on the first that fails."""
        run = run or StoryRun(story)
        for step in story.steps:
            if self.on_step:
                self.on_step(run, step)
            try:
                await self._take(run, step)
            except TimeoutError as error:
                raise StoryFailed(f"{story.key}, step {run.steps_done + 1}: {error}") from None
            run.steps_done += 1
        return run

    async def verify(self, run: StoryRun) -> list[Finding]:
        """What the story expects against what came out, once it all arrived (or the time is
        up: then the findings say what is missing)."""
        deadline = asyncio.get_running_loop().time() + self.timeout
        while True:
            findings = self.findings(run)
            done = all(f.ok for f in findings)
            if done or asyncio.get_running_loop().time() > deadline:
                return findings
            await asyncio.sleep(0.5)

    def findings(self, run: StoryRun) -> list[Finding]:
        """What the story expects against what came out so far."""
        thread = run.thread_id or "-"
        return check_story(run.story, self.feed.of_thread(thread), self.mailbox.of_thread(thread))

    async def _take(self, run: StoryRun, step: Step) -> None:
        if isinstance(step, CustomerWrites):
            await self._customer_writes(run, step)
        elif isinstance(step, StaffReplies):
            await self._staff_replies(run, step)
        elif isinstance(step, PromiseDeclared):
            await self._promise_declared(run, step)
        elif isinstance(step, ProductionAnswers):
            await self._production_answers(run, step)
        elif isinstance(step, AwaitEmail):
            run.letters[step.name] = await self._await_email(run, step)
        elif isinstance(step, AwaitEvent):
            await self.feed.wait_for(
                lambda e: (
                    e.data.thread_id == run.thread_id and event_matches(e, step.type, step.where)
                ),
                within=self.timeout,
                what=f"{step.type} {dict(step.where)} on {run.thread_id}",
            )
        elif isinstance(step, AnswerEmail):
            await self._answer_email(run, step)
        else:
            await self._choose_option(run, step)

    # ----- the customer -----------------------------------------------------------------------

    async def _customer_writes(self, run: StoryRun, step: CustomerWrites) -> None:
        customer = run.story.customer
        run.first_subject = run.first_subject or step.subject
        if step.via == "web":
            body: dict[str, Any] = {
                "direction": "inbound",
                "channel": "web",
                "customer": _customer_json(run),
                "author": {"email": customer.email, "name": customer.name, "role": "customer"},
                "subject": step.subject,
                "body": step.body,
            }
            if run.thread_id:
                body["thread_id"] = run.thread_id
            if step.deposit:
                body["deposit"] = {"amount": step.deposit[0], "currency": step.deposit[1]}
            answer = await self._post("/v1/messages", body)
            run.thread_id = run.thread_id or str(answer["thread_id"])
            return
        email = EmailMessage()
        email["From"] = formataddr((customer.name, customer.email))
        email["To"] = step.to
        email["Subject"] = step.subject or (f"Re: {run.first_subject}" if run.first_subject else "")
        email["Date"] = format_datetime(datetime.now(UTC))
        email["Message-ID"] = message_id = make_msgid(domain=customer.email.rsplit("@", 1)[1])
        if run.customer_message_ids:
            email["In-Reply-To"] = run.customer_message_ids[-1]
            email["References"] = " ".join(run.customer_message_ids)
        email.set_content(step.body)
        await self._smtp(email, sender=customer.email, to=[step.to])
        run.customer_message_ids.append(message_id)
        run.support_address = run.support_address or step.to
        if run.thread_id is None:  # intake started a thread: the event names it
            started = await self.feed.wait_for(
                lambda e: (
                    isinstance(e.data, MessageReceived) and e.data.email_message_id == message_id
                ),
                within=self.timeout,
                what=f"message received for the email {message_id}",
            )
            run.thread_id = started.data.thread_id

    # ----- colleagues -------------------------------------------------------------------------

    async def _staff_replies(self, run: StoryRun, step: StaffReplies) -> None:
        customer = run.story.customer
        if step.via == "api":
            await self._post(
                "/v1/messages",
                {
                    "direction": "outbound",
                    "channel": step.channel,
                    "thread_id": self._thread(run),
                    "customer": _customer_json(run),
                    "author": _person(step.by),
                    "body": step.body,
                    "sent_at": (datetime.now(UTC) - step.sent_ago).isoformat(),
                },
            )
            return
        # By email, copied to the support address so that intake sees it (as a helpdesk does).
        support = run.support_address or "support@brightline.example"
        email = EmailMessage()
        email["From"] = formataddr((step.by.name, step.by.email))
        email["To"] = formataddr((customer.name, customer.email))
        email["Cc"] = support
        subject_line = f"Re: {run.first_subject or 'your message'}"
        if run.customer_message_ids:  # the thread is found from the email it answers
            email["In-Reply-To"] = run.customer_message_ids[-1]
            email["References"] = " ".join(run.customer_message_ids)
        else:
            subject_line += f" [#{self._thread(run)}]"
        email["Subject"] = subject_line
        email["Date"] = format_datetime(datetime.now(UTC) - step.sent_ago)
        email["Message-ID"] = make_msgid(domain="brightline.example")
        email.set_content(step.body)
        await self._smtp(email, sender=step.by.email, to=[support], login=True)

    async def _promise_declared(self, run: StoryRun, step: PromiseDeclared) -> None:
        answer = await self._post(
            "/v1/commitments",
            {
                "thread_id": self._thread(run),
                "made_by": _person(step.by),
                "kind": step.kind,
                "text": step.text,
                "due_at": (datetime.now(UTC) + step.due_in).isoformat(),
                "customer": _customer_json(run),
            },
        )
        run.commitment_id = str(answer["commitment_id"])

    async def _production_answers(self, run: StoryRun, step: ProductionAnswers) -> None:
        if run.commitment_id is None:
            raise StoryFailed(f"{run.story.key}: production answers, but nothing was promised")
        await self._post(
            f"/v1/commitments/{run.commitment_id}/answer",
            {"answered_by": _person(step.by), "verdict": step.verdict, "note": step.note},
        )

    async def _answer_email(self, run: StoryRun, step: AnswerEmail) -> None:
        letter = self._kept(run, step.email)
        original = letter.email
        back_to = parseaddr(str(original["From"]))[1]
        email = EmailMessage()
        email["From"] = formataddr((step.by.name, step.by.email))
        email["To"] = back_to
        # For a digest, the subject of the part answered (it names the thread; the digest's own
        # Message-ID and subject name none).
        email["Subject"] = f"Re: {letter.subject}"
        email["In-Reply-To"] = str(original["Message-ID"]).strip()
        email["References"] = str(original["Message-ID"]).strip()
        email["Date"] = format_datetime(datetime.now(UTC))
        email["Message-ID"] = make_msgid(domain="brightline.example")
        email.set_content(step.body)
        await self._smtp(email, sender=step.by.email, to=[back_to], login=True)

    async def _choose_option(self, run: StoryRun, step: ChooseOption) -> None:
        letter = self._kept(run, step.email)
        links = _decision_links(letter.html)
        url = next((href for href, text in links if re.search(step.label, text)), None)
        if url is None:
            raise StoryFailed(
                f"{run.story.key}: no option /{step.label}/ in '{letter.subject}': {links}"
            )
        page = await self.http.get(url)
        wanted = f"Confirm: {step.expect.replace('_', ' ')}"
        if page.status_code != 200 or wanted not in page.text:
            raise StoryFailed(
                f"{run.story.key}: the page of /{step.label}/ answered {page.status_code}, "
                f"not '{wanted}': {page.text[:500]}"
            )
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        if token is None:
            raise StoryFailed(f"{run.story.key}: the decision page has no CSRF token")
        form = {"csrf_token": token[1], **({"note": step.note} if step.note else {})}
        done = await self.http.post(url, data=form)
        if done.status_code != 200 or "Decision recorded" not in done.text:
            raise StoryFailed(
                f"{run.story.key}: the decision was refused ({done.status_code}): {done.text[:500]}"
            )

    # ----- waiting ----------------------------------------------------------------------------

    async def _await_email(self, run: StoryRun, step: AwaitEmail) -> Letter:
        thread = self._thread(run)
        deadline = asyncio.get_running_loop().time() + self.timeout
        while True:
            found = [
                e
                for e in self.mailbox.of_thread(thread)
                if letter_matches(e, step.to, step.subject)
            ]
            if found:
                return found[-1]
            if asyncio.get_running_loop().time() > deadline:
                seen = [e.subject for e in self.mailbox.of_thread(thread)]
                raise StoryFailed(
                    f"{run.story.key}: no email to {step.to} /{step.subject}/ on {thread} within "
                    f"{self.timeout:.0f} s; the thread's emails: {seen}"
                )
            await asyncio.sleep(0.25)

    # ----- plumbing ---------------------------------------------------------------------------

    def _thread(self, run: StoryRun) -> str:
        if run.thread_id is None:
            raise StoryFailed(f"{run.story.key}: a step needs the thread, and none started yet")
        return run.thread_id

    def _kept(self, run: StoryRun, name: str) -> Letter:
        if name not in run.letters:
            raise StoryFailed(f"{run.story.key}: no email kept as {name!r}")
        return run.letters[name]

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = await self.http.post(
            f"{self.stack.intake_url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.stack.api_key}"},
        )
        if answer.status_code != 202:
            raise StoryFailed(f"POST {path} answered {answer.status_code}: {answer.text[:500]}")
        result: dict[str, Any] = answer.json()
        return result

    async def _smtp(
        self, email: EmailMessage, *, sender: str, to: list[str], login: bool = False
    ) -> None:
        """Deliver to intake; staff log in as themselves, so intake believes it is them."""

        def send() -> None:
            host, port = self.stack.intake_smtp_host, self.stack.intake_smtp_port
            with smtplib.SMTP(host, port, timeout=30) as smtp:
                if login:
                    smtp.login(sender, story_password(sender))
                refused = smtp.send_message(email, from_addr=sender, to_addrs=to)
            if refused:
                raise StoryFailed(f"intake refused {refused}")

        try:
            await asyncio.to_thread(send)
        except smtplib.SMTPException as error:
            raise StoryFailed(f"intake's SMTP listener refused the email: {error}") from None


def _person(staff: Staff) -> dict[str, str]:
    return {"email": staff.email, "name": staff.name, "role": staff.role}


def _customer_json(run: StoryRun) -> dict[str, Any]:
    c = run.story.customer
    return {
        "email": c.email,
        "name": c.name,
        **({"phone": c.phone} if c.phone else {}),
        "preferred_channel": "phone" if c.prefers_phone else "email",
    }


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join("".join(self._text).split())))
            self._href = None


def _decision_links(html: str) -> list[tuple[str, str]]:
    """(url, link text) of every decision link in an email's HTML."""
    parser = _Links()
    parser.feed(html)
    return [(href, text) for href, text in parser.links if "/decisions/" in href]
