"""Rules for promises to be in touch: callbacks and response times."""

from __future__ import annotations

from keepword_events import CommitmentKind

from .phrasing import PromiseRule, make_rule, subject_we, subject_you, verbs
from .vocabulary import ALLOW

__all__ = ["CONTACT_RULES"]

_A_CALL = r"a (?:quick )?(?:call|phone call|callback)"
_ANSWER = r"(?:an? |our |my )?(?:\w+ )?(?:answer|reply|response|update|feedback|decision)"


CONTACT_RULES: tuple[PromiseRule, ...] = (
    # -- callback -------------------------------------------------------------------------
    make_rule(
        "callback.we_call_you",
        CommitmentKind.CALLBACK,
        "call phone ring telephone callback",
        subject_we(
            verbs(
                "call you(?: back)?",
                "phone you(?: back)?",
                "ring you(?: back)?",
                "telephone you",
                "give you a (?:quick )?(?:call|ring|buzz)",
                f"set up {_A_CALL}",
                f"schedule {_A_CALL}",
                f"book {_A_CALL}",
                f"arrange {_A_CALL}",
            )
        ),
        subject_frame=True,
    ),
    make_rule(
        "callback.expect_a_call",
        CommitmentKind.CALLBACK,
        "call ring callback",
        r"""(?:\bplease\s+)?\b(?:expect|count\s+on)\s+a\s+(?:quick\s+)?
            (?:call|phone\s+call|ring|callback)\b
          | """
        + subject_you(r"(?:get|receive)\s+a\s+(?:quick\s+)?(?:call|phone\s+call|ring|callback)"),
    ),
    # -- response time --------------------------------------------------------------------
    make_rule(
        "response.we_respond",
        CommitmentKind.RESPONSE_TIME,
        (
            "respond reply answer back touch revert follow know update confirm feedback "
            "response decision drop email message write provide contact have circle reach touch "
            "loop ping shoot come"
        ),
        subject_we(
            verbs(
                "respond",
                "reply",
                "answer",
                "get back to you",
                "come back to you",
                "be (?:back )?in touch",
                "get in touch",
                "revert",
                "follow up",
                "let you know",
                "update you",
                "confirm",
                r"drop you (?:a|an) (?:\w+ )?(?:line|note|email|message)",
                "email you",
                "contact you",
                "message you",
                "write (?:back )?to you",
                f"send you {_ANSWER}",
                f"get you {_ANSWER}",
                f"provide (?:you with )?{_ANSWER}",
                f"have {_ANSWER} for you",
                "circle back",
                "reach out(?: to you)?",
                "touch base(?: with you)?",
                # idioms
                "loop back(?: with you| to you)?",
                "ping you",
                r"shoot you (?:a|an) (?:\w+ )?(?:email|note|message|line)",
                "come back (?:to you )?with",
            )
        ),
        needs_time=True,
        subject_frame=True,
    ),
    make_rule(
        "response.you_hear_from_us",
        CommitmentKind.RESPONSE_TIME,
        "hear answer reply response update decision",
        subject_you(
            r"""hear\s+(?:back\s+)?from\s+(?:us|me|our\b|someone|one\s+of\s+us|the\s+team)
            | (?:get|receive|have)\s+(?:an?|our|my)\s+(?:\w+\s+)?
                (?:answer|reply|response|update|decision)"""
        ),
        needs_time=True,
    ),
    make_rule(
        "response.expect_an_answer",
        CommitmentKind.RESPONSE_TIME,
        "expect count",
        r"""(?:\bplease\s+)?\b(?:expect|count\s+on)\s+(?:an?|our|my)\s+(?:\w+\s+)?
            (?:answer|reply|response|update|decision)\b""",
        needs_time=True,
    ),
    make_rule(
        "response.next_update",
        CommitmentKind.RESPONSE_TIME,
        "update",
        r"""\b(?:next|another|further)\s+update\s*(?::\s*|(?=(?:in|within|by|at|before)\b))""",
        needs_time=True,
    ),
    make_rule(
        "response.allow_time",
        CommitmentKind.RESPONSE_TIME,
        "allow",
        ALLOW
        + r"""(?:an?\s+|our\s+)?(?:response|reply|answer
            |(?:us|our\s+(?:[\w-]+\s+)?team|me)\s+to\s+(?:respond|reply|get\s+back))\b""",
        needs_time=True,
    ),
)
