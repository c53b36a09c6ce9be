"""What in a customer's words makes a conversation difficult: complaints, refund demands, legal
threats, sarcasm. Plain phrase lists, each with the reason it gives."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

__all__ = ["CUSTOMER_SIGNALS"]

# Each phrase is a lowercase pattern with a *cue*: a plain substring that every match contains.
# A pattern is only run when its cue occurs in the message, and matched against lowercased text
# (re.IGNORECASE makes Python's engine several times slower): most messages contain none of the
# cues, and a 2,000-character message must be read in well under 2 ms.

_CLAUSE_END = re.compile(r"[.,;:!?\n]")
# The writer disclaiming the phrase that follows: "I don't want my money back", "this is not a
# complaint", "no complaints". Only the writer's own disclaimers count: "why can't I get my
# money back" and "you won't give me a refund" are still demands.
_DISCLAIMER = re.compile(
    r"""(?: \b(?:don't|do\s+not|didn't|did\s+not|won't|will\s+not)\s+
            (?:want|need|expect|require|mean|ask\s+for)
          | \b(?:not|never)\s+(?:asking|looking|writing|trying)
          | \bno\s+need | \b(?:not|isn't|wasn't|no) )
        (?:\s+(?:a|an|the|really|just|meant|intended|as|to|for|my|our|any|full|of))*\s*$""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Phrase:
    """A way of saying it: `pattern` only matches text that contains `cue`."""

    cue: str
    pattern: re.Pattern[str]

    def matches(self, lowered: str) -> Iterator[re.Match[str]]:
        return self.pattern.finditer(lowered) if self.cue in lowered else iter(())


def _phrase(cue: str, pattern: str) -> _Phrase:
    if cue not in pattern:
        raise ValueError(f"the cue {cue!r} must appear in its pattern {pattern!r}")
    return _Phrase(cue, re.compile(pattern, re.VERBOSE))


def _spaced(words: str) -> str:
    """A multi-word phrase as a pattern (verbose patterns ignore literal spaces)."""
    return words.replace(" ", r"\s+")


def _words(*words: str) -> tuple[_Phrase, ...]:
    return tuple(_phrase(word, rf"\b{word}\b") for word in words)


@dataclass(frozen=True)
class _Signal:
    """One reason a conversation is difficult, and the phrases that show it."""

    reason: str
    phrases: tuple[_Phrase, ...]
    disclaimable: bool  # whether "not a ..." / "I don't want ..." right before cancels it

    def found_in(self, lowered: str) -> bool:
        return any(
            not (self.disclaimable and _disclaimed(lowered, match.start()))
            for phrase in self.phrases
            for match in phrase.matches(lowered)
        )


def _disclaimed(lowered: str, start: int) -> bool:
    """Whether the writer disclaims the phrase at `start`, earlier in the same clause."""
    clause_before = _CLAUSE_END.split(lowered[max(0, start - 80) : start])[-1]
    return _DISCLAIMER.search(clause_before) is not None


_BAD = ("worst", "terrible", "awful", "horrible", "shocking", "shoddy", "pathetic", "abysmal")
_BAD_WHAT = r"\s+(?:customer\s+)?(?:service|support|experience|company|business)\b"

_COMPLAINT = _Signal(
    "complaint",
    (
        _phrase("complain", r"\bcomplain(?:t|ts|ing|ed)?\b"),
        *_words("unacceptable", "ridiculous", "disgrace", "disgraceful", "appalling"),
        *_words("outrageous", "shambles", "scam", "scammed", "fraud", "fraudulent"),
        *_words("liar", "liars"),
        _phrase("joke", r"\b(?:this|it|that)(?:\s+is|'s)\s+(?:a|an\s+absolute)\s+joke\b"),
        _phrase("rip", r"\brip(?:ped)?[\s-]*off\b"),
        *(_phrase(bad, rf"\b{bad}{_BAD_WHAT}") for bad in _BAD),
        _phrase("fed", r"\bfed\s+up\b"),
        _phrase("sick", r"\bsick\s+and\s+tired\b"),
        _phrase("enough", r"\b(?:had|have\s+had)\s+enough(?:\s*[.!]|\s+of\b)"),
        _phrase("lied", r"\blied\s+to\s+(?:me|us)\b"),
        _phrase("lying", r"\blying\s+to\s+(?:me|us)\b"),
    ),
    disclaimable=True,
)

_REFUND_DEMAND = _Signal(
    "refund demand",
    (
        _phrase("money", r"\b(?:my|our|the)\s+money\s+back\b"),
        _phrase("refund", r"\brefund\s+(?:me|us|my|our|the|this|it|in\s+full)\b"),
        _phrase("refund", r"\b(?:a|full|partial|immediate|complete|my|our)\s+refund\b"),
        _phrase("charge", r"\bcharge[\s-]?backs?\b"),
        _phrase("reimburse", r"\breimburse(?:ment)?\b"),
        _phrase("dispute", r"\bdispute\s+(?:the|this|that)\s+(?:charge|payment|transaction)\b"),
        *(
            _phrase(
                verb.split()[0],
                rf"\b{_spaced(verb)}\s+(?:me\s+)?(?:my|our|the)\s+(?:deposit|money|payment|fee)\b",
            )
            for verb in ("return", "give back", "pay back", "repay")
        ),
        _phrase("payment", r"\b(?:cancel|stop)\s+(?:the\s+|my\s+)?payment\b"),
        # The same in the languages customers of a European agency most often fall back on.
        *_words("reembolso", "remboursement", "rembourser", "remboursez"),
        _phrase("ckerstattung", r"\br(?:ü|ue)ckerstattung\b"),
        _phrase("geld", r"\bgeld\s+zur(?:ü|ue)ck\b"),
    ),
    disclaimable=True,
)

_LEGAL_THREAT = _Signal(
    "legal threat",
    (
        *(
            _phrase(who.split()[0], rf"\b(?:my|our|a)\s+{_spaced(who)}s?\b")
            for who in ("lawyer", "attorney", "solicitor", "legal team", "legal counsel")
        ),
        _phrase("legal", r"\blegal\s+(?:action|proceedings|steps|advice|route)\b"),
        *_words("lawsuit", "litigation", "suing", "bbb", "ombudsman"),
        _phrase("sue", r"\bsue\s+(?:you|your|them|the\s+company)\b"),
        _phrase(
            "sue",
            r"""\b(?:will|shall|'ll|gonna|going\s+to|threaten(?:ing|ed)?\s+to|hesitate\s+to
                  |intend\s+to|plan\s+to|prepared\s+to|right\s+to)\s+sue\b""",
        ),
        _phrase("claims", r"\bsmall[\s-]+claims\b"),
        _phrase("standards", r"\btrading\s+standards\b"),
        _phrase("bureau", r"\bbetter\s+business\s+bureau\b"),
        _phrase("general", r"\battorney\s+general\b"),
        _phrase("consumer", r"\bconsumer\s+(?:protection|rights\s+(?:agency|authority))\b"),
        _phrase("report", r"\breport\s+(?:you|your\s+(?:company|business|firm))\b"),
        _phrase(
            "report",
            r"\breport\s+(?:this|it)\s+to\s+(?:the\s+)?(?:authorities|police|regulator|ftc)\b",
        ),
        _phrase("court", r"\b(?:see\s+you\s+in|take\s+you\s+to|taking\s+you\s+to|in|to)\s+court\b"),
        *_words("abogado", "abogados", "avocat", "avocats"),
        _phrase("anw", r"\banw(?:ä|ae)lte?\b"),
    ),
    disclaimable=False,
)

_SARCASM = _Signal(
    "sarcasm",
    (
        _phrase("nothing", r"\bthanks\s+for\s+nothing\b"),
        _phrase("what", r"\bwhat\s+a\s+(?:surprise|shock)\b"),
        _phrase(
            "oh",
            r"""\boh,?\s+(?:great|wonderful|brilliant|fantastic|perfect|lovely|joy|good)\b
                [^.!?\n]{0,40}?\b(?:another|again|still|more|no|nothing|never|late|waiting)\b""",
        ),
    ),
    disclaimable=False,
)

CUSTOMER_SIGNALS: Final = (_COMPLAINT, _REFUND_DEMAND, _LEGAL_THREAT, _SARCASM)
