"""Rules for plans told in the perfect tense: "I've scheduled a call with you for Thursday".

What staff have already booked is a promise of what will happen: the call, the visit, the
follow-up. "Scheduled", "booked", "arranged" are the commitment themselves (no "will"); a past
perfect ("I had scheduled a call") is not matched, and the usual guards apply (a condition, a
negation, a hedge before the verb). Calls count without a time, as other callbacks do; a
follow-up or a piece of work needs one.
"""

from __future__ import annotations

from keepword_events import CommitmentKind

from .phrasing import PromiseRule, make_rule
from .vocabulary import FIRST_PARTY

__all__ = ["PLAN_RULES"]

_PLANNED = r"(?:scheduled|booked|arranged|set\s+up|lined\s+up|organi[sz]ed|planned)"
_CUES = "scheduled booked arranged set lined organised organized planned"
# "we've", "we have already", "I've put a hold on your account and": a done step may come first.
_HAVE = r"""(?P<mid>(?:'ve|\s+have)(?:\s+(?:already|also|now|just|gone\s+ahead\s+and))?
    (?:(?:\s+[\w'-]+){1,6}?\s+and)?)"""


def _perfect(done: str) -> str:
    return rf"(?<![\w'])(?P<subj>{FIRST_PARTY}){_HAVE}\s+(?P<verb>{done})\b"


PLAN_RULES: tuple[PromiseRule, ...] = (
    make_rule(
        "callback.call_is_booked",
        CommitmentKind.CALLBACK,
        _CUES,
        _perfect(
            rf"""{_PLANNED}\s+(?:you\s+(?:in\s+)?(?:for\s+)?)?(?:an?|the|your)\s+
                (?:[\w-]+\s+){{0,2}}?(?:call|phone\s+call|callback|call-back)"""
        ),
        subject_frame=True,
        verb_commits=True,
    ),
    make_rule(
        "response.follow_up_is_booked",
        CommitmentKind.RESPONSE_TIME,
        _CUES + " set made reminder",
        _perfect(
            rf"""{_PLANNED}\s+an?\s+follow[-\s]?up(?!\s+call)
              | (?:set|made)\s+(?:myself\s+|ourselves\s+)?an?\s+(?:reminder|note)\s+to\s+
                (?:follow\s+up|get\s+back\s+to\s+you|check\s+in|reply|write\s+(?:back\s+)?to\s+you
                |update\s+you|contact\s+you|email\s+you)"""
        ),
        needs_time=True,
        subject_frame=True,
        verb_commits=True,
    ),
    make_rule(
        "delivery.work_is_booked",
        CommitmentKind.DELIVERY,
        _CUES,
        _perfect(
            rf"""{_PLANNED}\s+(?:(?:the|your|an?)\s+(?:[\w-]+\s+){{0,3}}?(?:migration|installation
                |install|visit|delivery|replacement|upgrade|maintenance|repair|fix|release
                |deployment|shipment|pickup|collection|engineer|technician|courier
                |reactivation|restore)
              | for\s+(?:the|your|an?)\s+(?:[\w-]+\s+){{0,3}}?[\w-]+\s+to\s+be\s+(?:sent|shipped
                |delivered|collected|installed|replaced|repaired|fixed|deployed|restored)
                (?:\s+out)?)"""
        ),
        needs_time=True,
        subject_frame=True,
        verb_commits=True,
    ),
)
