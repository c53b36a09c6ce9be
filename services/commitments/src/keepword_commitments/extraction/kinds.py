"""The promise rules, one regular expression per way of promising one kind of thing.

The first rule in `RULES` order that survives the guards wins its clause (refund before
delivery, etc.). Decisions:

- Response-time and delivery promises need a time frame (vague ones such as "shortly" count,
  with no due time): "our team will review your site" gives the ledger nothing to check.
  Refund, callback, outcome and price promises count without one.
- A present-tense house policy or a present-progressive plan with a time frame is a promise
  ("we ship within 24 hours", "we're sending it on Friday").
- Staff write the replies, so a capitalised name right before "will" ("Casey will call you")
  is taken to be a colleague; pronouns, "Google" and words such as "Nothing" are not.
"""

from __future__ import annotations

from keepword_events import CommitmentKind

from .phrasing import PromiseRule, make_rule, subject_we, subject_you, verbs
from .vocabulary import FIRST_PARTY, OUTCOME, QTY, UNIT

__all__ = ["RULES"]

_REFUND = r"(?:a|the|your) (?:full |partial )?refund"
_PRICE = r"(?:the|your|this|that|our) (?:[\w$,.-]+ ){0,2}?(?:price|rate|fee|quote|pricing)"
_A_CALL = r"a (?:quick )?(?:call|phone call|callback)"
_ANSWER = r"(?:an? |our |my )?(?:\w+ )?(?:answer|reply|response|update|feedback|decision)"
_DELIVERED = r"(?:ready|done|finished|live|online|out|launched|published|up and running)"
_TO_YOU = r"(?:to|with|over to|back to) you"
_DELIVERABLE_STATE = r"""ready|done|finished|complete|completed|delivered|shipped|live|published
    |launched|sent|uploaded|submitted|available|online|handed\s+over|in\s+your\s+inbox
    |with\s+you|back\s+to\s+you|up\s+and\s+running"""

