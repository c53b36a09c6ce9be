"""A reply read for promises: sentences, clauses, rule matches, guards, due times."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from keepword_events import CommitmentKind

from .due_times import due_time
from .guards import GUARDS, RuleMatch
from .kinds import RULES
from .sentences import MAX_REPLY_CHARACTERS, WORD, mask_quoted, split_clauses, split_sentences
from .times import TimePhrase, phrase_for, time_phrases

__all__ = [
    "NEEDS_CONFIRMATION",
    "Candidate",
    "FoundPromise",
    "Reading",
    "explain_promises",
    "find_promises",
    "read_reply",
]

NEEDS_CONFIRMATION = frozenset({CommitmentKind.DELIVERY, CommitmentKind.OUTCOME})
"""Kinds that only production can say are feasible."""


@dataclass(frozen=True, slots=True)
class FoundPromise:
    """One promise in a reply."""

    kind: CommitmentKind
    sentence: str  # the sentence the promise is in, whitespace-normalised
    span: tuple[int, int]  # start/end offsets of the matched words in the original text
    due_at: datetime | None  # aware, UTC; None when the promise names no time
    needs_confirmation: bool  # delivery and outcome promises need production's confirmation
    rule: str  # short name of the rule that matched, for explanations
    # The vague time the promise named instead of one a clock can check ("shortly", "as soon
    # as possible"), so that its maker can be asked for one; None when it named none or a real one.
    vague_time: str | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A rule's match and what became of it: `rejected_by` names the guard, or is None.
    Due times are only worked out for accepted candidates."""

    promise: FoundPromise
    rejected_by: str | None


def explain_promises(text: str, *, sent_at: datetime, timezone: str) -> list[Candidate]:
    """Every rule match in `text`, accepted or rejected with the name of the guard that
    rejected it; "one_per_clause" marks a match that lost to an earlier rule in its clause."""
    if sent_at.tzinfo is None or sent_at.utcoffset() is None:
        raise ValueError("sent_at must be an aware datetime")
    zone = ZoneInfo(timezone)
    text = text[:MAX_REPLY_CHARACTERS]  # a prefix: spans still point into the caller's text
    masked = mask_quoted(text)
    candidates: list[Candidate] = []
    for sentence in split_sentences(masked):
        clauses = split_clauses(masked, *sentence)
        normalised = " ".join(text[sentence[0] : sentence[1]].split())
        for index in range(len(clauses)):
            taken: list[RuleMatch] = []
            for found in _matches(masked, sentence, clauses, index):
                rejected_by = next((name for name, guard in GUARDS if guard(found)), None)
                if rejected_by in (None, "vague_time") and not _second_promise(found, taken):
                    rejected_by = "one_per_clause"
                # A promise with only a vague time still takes its clause, as it did when it
                # was recorded: the maker is told of it instead.
                if rejected_by in (None, "vague_time"):
                    taken.append(found)
                due_at = None
                if rejected_by is None and found.phrase is not None:
                    due_at = due_time(found.phrase, sent_at, zone)
                candidates.append(Candidate(_promise(found, normalised, due_at), rejected_by))
    return candidates


def _second_promise(found: RuleMatch, taken: list[RuleMatch]) -> bool:
    """Whether `found` may stand beside the promises its clause already holds: only when one
    of them goes on from the other with "and" ("we'll refund the fee and send a replacement"),
    their words apart and their kinds different."""
    return all(
        (found.continues or t.continues)
        and (found.match.start() >= t.match.end() or t.match.start() >= found.match.end())
        and found.rule.kind != t.rule.kind
        for t in taken
    )


def find_promises(text: str, *, sent_at: datetime, timezone: str) -> list[FoundPromise]:
    """The promises a reply makes to the customer, in text order.

    `sent_at` must be aware; relative times ("within three hours", "by Friday") are resolved
    against it in `timezone` (an IANA name such as "America/New_York"). Pure: no I/O."""
    found = explain_promises(text, sent_at=sent_at, timezone=timezone)
    return sorted((c.promise for c in found if c.rejected_by is None), key=lambda p: p.span)


@dataclass(frozen=True, slots=True)
class Reading:
    """What a reply promises: the promises to record, and every promise that named only a vague
    time (recorded or not), whose maker should be asked for a time a clock can check."""

    promises: list[FoundPromise]
    vague: list[FoundPromise]


def read_reply(text: str, *, sent_at: datetime, timezone: str) -> Reading:
    """`find_promises` and the vague ones of the same reading, in text order."""
    candidates = explain_promises(text, sent_at=sent_at, timezone=timezone)
    kept = [c.promise for c in candidates if c.rejected_by is None]
    vague = [
        c.promise
        for c in candidates
        if c.promise.vague_time is not None and c.rejected_by in (None, "vague_time")
    ]
    return Reading(sorted(kept, key=_by_span), sorted(vague, key=_by_span))


def _by_span(promise: FoundPromise) -> tuple[int, int]:
    return promise.span


def _matches(
    masked: str, sentence: tuple[int, int], clauses: list[tuple[int, int]], index: int
) -> Iterator[RuleMatch]:
    clause, is_last = clauses[index], index == len(clauses) - 1
    words = {word.lower() for word in WORD.findall(masked, *clause)}
    phrases: list[TimePhrase] | None = None  # found once, and only if some rule matched
    for rule in RULES:
        if rule.cues.isdisjoint(words):
            continue
        for m in rule.pattern.finditer(masked, *clause):
            if phrases is None:
                phrases = time_phrases(masked, *clause)
            phrase = phrase_for(masked, clauses, phrases, m.start())
            yield RuleMatch(rule, m, masked, sentence, clause, is_last, phrase)


def _promise(found: RuleMatch, sentence: str, due_at: datetime | None) -> FoundPromise:
    start, end = found.match.span()
    vague = None
    if found.phrase is not None and found.phrase.is_vague:
        vague = " ".join(found.masked[found.phrase.start : found.phrase.end].split()).lower()
    if found.phrase is not None and found.clause[0] <= found.phrase.start < found.clause[1]:
        start, end = min(start, found.phrase.start), max(end, found.phrase.end)
    return FoundPromise(
        kind=found.rule.kind,
        sentence=sentence,
        span=(start, end),
        due_at=due_at,
        needs_confirmation=found.rule.kind in NEEDS_CONFIRMATION,
        rule=found.rule.name,
        vague_time=vague,
    )
