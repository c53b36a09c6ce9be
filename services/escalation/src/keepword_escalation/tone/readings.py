"""The two readings: is a customer's message a difficult conversation, is a manager's reply a
non-decision; each also in a worker thread within a budget."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar

import structlog
from keepword_events.own_words import own_words as shared_own_words

from .manager import delegates, names_an_action
from .signals import CUSTOMER_SIGNALS
from .vader import sentiment

STRONGLY_NEGATIVE: Final = -0.6
"""A VADER compound score at or below this makes a message a difficult conversation."""

NON_DECISION_MAX_WORDS: Final = 40
"""A reply of this many words or more says more than "handle it": it is never a non-decision."""

NON_DECISION_MAX_CHARACTERS: Final = 2_000
"""Nor is a reply longer than this: 40 words take about 250 characters, a pasted link a few
hundred more; the patterns then read at most this much."""

MAX_READ_CHARACTERS: Final = 20_000
"""The writer's own words read for signals and tone: about ten pages. A customer's mood shows
well before that; a 2,000-character message reads in under 2 ms, this much in about 20."""

MAX_REPEAT: Final = 4
"""Runs of one character are cut to this many: VADER weighs "!!!!" and "????" no more than four,
and 200,000 angry faces say no more than four."""

TONE_BUDGET_SECONDS: Final = 5.0
"""How long a reading may take in its worker thread before the event is handled without it.
The bounds above keep the worst input measured under 0.1 s; the budget is the guard."""

log = structlog.get_logger(__name__)
_T = TypeVar("_T")


@dataclass(frozen=True)
class ToneReading:
    """What a customer's message says about the conversation, and why."""

    difficult: bool  # needs a phone call rather than email
    reasons: tuple[str, ...]  # e.g. ("refund demand", "strongly negative tone (-0.72)")
    sentiment: float  # VADER compound score of the writer's own words, in [-1, 1]


NO_READING: Final = ToneReading(difficult=False, reasons=(), sentiment=0.0)
"""What a message counts as when it could not be read within the budget."""


def read_customer_message(subject: str | None, body: str) -> ToneReading:
    """Whether a customer's message is a difficult conversation, with the reasons found."""
    text = "\n".join(part for part in (_subject_line(subject), own_words(body)) if part)
    text = _REPEATS.sub(_repeat_cut, text[:MAX_READ_CHARACTERS])
    lowered = text.lower()
    reasons = [signal.reason for signal in CUSTOMER_SIGNALS if signal.found_in(lowered)]
    score = sentiment(text)
    if score <= STRONGLY_NEGATIVE:
        reasons.append(f"strongly negative tone ({score:.2f})")
    return ToneReading(difficult=bool(reasons), reasons=tuple(reasons), sentiment=score)


def is_non_decision(text: str) -> bool:
    """Whether a manager's reply only delegates ("handle it") without deciding anything."""
    mine = own_words(text)
    if len(mine) > NON_DECISION_MAX_CHARACTERS:
        return False
    if len(_WORD.findall(mine)) >= NON_DECISION_MAX_WORDS:
        return False
    return delegates(mine.lower()) and not names_an_action(mine)


async def read_customer_message_in_time(
    subject: str | None,
    body: str,
    *,
    thread_id: str,
    event_id: str,
    budget: float = TONE_BUDGET_SECONDS,
) -> ToneReading:
    """`read_customer_message` in a worker thread; NO_READING when it takes over `budget`."""
    reading = await _in_time(budget, lambda: read_customer_message(subject, body))
    if reading is None:
        log.warning(
            "customer message not read within its budget: counted as not difficult",
            thread_id=thread_id,
            event_id=event_id,
            body_chars=len(body),
            budget_seconds=budget,
        )
        return NO_READING
    return reading


async def is_non_decision_in_time(
    text: str, *, thread_id: str, event_id: str, budget: float = TONE_BUDGET_SECONDS
) -> bool:
    """`is_non_decision` in a worker thread; False (a decision) when it takes over `budget`."""
    verdict = await _in_time(budget, lambda: is_non_decision(text))
    if verdict is None:
        log.warning(
            "manager reply not read within its budget: counted as a decision",
            thread_id=thread_id,
            event_id=event_id,
            body_chars=len(text),
            budget_seconds=budget,
        )
        return False
    return verdict


async def _in_time(budget: float, reading: Callable[[], _T]) -> _T | None:
    """The reading's result, or None when it is not done within `budget` seconds.

    The thread keeps running after that (threads cannot be stopped): the input bounds keep it
    short; the event loop and the partition go on meanwhile.
    """
    try:
        async with asyncio.timeout(budget):
            return await asyncio.to_thread(reading)
    except TimeoutError:
        return None


def own_words(text: str) -> str:
    """The writer's own words (keepword_events.own_words: the reading every service shares),
    typographic quotes made plain and lines that are only a closing formula removed."""
    return _CLOSING_LINE.sub("", shared_own_words(text.translate(_PLAIN_QUOTES))).strip()


# --- the writer's own words ---------------------------------------------------------------

_PLAIN_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
# Only the closing line itself goes: what follows may be a name, but may as well be the
# customer's last word ("Thanks\nI still want my money back"). The first run of blanks is
# possessive: two runs either side of an optional comma would share a long run of spaces
# every way, quadratic in its length.
_CLOSING_LINE = re.compile(
    r"""^[ \t]*(?:thanks|thank\s+you|many\s+thanks|thx|cheers|best|all\s+the\s+best
        |(?:best|kind|warm|warmest)\s+regards|regards|sincerely|yours(?:\s+(?:truly|sincerely))?
        )[ \t]*+[,.!]?[ \t]*(?:\n|$)""",
    re.MULTILINE | re.IGNORECASE | re.VERBOSE,
)
_REPEATS = re.compile(rf"(.)\1{{{MAX_REPEAT},}}", re.DOTALL)
_SUBJECT_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|wg|sv|tr)\s*:\s*)+", re.IGNORECASE)
_WORD = re.compile(r"\w+(?:'\w+)?")


def _subject_line(subject: str | None) -> str:
    return _SUBJECT_PREFIX.sub("", (subject or "")[:MAX_READ_CHARACTERS]).strip()


def _repeat_cut(run: re.Match[str]) -> str:
    return run[1] * MAX_REPEAT
