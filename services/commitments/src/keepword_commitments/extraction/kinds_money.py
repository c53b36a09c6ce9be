"""Rules for promises about money: refunds and prices."""

from __future__ import annotations

from keepword_events import CommitmentKind

from .phrasing import PromiseRule, make_rule, subject_we, subject_you, verbs
from .vocabulary import ALLOW, FIRST_PARTY

__all__ = ["MONEY_RULES"]

_REFUND = r"(?:a|the|your) (?:[\w-]+ )?refund"
_PRICE = r"(?:the|your|this|that|our) (?:[\w$,.-]+ ){0,2}?(?:price|rate|fee|quote|pricing)"


MONEY_RULES: tuple[PromiseRule, ...] = (
    # -- refund ---------------------------------------------------------------------------
    make_rule(
        "refund.we_refund",
        CommitmentKind.REFUND,
        "refund reimburse repay pay return credit money reverse",
        subject_we(
            verbs(
                "refund",
                "reimburse",
                "repay",
                "pay you back",
                r"return (?:your|the) (?:[\w$,.-]+ ){0,2}?(?:deposit|money|payment|fees?)",
                r"credit (?:[\w$,.-]+ ){0,5}?back",
                r"credit (?:your|the) (?:[\w-]+ )?account",
                f"give you (?:your money back|{_REFUND})",
                f"issue (?:you )?{_REFUND}",
                f"process {_REFUND}",
                f"send (?:you )?{_REFUND}",
                f"offer (?:you )?{_REFUND}",
                f"arrange {_REFUND}",
                r"reverse (?:the|this|that|your) (?:[\w$,.-]+ ){0,2}?"
                r"(?:charges?|payments?|transactions?)",
            )
        ),
        subject_frame=True,
    ),
    make_rule(
        "refund.you_get_money_back",
        CommitmentKind.REFUND,
        "back refund credit",
        subject_you(
            r"""(?:get|receive|have|see)\s+(?:
                (?:your|the)\s+(?:[\w$,.-]+\s+){0,2}?(?:money|deposit|payment|fees?)\s+back
              | (?:a\s+)?(?:full\s+|partial\s+)?(?:refund|credit) | (?:your|the)\s+refund)"""
        ),
    ),
    make_rule(
        "refund.passive",
        CommitmentKind.REFUND,
        (
            "refunded returned credited reimbursed processed issued paid sent back appear "
            "arrive show land completed"
        ),
        r"""\b(?:your|the)\s+(?:[\w$,.-]+\s+){0,2}?(?:deposit|refund|money|payment|fees?|funds)
            (?:\s+amount)?(?:\s+of\s+\$?[\d,.]+)?
            (?:\s+(?:(?:has|have)\s+been|is\s+being)\s+\w+\s+and)?\s+
            (?P<mid>will|shall|is\s+going\s+to|should|(?:is|are)\s+(?:expected|scheduled)\s+to)
            \s+(?:be\s+(?:\w+ly\s+)?(?:refunded|returned|credited|reimbursed|processed|issued
                |paid\s+back|sent\s+back|back|completed)
              | appear|arrive|reach\s+you|land|show(?:\s+up)?)\b""",
    ),
    make_rule(
        # "We have issued your refund; it should reach your account within 5 business days":
        # money, by where it lands.
        "refund.reaches_your_account",
        CommitmentKind.REFUND,
        "reach appear show land post",
        r"""\b(?:it|this|the\s+(?:credit|money|funds|amount|reversal))\s+
            (?P<mid>will|should|is\s+(?:expected|going)\s+to)\s+
            (?:reach|appear\s+(?:in|on)|show\s+(?:up\s+)?(?:in|on)|land\s+in|post\s+to)\s+
            your\s+(?:bank\s+|card\s+)?(?:account|card|statement)\b""",
        needs_time=True,
    ),
    make_rule(
        "refund.expected",
        CommitmentKind.REFUND,
        "expect expected anticipate",
        r"""\b(?:we|I)\s+(?P<mid>(?:expect|anticipate))\s+(?:that\s+)?(?:the|your)\s+
            (?:[\w$,.-]+\s+){0,2}?(?:refund|credit|reimbursement|money|deposit)\s+
            (?:to|will|should)\s+(?:be\s+(?:issued|processed|credited|returned|paid)|arrive
            |appear|reach\s+you)\b""",
        verb_commits=True,
    ),
    make_rule(
        "refund.expect_it",
        CommitmentKind.REFUND,
        "expect",
        r"""(?:\bplease\s+)?\bexpect\s+(?:the|your|a)\s+(?:[\w-]+\s+)?(?:refund|credit
            |reimbursement)\b""",
        needs_time=True,
    ),
    make_rule(
        "refund.allow_time",
        CommitmentKind.REFUND,
        "allow",
        ALLOW
        + r"""(?:the|your)\s+(?:[\w$,.-]+\s+){0,2}?(?:refund|credit|reimbursement|money
            |funds)\b""",
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
                (?:locked|fixed|frozen|guaranteed|held|honou?red|valid|the\s+same|unchanged
                |at\s+\$?[\d,.]+)
              | (?:won't|will\s+not|will\s+never)\s+(?:change|go\s+up|increase|rise))\b""",
    ),
)
