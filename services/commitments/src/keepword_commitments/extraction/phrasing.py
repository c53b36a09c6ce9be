"""How a promise rule is written: a first-party subject, a middle, a verb in any of its forms.

Most rules name a first-party subject ("we", "I", "our team", "your account manager", a
colleague's or the company's name before "will", "our team, who will"), then up to six words
(the *middle*: "will", "'ll definitely", "'ll try to", "'re committed to"), then the verb in
any of its forms ("send", "sending"). A rule is only tried on clauses that contain one of its
cue words, which keeps it fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from keepword_events import CommitmentKind

from .vocabulary import FIRST_PARTY, FLAGS, INSERTION


@dataclass(frozen=True, slots=True)
class PromiseRule:
    """One way of promising one kind of thing."""

    name: str
    kind: CommitmentKind
    # Words one of which every match contains: a clause without any is not searched, which
    # keeps a long reply fast (most clauses of a reply promise nothing).
    cues: frozenset[str]
    pattern: re.Pattern[str]
    needs_time: bool = False  # only a promise with a time frame ("by Friday", "shortly")
    # The pattern has a first-party subject and a `mid` group between subject and verb, which
    # must hold a commitment word ("will", "'ll") unless it is a present-tense house policy.
    subject_frame: bool = False
    verb_commits: bool = False  # the verb is itself the commitment: "we guarantee ..."
    negated_verb: bool = False  # the negation is the promise: "we won't raise your fee"


def inflections(verb: str) -> list[str]:
    """Base, third-person and -ing forms ("send", "sends", "sending"): what may follow "we'll",
    "our team" and "we're committed to". The spelling rules err towards too many forms
    ("shiping" besides "shipping"), which costs nothing."""
    irregular = {"be": ["be", "is", "are", "being"], "have": ["have", "has", "having"]}
    if verb in irregular:
        return irregular[verb]
    third = verb + ("es" if verb.endswith(("s", "sh", "ch", "x", "o")) else "s")
    if re.search(r"[^aeiou]y$", verb):
        third = verb[:-1] + "ies"
    stem = verb[:-1] if verb.endswith("e") and not verb.endswith("ee") else verb
    forms = [verb, third, stem + "ing"]
    if re.search(r"[^aeiou][aeiou][bdgmnpt]$", verb):
        forms.append(verb + verb[-1] + "ing")
    return forms


def verbs(*phrases: str) -> str:
    """Verb phrases as alternatives: the first word in all its forms, a space meaning any
    whitespace ("get back to you" also matches "getting back to you")."""
    alternatives = []
    for phrase in phrases:
        verb, _, rest = phrase.partition(" ")
        forms = "|".join(inflections(verb))
        words = "".join(rf"\s+{word}" for word in rest.split(" ") if word)
        alternatives.append(f"(?:{forms}){words}")
    return "|".join(alternatives)


# "and" goes on with the verb itself: "and send", "and will also send", never "and I will".
_CONTINUED = r"(?=(?:\s+(?:will|shall|then|also|\w+ly))*\s+(?:{verb})\b)"


def subject_we(verb: str) -> str:
    """First-party subject, up to six words of middle, the verb.

    The middle holds no "and": in "we'll refund the fee and send a replacement by Friday" the
    second verb is a promise of its own, whose subject is the "and" (a continuation: the
    guards take subject and commitment from the clause before it)."""
    return (
        rf"(?<![\w'])(?P<subj>{FIRST_PARTY}|and{_CONTINUED.format(verb=verb)})(?:{INSERTION})?"
        rf"(?P<mid>(?:'(?:ll|re|m|d|ve)\b)?(?:\s+(?!and\b)[\w'-]+){{0,6}}?)"
        rf"\s+(?P<verb>{verb})\b"
    )


def subject_you(verb: str) -> str:
    """The customer as grammatical subject of our promise: "you'll hear from us", "we'll make
    sure you get an answer", "you should receive" (an expectation: the guards want a time)."""
    return (
        # the adverb belongs to the middle, where the hedge guard reads ("you'll probably")
        r"(?:\byou(?P<mid>(?:'ll|\s+will|'re\s+going\s+to|\s+are\s+going\s+to|\s+should"
        r"|\s+can\s+expect\s+to)(?:\s+(?:\w+ly|also|then|still))?)"
        r"|\b(?:make\s+sure|ensure)\s+(?:that\s+)?you(?:\s+(?:\w+ly|also|then|still))?)"
        rf"\s+(?:{verb})\b"
    )


def make_rule(
    name: str, kind: CommitmentKind, cues: str, pattern: str, **flags: bool
) -> PromiseRule:
    words = frozenset(form for cue in cues.split() for form in inflections(cue))
    return PromiseRule(name, kind, words, re.compile(pattern, FLAGS), **flags)
