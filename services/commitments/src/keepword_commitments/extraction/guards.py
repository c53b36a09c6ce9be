"""Guards: why a rule's match is not a promise (conditional, question, third party, request
to the customer, negation, past tense, hedge, no commitment word, no time frame).

Every guard looks at the match's clause, or its sentence, and nothing wider. Decisions:

- Hedged statements are not promises: "I hope to", "we'll try to", "we usually", "we may",
  "we could", "hopefully", "if possible"; nor is a need ("Dana will need to confirm"). A
  habit ("we usually reply within a day") is not a commitment anybody can be held to.
- A continuation ("... and send a replacement by Friday") takes its subject and its "will"
  from the clause before it: "We'll try to refund it and send ..." is hedged as a whole.
- Conditionals: a trigger inside the condition ("If we ship within 24 hours, ...") is not a
  promise; the main clause of a conditional ("If you sign today, we'll ship by Friday") is,
  because the customer will hold us to it once the condition is met.
- "can" is ability, not commitment ("we can have it ready by Friday" is not recorded).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .phrasing import PromiseRule
from .times import TimePhrase
from .vocabulary import FIRST_PARTY, FLAGS

__all__ = ["GUARDS", "RuleMatch"]

_COMMITMENT = re.compile(
    r"""\b(?:will|shall|going\s+to|promises?|commits?\s+to|committed\s+to|guarantees?|pledges?
        |undertakes?)\b"""
    r"|'ll\b",
    FLAGS,
)
# A house policy in the present tense ("we ship within 24 hours") or a plan in the present
# progressive ("we're sending it on Friday") has at most these between subject and verb.
_POLICY_MIDDLE = re.compile(
    r"\s*(?:'re|'m|are|am|is)?\s*(?:always|also|now|then)?\s*", re.IGNORECASE
)
_NEGATION = re.compile(
    r"\b(?:not|never|no|cannot|nobody|nothing|unable|neither|nor)\b|n't\b", re.IGNORECASE
)
_HEDGE = re.compile(
    r"""\b(?:hope|hoping|hopefully|try|trying|tries|aim|aiming|attempt|best|may|might|could
        |would|probably|possibly|perhaps|maybe|ideally|usually|typically|normally
        |generally|often|sometimes|tend|tends|intend|plan|planning|want|wish|likely
        |think|believe|suppose|guess|reckon|need|needs)\b|'d\b""",
    FLAGS,
)
# An expectation about our own work ("we anticipate", "you should receive", "is expected to")
# is what support writing promises with: it counts when it names a time a clock can check.
_EXPECTATION = re.compile(
    r"""\b(?:should|expects?|expected|expecting|anticipates?|anticipated|estimates?|estimated
        |scheduled)\b""",
    FLAGS,
)
# Hedges that may stand anywhere in the sentence, even after the promise or in an if-clause.
_HEDGE_PHRASE = re.compile(
    r"""\b(?:if\s+possible|if\s+(?:we|I)\s+can|hopefully|with\s+(?:any\s+)?luck
        |fingers\s+crossed|all\s+being\s+well|if\s+all\s+goes\s+well|ideally)\b""",
    FLAGS,
)
_SUBJECT = re.compile(rf"(?<![\w'])(?:{FIRST_PARTY})\b", FLAGS)
_PAST_AUXILIARY = re.compile(r"\b(?:did|had|was|were|used\s+to)\b", re.IGNORECASE)
_PAST_TIME = re.compile(
    r"""\b(?:yesterday|ago|previously|in\s+the\s+past
        |last\s+(?:time|week|month|year|night|quarter|monday|tuesday|wednesday|thursday|friday)
        |earlier\s+(?:today|this\s+(?:week|month|year)))\b""",
    FLAGS,
)
_THIRD_PARTY = re.compile(
    r"""\b(?:they|he|she|competitors?|rivals?|google|nobody|no\s+one|everyone|everybody|anyone
        |anybody|people
        |(?:other|another|some|many|most|cheap|rival|those|these)\s+(?:[\w-]+\s+)?
            (?:agenc(?:y|ies)|compan(?:y|ies)|firms?|vendors?|providers?|freelancers?
            |consultants?|people|guys)
        |(?:your|their|the|our|his|her)\s+(?:old|previous|former|last|other|current)\s+
            (?:[\w-]+\s+)?(?:agenc(?:y|ies)|compan(?:y|ies)|firms?|vendors?|providers?
            |freelancers?|consultants?|developers?|marketers?|team))\b
      | \byou\s+(?:said|wrote|mentioned|claimed|asked|told\s+us|were\s+told)\b""",
    FLAGS,
)
_REQUEST = re.compile(
    r"""\b(?:please|kindly)\b(?!\s+(?:note|be\s+assured|rest\s+assured|be\s+aware))
      | \b(?:can|could|would|will)\s+you\b | \byou\s+(?:need|must|have\s+to|should|ought)\b""",
    FLAGS,
)
_CONDITION = re.compile(
    r"""\b(?:if|unless|whether|in\s+case|provided|as\s+long\s+as|assuming|suppose|supposing
        |in\s+the\s+event)\b""",
    FLAGS,
)
_QUESTION_OPENER = re.compile(
    r"""\W*(?:did|do|does|can|could|would|will|shall|should|is|are|was|were|have|has|when
        |what|how|why|where|which|who|may)\b""",
    FLAGS,
)


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """A rule's match with the text around it that the guards look at."""

    rule: PromiseRule
    match: re.Match[str]
    masked: str
    sentence: tuple[int, int]
    clause: tuple[int, int]
    is_last_clause: bool
    phrase: TimePhrase | None

    @property
    def lead(self) -> str:
        """The clause up to the rule's match (the subject, for subject rules)."""
        return self.masked[self.clause[0] : self.match.start()]

    @property
    def middle(self) -> str:
        return self.match.groupdict().get("mid") or ""

    @property
    def continues(self) -> bool:
        """The match's subject is an "and": it goes on from a promise made before it."""
        return (self.match.groupdict().get("subj") or "").lower() == "and"

    @property
    def before_verb(self) -> str:
        return self.lead if self.rule.negated_verb else f"{self.lead} {self.middle}"


