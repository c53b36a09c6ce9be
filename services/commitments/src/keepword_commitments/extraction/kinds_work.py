"""Rules for promises about the work: deliveries and outcomes."""

from __future__ import annotations

from keepword_events import CommitmentKind

from .phrasing import PromiseRule, make_rule, subject_we, subject_you, verbs
from .vocabulary import ALLOW, OUTCOME, QTY, UNIT

__all__ = ["WORK_RULES"]

_DELIVERED = r"""(?:ready|done|finished|live|online|out|launched|published|up and running
    |migrated|fixed|resolved|restored|deployed|installed|repaired|replaced|configured
    |wrapped up|sorted(?: out)?|squared away|turned around)"""
_TO_YOU = r"(?:to|with|over to|back to|for) you"
_DELIVERABLE_STATE = r"""ready|done|finished|complete|completed|delivered|shipped|live|published
    |launched|sent|uploaded|submitted|available|online|handed\s+over|in\s+your\s+inbox
    |with\s+you|back\s+to\s+you|(?:back\s+)?up\s+and\s+running|back\s+online|dispatched
    |resolved|fixed|restored|reactivated|activated|unlocked|applied|deployed"""


WORK_RULES: tuple[PromiseRule, ...] = (
    # -- delivery -------------------------------------------------------------------------
    make_rule(
        "delivery.we_deliver",
        CommitmentKind.DELIVERY,
        (
            "ship deliver send launch publish finish complete finalise finalize submit upload "
            "hand roll implement migrate build write go set have get deploy release restore "
            "turn push wrap"
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
                "deploy",
                "release",
                "restore",
                # idioms
                "turn around",
                r"turn (?:[\w$,.-]+ ){1,4}?around",
                r"push (?:[\w$,.-]+ ){0,4}?live",
                "push out",
                "wrap up",
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
        rf"""\b(?:your|the|our|this|these|all|it|everything|the\s+rest|an?)\b
            (?:\s+[\w$,.%-]+){{0,5}}?\s*
            (?:(?P<mid>(?:'ll|\s+will|\s+shall|\s+is\s+going\s+to|\s+are\s+going\s+to|\s+should
                |\s+(?:is|are)\s+(?:expected|scheduled)\s+to)(?:\s+(?:\w+ly|now|still|then))?)
                \s+(?:be\s+(?:{_DELIVERABLE_STATE})|arrive|go\s+live|launch|ship
                |reach\s+you)
              | \s+(?:goes\s+live|go\s+live|launches|ships|arrives|reaches\s+you))\b""",
        needs_time=True,
    ),
    make_rule(
        "delivery.allow_time",
        CommitmentKind.DELIVERY,
        "allow",
        ALLOW
        + r"""(?:delivery|shipping|(?:the|your)\s+(?:[\w-]+\s+){0,2}?(?:order|package
            |parcel|items?|changes?|replacement|update|fix)\s+to\s+(?:arrive|ship|take\s+effect
            |be\s+(?:delivered|shipped|applied|completed)))\b""",
        needs_time=True,
    ),
    make_rule(
        "delivery.expect_it",
        CommitmentKind.DELIVERY,
        "expect count",
        r"""(?:\bplease\s+)?\b(?:expect|count\s+on)\s+
            (?:(?:your|the|our)\s+(?:[\w-]+\s+){0,2}?[\w-]+\s+to\s+(?:arrive|ship|reach\s+you
                |be\s+(?:ready|delivered|shipped|with\s+you|live|done))
              | (?:it|them|delivery)(?=\s+(?:by|on|within|in|before)\b))\b""",
        needs_time=True,
    ),
    make_rule(
        "delivery.new_date",
        CommitmentKind.DELIVERY,
        "date",
        r"""\b(?:new|updated|revised|expected|estimated)\s+(?:[\w-]+\s+)?(?:ship(?:ping)?
            |delivery|arrival|dispatch|release|launch|completion)\s+date\s+(?:is|will\s+be)\b""",
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
        # not the delivery address, note or fee: words about a delivery, not a promise of one
        r"""\b(?:guarantee[sd]?\s+)?(?:delivery|turnaround|completion|go-live)\b
            (?!\s+(?:address(?:es)?|notes?|fees?|charges?|costs?|details|instructions|options?
                |method|information|confirmation|receipt|partner|driver)\b)""",
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
            (?P<mid>(?:'ll|\s+will|\s+is\s+going\s+to|\s+are\s+going\s+to)(?:\s+\w+ly)?)\s+
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