RULES: tuple[PromiseRule, ...] = (
    # -- refund ---------------------------------------------------------------------------
    make_rule(
        "refund.we_refund",
        CommitmentKind.REFUND,
        "refund reimburse repay pay return credit money",
        subject_we(
            verbs(
                "refund",
                "reimburse",
                "repay",
                "pay you back",
                r"return (?:your|the) (?:[\w$,.-]+ ){0,2}?(?:deposit|money|payment|fees?)",
                r"credit (?:[\w$,.-]+ ){0,5}?back",
                f"give you (?:your money back|{_REFUND})",
                f"issue (?:you )?{_REFUND}",
                f"process {_REFUND}",
                f"send (?:you )?{_REFUND}",
                f"offer (?:you )?{_REFUND}",
                f"arrange {_REFUND}",
            )
        ),
        subject_frame=True,
    ),
    make_rule(
        "refund.you_get_money_back",
        CommitmentKind.REFUND,
        "back refund credit",
        subject_you(
            r"""(?:get|receive|have)\s+(?:
                (?:your|the)\s+(?:[\w$,.-]+\s+){0,2}?(?:money|deposit|payment|fees?)\s+back
              | (?:a\s+)?(?:full\s+|partial\s+)?(?:refund|credit) | your\s+refund)"""
        ),
    ),
    make_rule(
        "refund.passive",
        CommitmentKind.REFUND,
        "refunded returned credited reimbursed processed paid sent back",
        r"""\b(?:your|the)\s+(?:[\w$,.-]+\s+){0,2}?(?:deposit|refund|money|payment|fees?)\s+
            (?P<mid>will|shall|is\s+going\s+to)\s+be\s+(?:\w+ly\s+)?
            (?:refunded|returned|credited|reimbursed|processed|paid\s+back|sent\s+back|back)\b""",
    ),
    # -- price ----------------------------------------------------------------------------
    make_rule(
        "price.we_hold_price",
        CommitmentKind.PRICE,
        "price rate fee quote pricing discount match",
        subject_we(
            verbs(
                r"match (?:any|a|their) (?:[\w-]+ )?(?:lower|cheaper|better) "
                r"(?:price|quote|offer|rate)s?",
                "price-match",
                f"lock (?:in )?{_PRICE}",
                f"freeze {_PRICE}",
                f"honour {_PRICE}",
                f"honor {_PRICE}",
                f"hold {_PRICE}",
                f"guarantee {_PRICE}",
                f"keep {_PRICE} (?:at|the same|unchanged|fixed)",
            )
        ),
        subject_frame=True,
    ),
    make_rule(
        "price.we_wont_raise",
        CommitmentKind.PRICE,
        "price rate fee fees pricing retainer",
        rf"""(?<![\w'])(?P<subj>{FIRST_PARTY})
            (?P<mid>'ll\s+not|\s+will\s+not|\s+will\s+never|\s+won't|\s+shall\s+not)\s+
            (?P<verb>(?:raise|increase|change|put\s+up|touch)\s+(?:the|your|our|this)\s+
                (?:[\w$,.-]+\s+){{0,2}}?(?:price|rate|fees?|pricing|retainer))\b""",
        verb_commits=True,
        negated_verb=True,
    ),
    make_rule(
        "price.price_is_locked",
        CommitmentKind.PRICE,
        "price rate quote fee fees pricing discount retainer offer deal",
        r"""\b(?:the|your|this|that|our)\s+(?:[\w$,.-]+\s+){0,3}?
            (?:price|rate|quote|fees?|pricing|discount|retainer|offer|deal)
            (?:\s+of\s+\$?[\d,.]+(?:\s+(?:per|an?|/)\s*\w+)?)?\s+
            (?:(?P<mid>is|will\s+be|stays|will\s+stay|remains|will\s+remain)\s+(?:\w+ly\s+)?
                (?:locked|fixed|frozen|guaranteed|held|honou?red|valid|the\s+same|unchanged)
              | (?:won't|will\s+not|will\s+never)\s+(?:change|go\s+up|increase|rise))\b""",
    ),
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
            "response decision drop email message write"
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
                "message you",
                "write (?:back )?to you",
                f"send you {_ANSWER}",
                f"get you {_ANSWER}",
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
    # -- delivery -------------------------------------------------------------------------
    make_rule(
        "delivery.we_deliver",
        CommitmentKind.DELIVERY,
        (
            "ship deliver send launch publish finish complete finalise finalize submit upload "
            "hand roll implement migrate build write go set have get"
        ),
        subject_we(
            verbs(
                "ship",
                "deliver",
                "send",
                "launch",
                "publish",
                "finish",
                "complete",
                "finalise",
                "finalize",
                "submit",
                "upload",
                "hand over",
                "roll out",
                "implement",
                "migrate",
                "build",
                "write",
                "go live",
                "set up",
                rf"have (?:[\w$,.-]+ ){{1,8}}?(?:{_DELIVERED}|{_TO_YOU})",
                rf"get (?:[\w$,.-]+ ){{1,6}}?(?:(?:back )?{_DELIVERED}|{_TO_YOU})",
            )
        ),
        needs_time=True,
        subject_frame=True,
    ),
    make_rule(
        "delivery.it_will_be_ready",
        CommitmentKind.DELIVERY,
        "be arrive go launch ship reach",
        rf"""\b(?:your|the|our|this|these|all|it|everything|the\s+rest)\b
            (?:\s+[\w$,.%-]+){{0,5}}?\s*
            (?:(?P<mid>'ll|\s+will|\s+shall|\s+is\s+going\s+to|\s+are\s+going\s+to)
                (?:\s+\w+ly)?\s+(?:be\s+(?:{_DELIVERABLE_STATE})|arrive|go\s+live|launch|ship
                |reach\s+you)
              | \s+(?:goes\s+live|go\s+live|launches|ships|arrives|reaches\s+you))\b""",
        needs_time=True,
    ),
    make_rule(
        "delivery.you_receive_it",
        CommitmentKind.DELIVERY,
        "get receive have",
        subject_you(r"(?:get|receive|have)\s+(?:the|your|our|it|them|a\s+draft|a\s+copy)"),
        needs_time=True,
    ),
    make_rule(
        "delivery.delivery_within",
        CommitmentKind.DELIVERY,
        "delivery turnaround completion live",
        r"\b(?:guarantee[sd]?\s+)?(?:delivery|turnaround|completion|go-live)\b",
        needs_time=True,
    ),
    # -- outcome --------------------------------------------------------------------------
    make_rule(
        "outcome.we_guarantee_results",
        CommitmentKind.OUTCOME,
        "guarantee promise",
        subject_we(rf"(?:guarantee|promise)s?\b[^.;!?]{{0,80}}?{OUTCOME}"),
        subject_frame=True,
        verb_commits=True,
    ),
    make_rule(
        "outcome.you_will_rank",
        CommitmentKind.OUTCOME,
        "rank outrank dominate ranked",
        subject_you(r"rank|outrank|dominate|be\s+rank(?:ed|ing)"),
    ),
    make_rule(
        "outcome.you_will_see_results",
        CommitmentKind.OUTCOME,
        (
            "rank ranking rankings ranked page first front top number traffic visitor visits "
            "leads enquiries inquiries conversion conversions sales revenue results "
            "visibility roi clicks bookings increase growth 1"
        ),
        subject_you(
            rf"""(?:see|get|reach|hit|appear|be\s+on|be\s+in|double|triple|increase|grow|gain
                |climb|receive|have|enjoy)\b[^.;!?]{{0,60}}?{OUTCOME}"""
        ),
    ),
    make_rule(
        "outcome.your_site_will_rank",
        CommitmentKind.OUTCOME,
        "rank double triple increase grow improve rise climb go be appear reach hit show",
        rf"""\b(?:your|the)\s+(?:[\w-]+\s+){{0,2}}?(?:site|website|business|page|pages|shop
                |store|brand|listing|company|practice|traffic|rankings?|leads|enquiries
                |inquiries|sales|revenue|conversions|visibility)\s*
            (?P<mid>'ll|\s+will|\s+is\s+going\s+to|\s+are\s+going\s+to)\s+(?:\w+ly\s+)?
            (?:(?:rank|double|triple|increase|grow|improve|rise|climb|go\s+up)\b
              | (?:be\s+(?:on|in|at)|appear|reach|hit|show\s+up)\b[^.;!?]{{0,40}}?{OUTCOME})""",
    ),
    make_rule(
        "outcome.guaranteed_results",
        CommitmentKind.OUTCOME,
        "guaranteed",
        rf"\bguaranteed\s+(?:[\w%-]+\s+){{0,3}}?{OUTCOME}",
    ),
    make_rule(
        "outcome.top_ranking_in",
        CommitmentKind.OUTCOME,
        "top first page number 1",
        rf"""(?<![\w#])(?:top|first[-\s]page|page[-\s](?:one|1)|\#1|number[-\s]one)\s+
            (?:[\w-]+\s+)?(?:rankings?|positions?|spots?|results?|placements?)\s+
            (?:in|within)\s+(?:{QTY})[\s-]*(?:{UNIT})\b""",
    ),
)