def _conditional(c: RuleMatch) -> bool:
    return _CONDITION.search(c.lead) is not None


def _question(c: RuleMatch) -> bool:
    sentence = c.masked[c.sentence[0] : c.sentence[1]].rstrip("\"')] ")
    if not sentence.endswith("?"):
        return False
    return c.is_last_clause or _QUESTION_OPENER.match(sentence) is not None


def _third_party(c: RuleMatch) -> bool:
    return _THIRD_PARTY.search(c.lead) is not None


def _request(c: RuleMatch) -> bool:
    return not c.rule.subject_frame and _REQUEST.search(c.lead) is not None


def _negated(c: RuleMatch) -> bool:
    return _NEGATION.search(c.before_verb) is not None


def _past(c: RuleMatch) -> bool:
    clause = c.masked[c.clause[0] : c.clause[1]]
    return (
        _PAST_AUXILIARY.search(c.before_verb) is not None or _PAST_TIME.search(clause) is not None
    )


def _hedged(c: RuleMatch) -> bool:
    sentence = c.masked[c.sentence[0] : c.sentence[1]]
    if _HEDGE.search(c.before_verb) or _HEDGE_PHRASE.search(sentence):
        return True
    return not _has_clock_time(c) and _EXPECTATION.search(c.before_verb) is not None


def _has_clock_time(c: RuleMatch) -> bool:
    return c.phrase is not None and not c.phrase.is_vague


def _uncommitted(c: RuleMatch) -> bool:
    if c.continues:  # "we'll refund the fee and send ...": the subject and "will" come first
        committed = c.rule.verb_commits or _COMMITMENT.search(c.before_verb) is not None
        return not committed or _SUBJECT.search(c.lead) is None
    if not c.rule.subject_frame or c.rule.verb_commits:
        return False
    if _COMMITMENT.search(c.middle):
        return False
    if _has_clock_time(c) and _EXPECTATION.search(c.middle):
        return False  # "we expect your order to ship by Thursday"
    # "we ship within 24 hours": a house policy in the present tense, if it has a time frame.
    return not (_POLICY_MIDDLE.fullmatch(c.middle) and c.phrase is not None)


def _timeless(c: RuleMatch) -> bool:
    return c.rule.needs_time and c.phrase is None


def _vague(c: RuleMatch) -> bool:
    """ "We'll get back to you shortly": no clock can keep or break it (the maker is told)."""
    return c.rule.needs_time and c.phrase is not None and c.phrase.is_vague


GUARDS: tuple[tuple[str, Callable[[RuleMatch], bool]], ...] = (
    ("conditional", _conditional),
    ("question", _question),
    ("third_party", _third_party),
    ("request", _request),
    ("negation", _negated),
    ("past_tense", _past),
    ("hedge", _hedged),
    ("no_commitment", _uncommitted),
    ("vague_time", _vague),
    ("no_time_frame", _timeless),
)
