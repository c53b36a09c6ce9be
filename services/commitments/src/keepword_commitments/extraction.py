"""Promises made to customers in outbound replies, found by explicit rules (no model).

Staff write "we will respond within three hours" or "we guarantee first-page rankings"; the
ledger must know that a promise was made, of which kind, and when it falls due. A support
person must be able to see *why* a sentence did or did not count, so every result names the
rule that matched, and `explain_promises` also returns the candidates a guard threw out, with
the guard's name.

How a reply is read:

1. Quoted material is blanked out (replaced by spaces, so offsets stay those of the original):
   lines starting with ">", everything below an "On ... wrote:" / "Original Message" / Outlook
   "From: ... Sent:" header, and text in double quotes. Those are someone else's words.
2. The rest is cut into sentences, and sentences into clauses (at commas, semicolons, dashes
   and words such as "but", "if", "unless", "whether", "and we"). A clause is the scope of
   every guard: "We can't guarantee rankings, but we will reply within 24 hours" is one
   negated guarantee and one real promise.
3. Each rule is a regular expression for one way of promising one kind of thing. Most rules
   name a first-party subject ("we", "I", "our team", "your account manager", a colleague's
   name before "will"), then up to six words (the *middle*: "will", "'ll definitely", "'ll
   try to", "'re committed to"), then the verb in any of its forms ("send", "sending"). A
   rule is only tried on clauses that contain one of its cue words, which keeps it fast.
4. Guards reject a candidate for a stated reason: conditional, question, third party, request
   to the customer, negation, past tense, hedge, no commitment word, no time frame.
5. One promise per clause; the first rule in `RULES` order wins (refund before delivery, etc.).
6. The time expression nearest the trigger in the same clause (or a sentence-opening clause
   such as "By Friday,") gives the due time.

Decisions (documented because reasonable people would choose otherwise):

- Hedged statements are not promises: "I hope to", "we'll try to", "we usually", "we may",
  "we could", "hopefully", "if possible". A habit ("we usually reply within a day") is not a
  commitment anybody can be held to.
- Conditionals: a trigger inside the condition ("If we ship within 24 hours, ...") is not a
  promise; the main clause of a conditional ("If you sign today, we'll ship by Friday") is,
  because the customer will hold us to it once the condition is met.
- Response-time and delivery promises need a time frame (vague ones such as "shortly" count,
  with no due time): "our team will review your site" gives the ledger nothing to check.
  Refund, callback, outcome and price promises count without one.
- "can" is ability, not commitment ("we can have it ready by Friday" is not recorded).
- A present-tense house policy or a present-progressive plan with a time frame is a promise
  ("we ship within 24 hours", "we're sending it on Friday").
- Staff write the replies, so a capitalised name right before "will" ("Casey will call you")
  is taken to be a colleague; pronouns, "Google" and words such as "Nothing" are not.

Due times (all computed in the company's time zone, returned in UTC):

- Minutes and hours are elapsed time: "within 24 hours" sent the evening before a DST switch
  falls due 24 real hours later (21:00 local on the switch day, not 20:00).
- Days, weeks, months and years are calendar arithmetic on the local wall clock: "in 30 days"
  keeps the local clock time of sending. Business days skip Saturdays and Sundays (no
  holidays) and also keep the clock time. A range ("3 to 5 business days") counts to its
  upper end; "a couple of" = 2, "a few" = 3.
- A date without a clock time falls due at the end of that business day, 17:00 local; if the
  reply was sent after that on the same day ("by end of day" at 18:00), 23:59 local instead.
- Parts of the day use dateparser's hours: morning 09:00 (so "tomorrow morning" is 09:00 the
  next day), afternoon 15:00, evening 18:00, night/tonight 20:00; "first thing" is 09:00.
- A weekday ("by Friday", "this Friday") is its next occurrence after the sending day; "next
  Friday" is the Friday of the following calendar week (Monday-based). "This week" and "end of
  the week" are Friday 17:00; "next week" is next week's Friday 17:00. "End of the month" and
  a bare month name ("by June") are the last day of that month, 17:00.
- A clock time alone ("by 3pm") is today if still ahead, otherwise tomorrow. Time-zone words
  after a clock time ("ET") are ignored: the company's zone is assumed.
- Durations anchored to a later event ("within 24 hours of your order") and vague times
  ("soon", "as soon as possible") give no due time: `due_at` is None.

Calendar dates ("March 20", "20th of March", "3/15") are read by dateparser, English only, US
day order, preferring the future; everything else is plain regular expressions, because they
are exact about the conventions above and a hundred times faster.

Bounded work, whatever a reply holds (a body may be 200,000 characters of anything): only the
first `MAX_REPLY_CHARACTERS` are read, and a "sentence" longer than `MAX_SENTENCE_CHARACTERS`
(a run with no full stop or blank line, as in a pasted log or a flood of one word) is read in
pieces of at most that size, cut at a space. Every guard looks at its clause or sentence, so
the pieces keep the work per match bounded, and the patterns are linear in their input (no
run of punctuation or spaces makes them backtrack).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateparser.date import DateDataParser  # type: ignore[import-untyped]
from keepword_events import CommitmentKind

__all__ = [
    "END_OF_BUSINESS",
    "LATE_END_OF_DAY",
    "MAX_REPLY_CHARACTERS",
    "MAX_SENTENCE_CHARACTERS",
    "NEEDS_CONFIRMATION",
    "PARTS_OF_DAY",
    "RULES",
    "Candidate",
    "FoundPromise",
    "PromiseRule",
    "explain_promises",
    "find_promises",
    "parse_quantity",
]

END_OF_BUSINESS = time(17, 0)
"""When a promise falls due on a day named without a clock time."""

LATE_END_OF_DAY = time(23, 59)
"""Used instead of END_OF_BUSINESS when the reply was sent after 17:00 on that very day."""

PARTS_OF_DAY: dict[str, time] = {
    "morning": time(9),
    "afternoon": time(15),
    "evening": time(18),
    "night": time(20),
}
"""The hours dateparser uses for parts of the day, so both agree."""

NEEDS_CONFIRMATION = frozenset({CommitmentKind.DELIVERY, CommitmentKind.OUTCOME})
"""Kinds that only production can say are feasible."""

MAX_REPLY_CHARACTERS = 20_000
"""How much of a reply is read for promises: about ten pages. Staff promise in what they write
at the top; the rest of a longer body is quoted history or pasted material. With the pieces
below, the worst reply measured (20,000 characters of "we send") reads in about 1 s."""

MAX_SENTENCE_CHARACTERS = 400
"""Longest stretch read as one sentence: about five times the longest sentence of the labelled
corpus (85). The guards of each match look at its whole clause and sentence, so the work of a
sentence grows with its length squared; longer runs are read in pieces of at most this."""

_FRIDAY = 4
_FLAGS = re.IGNORECASE | re.VERBOSE


@dataclass(frozen=True, slots=True)
class FoundPromise:
    """One promise in a reply."""

    kind: CommitmentKind
    sentence: str  # the sentence the promise is in, whitespace-normalised
    span: tuple[int, int]  # start/end offsets of the matched words in the original text
    due_at: datetime | None  # aware, UTC; None when the promise names no time
    needs_confirmation: bool  # delivery and outcome promises need production's confirmation
    rule: str  # short name of the rule that matched, for explanations


@dataclass(frozen=True, slots=True)
class Candidate:
    """A rule's match and what became of it: `rejected_by` names the guard, or is None.
    Due times are only worked out for accepted candidates."""

    promise: FoundPromise
    rejected_by: str | None


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


# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

# Who speaks for the company in a reply written by its staff.
_FIRST_PARTY = r"""
    we | I
  | (?:someone|somebody|a\s+colleague|a\s+member|one)
      \s+(?:of|from|on|in)\s+(?:us|our\s+(?:[\w-]+\s+){0,2}?(?:team|staff|colleagues))
  | someone | somebody
  | our\s+(?:[\w-]+\s+){0,2}(?:team|staff|specialists?|experts?|developers?|devs|engineers?
        |designers?|writers?|copywriters?|analysts?|consultants?|managers?|department|office
        |agency|company|support|people|accounts|billing|finance)
  | (?:your|the)\s+(?:dedicated\s+)?(?:account|project|campaign|client\s+success)\s+manager
  | the\s+(?:[\w-]+\s+){0,2}team
  | (?!(?:it|this|that|these|those|there|everything|everyone|nothing|nobody|no|none|someone
        |google|they|he|she|you|your)\b)
    (?-i:[A-Z][a-z]+)(?=\s+(?:will|is\s+going\s+to)\b|'ll\b)  # a colleague: "Casey will"
"""

_QTY = r"""
    \d+(?:\.\d+)?
  | (?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)
      (?:[-\s](?:one|two|three|four|five|six|seven|eight|nine)\b)?
  | eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen
  | ten|one|two|three|four|five|six|seven|eight|nine
  | a\s+couple(?:\s+of)? | a\s+few | half\s+an? | an?
"""
_UNIT = r"""
    business\s+days? | working\s+days? | work\s+days? | weekdays?
  | minutes? | mins? | hours? | hrs? | h | days? | weeks? | months? | years?
"""

# What an outcome promise is about. Word boundaries are inside, because "#1" starts with "#".
_OUTCOME = r"""
    (?:\b(?:rank(?:s|ings?|ed)?|page[-\s](?:one|1)|first[-\s]page|front[-\s]page
        |top[-\s](?:\d+|one|three|five|ten|spot|position|result|ranking)s?|number[-\s]one
        |traffic|visitors?|visits|leads|enquiries|inquiries|conversions?|sales|revenue
        |results|visibility|roi|clicks|bookings|increase|growth)\b
      | \#\s?1\b)
"""

_MONTH = r"""(?:january|february|march|april|may|june|july|august|september|october|november
    |december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)"""
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_PART = r"(?:morning|afternoon|evening|night)"

_COMMITMENT = re.compile(
    r"""\b(?:will|shall|going\s+to|promises?|commits?\s+to|committed\s+to|guarantees?|pledges?
        |undertakes?)\b"""
    r"|'ll\b",
    _FLAGS,
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
        |should|would|probably|possibly|perhaps|maybe|ideally|usually|typically|normally
        |generally|often|sometimes|tend|tends|intend|plan|planning|want|wish|expect|likely
        |think|believe|suppose|guess|reckon|estimate|anticipate)\b|'d\b""",
    _FLAGS,
)
# Hedges that may stand anywhere in the sentence, even after the promise or in an if-clause.
_HEDGE_PHRASE = re.compile(
    r"""\b(?:if\s+possible|if\s+(?:we|I)\s+can|hopefully|with\s+(?:any\s+)?luck
        |fingers\s+crossed|all\s+being\s+well|if\s+all\s+goes\s+well|ideally)\b""",
    _FLAGS,
)
_PAST_AUXILIARY = re.compile(r"\b(?:did|had|was|were|used\s+to)\b", re.IGNORECASE)
_PAST_TIME = re.compile(
    r"""\b(?:yesterday|ago|previously|in\s+the\s+past
        |last\s+(?:time|week|month|year|night|quarter|monday|tuesday|wednesday|thursday|friday)
        |earlier\s+(?:today|this\s+(?:week|month|year)))\b""",
    _FLAGS,
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
    _FLAGS,
)
_REQUEST = re.compile(
    r"""\b(?:please|kindly)\b(?!\s+(?:note|be\s+assured|rest\s+assured|be\s+aware))
      | \b(?:can|could|would|will)\s+you\b | \byou\s+(?:need|must|have\s+to|should|ought)\b""",
    _FLAGS,
)
_CONDITION = re.compile(
    r"""\b(?:if|unless|whether|in\s+case|provided|as\s+long\s+as|assuming|suppose|supposing
        |in\s+the\s+event)\b""",
    _FLAGS,
)
_QUESTION_OPENER = re.compile(
    r"""\W*(?:did|do|does|can|could|would|will|shall|should|is|are|was|were|have|has|when
        |what|how|why|where|which|who|may)\b""",
    _FLAGS,
)


# ---------------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------------


def _inflections(verb: str) -> list[str]:
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


def _verbs(*phrases: str) -> str:
    """Verb phrases as alternatives: the first word in all its forms, a space meaning any
    whitespace ("get back to you" also matches "getting back to you")."""
    alternatives = []
    for phrase in phrases:
        verb, _, rest = phrase.partition(" ")
        forms = "|".join(_inflections(verb))
        words = "".join(rf"\s+{word}" for word in rest.split(" ") if word)
        alternatives.append(f"(?:{forms}){words}")
    return "|".join(alternatives)


def _we(verb: str) -> str:
    """First-party subject, up to six words of middle, the verb."""
    return (
        rf"(?<![\w'])(?P<subj>{_FIRST_PARTY})"
        rf"(?P<mid>(?:'(?:ll|re|m|d|ve)\b)?(?:\s+[\w'-]+){{0,6}}?)\s+(?P<verb>{verb})\b"
    )


def _you(verb: str) -> str:
    """The customer as grammatical subject of our promise: "you'll hear from us", "we'll make
    sure you get an answer"."""
    return (
        r"(?:\byou(?:'ll|\s+will|'re\s+going\s+to|\s+are\s+going\s+to)"
        r"|\b(?:make\s+sure|ensure)\s+(?:that\s+)?you)"
        rf"(?:\s+(?:\w+ly|also|then|still))?\s+(?:{verb})\b"
    )


def _rule(name: str, kind: CommitmentKind, cues: str, pattern: str, **flags: bool) -> PromiseRule:
    words = frozenset(form for cue in cues.split() for form in _inflections(cue))
    return PromiseRule(name, kind, words, re.compile(pattern, _FLAGS), **flags)


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
    _rule(
        "refund.we_refund",
        CommitmentKind.REFUND,
        "refund reimburse repay pay return credit money",
        _we(
            _verbs(
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
    _rule(
        "refund.you_get_money_back",
        CommitmentKind.REFUND,
        "back refund credit",
        _you(
            r"""(?:get|receive|have)\s+(?:
                (?:your|the)\s+(?:[\w$,.-]+\s+){0,2}?(?:money|deposit|payment|fees?)\s+back
              | (?:a\s+)?(?:full\s+|partial\s+)?(?:refund|credit) | your\s+refund)"""
        ),
    ),
    _rule(
        "refund.passive",
        CommitmentKind.REFUND,
        "refunded returned credited reimbursed processed paid sent back",
        r"""\b(?:your|the)\s+(?:[\w$,.-]+\s+){0,2}?(?:deposit|refund|money|payment|fees?)\s+
            (?P<mid>will|shall|is\s+going\s+to)\s+be\s+(?:\w+ly\s+)?
            (?:refunded|returned|credited|reimbursed|processed|paid\s+back|sent\s+back|back)\b""",
    ),
    # -- price ----------------------------------------------------------------------------
    _rule(
        "price.we_hold_price",
        CommitmentKind.PRICE,
        "price rate fee quote pricing discount match",
        _we(
            _verbs(
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
    _rule(
        "price.we_wont_raise",
        CommitmentKind.PRICE,
        "price rate fee fees pricing retainer",
        rf"""(?<![\w'])(?P<subj>{_FIRST_PARTY})
            (?P<mid>'ll\s+not|\s+will\s+not|\s+will\s+never|\s+won't|\s+shall\s+not)\s+
            (?P<verb>(?:raise|increase|change|put\s+up|touch)\s+(?:the|your|our|this)\s+
                (?:[\w$,.-]+\s+){{0,2}}?(?:price|rate|fees?|pricing|retainer))\b""",
        verb_commits=True,
        negated_verb=True,
    ),
    _rule(
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
    _rule(
        "callback.we_call_you",
        CommitmentKind.CALLBACK,
        "call phone ring telephone callback",
        _we(
            _verbs(
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
    _rule(
        "callback.expect_a_call",
        CommitmentKind.CALLBACK,
        "call ring callback",
        r"""(?:\bplease\s+)?\b(?:expect|count\s+on)\s+a\s+(?:quick\s+)?
            (?:call|phone\s+call|ring|callback)\b
          | """
        + _you(r"(?:get|receive)\s+a\s+(?:quick\s+)?(?:call|phone\s+call|ring|callback)"),
    ),
    # -- response time --------------------------------------------------------------------
    _rule(
        "response.we_respond",
        CommitmentKind.RESPONSE_TIME,
        (
            "respond reply answer back touch revert follow know update confirm feedback "
            "response decision drop email message write"
        ),
        _we(
            _verbs(
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
    _rule(
        "response.you_hear_from_us",
        CommitmentKind.RESPONSE_TIME,
        "hear answer reply response update decision",
        _you(
            r"""hear\s+(?:back\s+)?from\s+(?:us|me|our\b|someone|one\s+of\s+us|the\s+team)
            | (?:get|receive|have)\s+(?:an?|our|my)\s+(?:\w+\s+)?
                (?:answer|reply|response|update|decision)"""
        ),
        needs_time=True,
    ),
    _rule(
        "response.expect_an_answer",
        CommitmentKind.RESPONSE_TIME,
        "expect count",
        r"""(?:\bplease\s+)?\b(?:expect|count\s+on)\s+(?:an?|our|my)\s+(?:\w+\s+)?
            (?:answer|reply|response|update|decision)\b""",
        needs_time=True,
    ),
    # -- delivery -------------------------------------------------------------------------
    _rule(
        "delivery.we_deliver",
        CommitmentKind.DELIVERY,
        (
            "ship deliver send launch publish finish complete finalise finalize submit upload "
            "hand roll implement migrate build write go set have get"
        ),
        _we(
            _verbs(
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
    _rule(
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
    _rule(
        "delivery.you_receive_it",
        CommitmentKind.DELIVERY,
        "get receive have",
        _you(r"(?:get|receive|have)\s+(?:the|your|our|it|them|a\s+draft|a\s+copy)"),
        needs_time=True,
    ),
    _rule(
        "delivery.delivery_within",
        CommitmentKind.DELIVERY,
        "delivery turnaround completion live",
        r"\b(?:guarantee[sd]?\s+)?(?:delivery|turnaround|completion|go-live)\b",
        needs_time=True,
    ),
    # -- outcome --------------------------------------------------------------------------
    _rule(
        "outcome.we_guarantee_results",
        CommitmentKind.OUTCOME,
        "guarantee promise",
        _we(rf"(?:guarantee|promise)s?\b[^.;!?]{{0,80}}?{_OUTCOME}"),
        subject_frame=True,
        verb_commits=True,
    ),
    _rule(
        "outcome.you_will_rank",
        CommitmentKind.OUTCOME,
        "rank outrank dominate ranked",
        _you(r"rank|outrank|dominate|be\s+rank(?:ed|ing)"),
    ),
    _rule(
        "outcome.you_will_see_results",
        CommitmentKind.OUTCOME,
        (
            "rank ranking rankings ranked page first front top number traffic visitor visits "
            "leads enquiries inquiries conversion conversions sales revenue results "
            "visibility roi clicks bookings increase growth 1"
        ),
        _you(
            rf"""(?:see|get|reach|hit|appear|be\s+on|be\s+in|double|triple|increase|grow|gain
                |climb|receive|have|enjoy)\b[^.;!?]{{0,60}}?{_OUTCOME}"""
        ),
    ),
    _rule(
        "outcome.your_site_will_rank",
        CommitmentKind.OUTCOME,
        "rank double triple increase grow improve rise climb go be appear reach hit show",
        rf"""\b(?:your|the)\s+(?:[\w-]+\s+){{0,2}}?(?:site|website|business|page|pages|shop
                |store|brand|listing|company|practice|traffic|rankings?|leads|enquiries
                |inquiries|sales|revenue|conversions|visibility)\s*
            (?P<mid>'ll|\s+will|\s+is\s+going\s+to|\s+are\s+going\s+to)\s+(?:\w+ly\s+)?
            (?:(?:rank|double|triple|increase|grow|improve|rise|climb|go\s+up)\b
              | (?:be\s+(?:on|in|at)|appear|reach|hit|show\s+up)\b[^.;!?]{{0,40}}?{_OUTCOME})""",
    ),
    _rule(
        "outcome.guaranteed_results",
        CommitmentKind.OUTCOME,
        "guaranteed",
        rf"\bguaranteed\s+(?:[\w%-]+\s+){{0,3}}?{_OUTCOME}",
    ),
    _rule(
        "outcome.top_ranking_in",
        CommitmentKind.OUTCOME,
        "top first page number 1",
        rf"""(?<![\w#])(?:top|first[-\s]page|page[-\s](?:one|1)|\#1|number[-\s]one)\s+
            (?:[\w-]+\s+)?(?:rankings?|positions?|spots?|results?|placements?)\s+
            (?:in|within)\s+(?:{_QTY})[\s-]*(?:{_UNIT})\b""",
    ),
)


# ---------------------------------------------------------------------------------------------
# Quoted text, sentences, clauses
# ---------------------------------------------------------------------------------------------

_QUOTED_LINE = re.compile(r"^[ \t]*>.*$", re.MULTILINE)
_REPLY_HEADER = re.compile(
    r"""^[ \t]*(?:On\b[^\n]{0,300}?(?:\n[^\n]{0,300}?)?\bwrote:[ \t]*$
        | -{2,}[ \t]*Original\s+Message[ \t]*-{2,}
        | From:[^\n]*\n(?:[^\n]*\n){0,4}?[ \t]*(?:Sent|Date):)""",
    re.MULTILINE | re.IGNORECASE | re.VERBOSE,
)
_QUOTATION = re.compile(r'"[^"\n]{1,500}"')
# Typographic quotes as plain ones, so that the rules need only one spelling of "we'll".
_PLAIN_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_NOT_NEWLINE = re.compile(r"[^\n]")
_WORD = re.compile(r"\w+")

_SENTENCE_BREAK = re.compile(
    r"""(?<![.!?])[.!?]+["')\]]*(?=\s|$) # terminal punctuation, from the start of its run
                                        # (tried inside a long run it would rescan it: quadratic)
      | \n[ \t]*\n                         # blank line
      | (?<=[,:])[ \t]*\n(?=[ \t]*[A-Z])   # "Hi Dana," on its own line
      | \n(?=[ \t]*(?:[-*\u2022]|\d+[.)])[ \t]) # a bullet""",
    re.VERBOSE,
)
_ABBREVIATION = re.compile(
    r"(?:\b(?:a\.m|p\.m|e\.g|i\.e|mr|mrs|ms|dr|vs|approx|no|inc|ltd|st|jr))$", re.IGNORECASE
)
_CLAUSE_BREAK = re.compile(
    rf"""[;:()](?=\s) | \s[-\u2013\u2014]+\s | \u2014
      | ,(?=\s)(?!\s+(?:{_MONTH}\b|\d))  # not the comma of "Friday, March 13"
      | \s(?=(?:but|so|because|although|though|however|whereas|unless|if|whether|while
             |otherwise)\b)
      | \s(?=(?:and|or)\s+(?:we|I|you|they|he|she|it)\b)""",
    _FLAGS,
)


def _blank(match: re.Match[str]) -> str:
    return _NOT_NEWLINE.sub(" ", match.group())


def _mask_quoted(text: str) -> str:
    """The text with other people's words replaced by spaces and typographic quotes made
    plain; offsets are unchanged."""
    text = text.translate(_PLAIN_QUOTES)
    header = _REPLY_HEADER.search(text)
    if header:
        text = text[: header.start()] + _NOT_NEWLINE.sub(" ", text[header.start() :])
    text = _QUOTED_LINE.sub(_blank, text)
    return _QUOTATION.sub(_blank, text)


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if any(ch.isalnum() for ch in text[start:end]) else None


def _sentences(masked: str) -> Iterator[tuple[int, int]]:
    start = 0
    for brk in _SENTENCE_BREAK.finditer(masked):
        word_start = max(0, brk.start() - 8)  # the abbreviations are short
        if brk.group().startswith(".") and _ABBREVIATION.search(masked, word_start, brk.start()):
            continue  # "10 a.m. tomorrow" does not end a sentence
        yield from _pieces(masked, start, brk.end())
        start = brk.end()
    yield from _pieces(masked, start, len(masked))


def _pieces(masked: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """A sentence, or an overlong one in pieces of at most MAX_SENTENCE_CHARACTERS, each cut at
    the last space of its second half (or hard, when there is none: one endless word)."""
    while end - start > MAX_SENTENCE_CHARACTERS:
        limit, half = start + MAX_SENTENCE_CHARACTERS, start + MAX_SENTENCE_CHARACTERS // 2
        space = max(masked.rfind(blank, half, limit) for blank in " \n\t")
        cut = space if space > start else limit
        if (span := _trimmed(masked, start, cut)) is not None:
            yield span
        start = cut
    if (span := _trimmed(masked, start, end)) is not None:
        yield span


def _clauses(masked: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for brk in _CLAUSE_BREAK.finditer(masked, start, end):
        if (span := _trimmed(masked, start, brk.start())) is not None:
            spans.append(span)
        start = brk.end()
    if (span := _trimmed(masked, start, end)) is not None:
        spans.append(span)
    return spans


# ---------------------------------------------------------------------------------------------
# Time expressions: finding them
# ---------------------------------------------------------------------------------------------


_DURATION = re.compile(
    rf"""\b(?:within|in|inside(?:\s+of)?|in\s+under|under|in\s+less\s+than|less\s+than
            |no\s+more\s+than|at\s+most)\s+
        (?:(?:the\s+)?(?:next|coming)\s+)?
        (?:(?P<qty>{_QTY})(?:\s*(?:-|\u2013|to|or)\s*(?P<qty2>{_QTY}))?[\s-]*(?P<unit>{_UNIT})\b
          | the\s+(?P<the_unit>hour|day|week|month)\b)
        (?P<anchor>\s+(?:of|after|from|following)\s+(?!now\b|today\b|this\b)[\w']+)?""",
    _FLAGS,
)
_CLOCK = re.compile(
    r"""\b(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<ampm>[ap])(?:\.m\.|\.?m\b)
      | \b(?P<h24>\d{1,2}):(?P<m24>\d{2})\b
      | \b(?P<named>noon|midday|midnight)\b""",
    _FLAGS,
)
_DAY = re.compile(
    rf"""\b(?:
        (?P<first_thing>first\s+thing\s+)?
            (?:(?P<rel>today|tonight|tomorrow|the\s+day\s+after\s+tomorrow|later\s+today)
                (?:\s+(?:in\s+the\s+)?(?P<rel_part>{_PART}))?
              | in\s+the\s+(?P<next_part>morning))
      | this\s+(?P<this_part>morning|afternoon|evening)
      | (?P<eod>(?:the\s+)?(?:end|close)\s+of\s+(?:the\s+)?(?:business\s+|working\s+)?day
            |(?:the\s+)?(?:end|close)\s+of\s+business|end\s+of\s+play|eod|cob|eob)
      | (?:the\s+)?end\s+of\s+(?:(?P<eo_rel>this|next|the)\s+)?(?P<eo_period>week|month|year)
      | (?:the\s+)?end\s+of\s+(?P<eo_month>{_MONTH})
      | (?P<wk_rel>this|next|the\s+coming)\s+week
      | (?P<cal>(?:{_WEEKDAY},?\s+)?
            (?:{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?
              | \d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?
              | \d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?))
      | (?:(?P<wd_rel>this|next|coming|the\s+coming)\s+)?(?P<weekday>{_WEEKDAY})
            (?:\s+(?P<wd_part>{_PART}))?
      | (?P<dom>the\s+\d{{1,2}}(?:st|nd|rd|th))
      | (?:(?<=by\s)|(?<=until\s)|(?<=till\s)|(?<=before\s)|(?<=through\s)|(?<=in\s))
            (?P<month_only>{_MONTH})
    )\b""",
    _FLAGS,
)
_VAGUE = re.compile(
    r"""\b(?:soon|shortly|asap|as\s+soon\s+as|right\s+away|straight\s+away|promptly
        |immediately|at\s+your\s+earliest|momentarily|in\s+a\s+(?:moment|bit|little\s+while))\b""",
    _FLAGS,
)
_DAY_CLOCK_GLUE = re.compile(r"\s*,?\s*(?:at|by|before|around|on|from)?\s*", re.IGNORECASE)
_LEADING_PREPOSITION = re.compile(
    r"\s*(?:(?:by|before|on|until|till|at|no\s+later\s+than|first\s+thing)\s*)?", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class _TimePhrase:
    start: int
    end: int
    duration: re.Match[str] | None = None
    day: re.Match[str] | None = None
    clock: re.Match[str] | None = None  # with or without a day


def _time_phrases(masked: str, start: int, end: int) -> list[_TimePhrase]:
    """Time phrases in a clause, a day and its clock time ("Thursday at 2pm") joined."""
    found: list[_TimePhrase] = []
    for m in _DURATION.finditer(masked, start, end):
        found.append(_TimePhrase(m.start(), m.end(), duration=m))
    for m in _DAY.finditer(masked, start, end):
        found.append(_TimePhrase(m.start(), m.end(), day=m))
    for m in _CLOCK.finditer(masked, start, end):
        found.append(_TimePhrase(m.start(), m.end(), clock=m))
    for m in _VAGUE.finditer(masked, start, end):
        found.append(_TimePhrase(m.start(), m.end()))
    found.sort(key=lambda p: (p.start, -p.end))
    phrases: list[_TimePhrase] = []
    for phrase in found:
        if phrases and phrase.start < phrases[-1].end:
            continue  # inside a longer phrase already taken ("within the hour" vs "hour")
        previous = phrases[-1] if phrases else None
        if previous is not None and _joinable(masked, previous, phrase):
            phrases[-1] = _TimePhrase(
                previous.start,
                phrase.end,
                day=previous.day or phrase.day,
                clock=previous.clock or phrase.clock,
            )
        else:
            phrases.append(phrase)
    return phrases


def _joinable(masked: str, first: _TimePhrase, second: _TimePhrase) -> bool:
    kinds = {(first.day is not None, first.clock is not None)}
    kinds.add((second.day is not None, second.clock is not None))
    one_day_one_clock = kinds == {(True, False), (False, True)}
    glue = masked[first.end : second.start]
    return one_day_one_clock and _DAY_CLOCK_GLUE.fullmatch(glue) is not None


def _phrase_for(
    masked: str, clauses: list[tuple[int, int]], phrases: list[_TimePhrase], trigger: int
) -> _TimePhrase | None:
    """The time phrase a promise refers to: in its clause (`phrases`), after the trigger
    rather than before; failing that, a sentence-opening clause that is only a time phrase
    ("By Friday, you'll have it")."""
    after = [p for p in phrases if p.end > trigger]
    if after:
        return after[0]
    if phrases:
        return phrases[-1]
    opening = clauses[0]
    if opening[1] > trigger:  # the trigger's own clause opens the sentence
        return None
    leading = _time_phrases(masked, *opening)
    if len(leading) != 1:
        return None
    rest = masked[opening[0] : leading[0].start] + masked[leading[0].end : opening[1]]
    return leading[0] if _LEADING_PREPOSITION.fullmatch(rest) else None


# ---------------------------------------------------------------------------------------------
# Time expressions: resolving them
# ---------------------------------------------------------------------------------------------

_ONES = "zero one two three four five six seven eight nine"
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen"
_SMALL_NUMBERS = {word: value for value, word in enumerate(f"{_ONES} {_TEENS}".split())}
_TENS = {
    word: 10 * value
    for value, word in enumerate(
        ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"], start=2
    )
}
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}


def parse_quantity(words: str) -> float:
    """ "24", "three", "twenty-four", "a couple of", "a few", "half an" as a number."""
    words = " ".join(words.lower().replace("-", " ").split())
    if words.startswith("a couple"):
        return 2
    if words == "a few":
        return 3
    if words.startswith("half"):
        return 0.5
    if words in ("a", "an"):
        return 1
    if words in _SMALL_NUMBERS:
        return _SMALL_NUMBERS[words]
    tens, _, ones = words.partition(" ")
    if tens in _TENS:
        return _TENS[tens] + _SMALL_NUMBERS.get(ones, 0)
    return float(words)


def _add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, _last_day(year, month)))


def _last_day(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def _add_business_days(moment: datetime, days: int) -> datetime:
    while days > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            days -= 1
    return moment


def _due_after_duration(m: re.Match[str], local: datetime, sent_at: datetime) -> datetime | None:
    if m.group("anchor"):
        return None  # "within 24 hours of your order": the clock starts at a later event
    if the_unit := m.group("the_unit"):
        return _due_within_the(the_unit.lower(), local)
    amount = parse_quantity(m.group("qty2") or m.group("qty"))
    unit = " ".join(m.group("unit").lower().split())
    if unit.startswith(("min", "h")):  # elapsed time, across DST switches too
        minutes = amount if unit.startswith("min") else amount * 60
        # In UTC: adding to a zoned datetime would be wall-clock arithmetic.
        return sent_at.astimezone(UTC) + timedelta(minutes=minutes)
    if unit.startswith(("business", "working", "work", "weekday")):
        return _add_business_days(local, math.ceil(amount)).astimezone(UTC)
    if unit.startswith("day"):
        return (local + timedelta(days=amount)).astimezone(UTC)  # wall-clock arithmetic
    if unit.startswith("week"):
        return (local + timedelta(weeks=amount)).astimezone(UTC)
    months = math.ceil(amount) * (12 if unit.startswith("year") else 1)
    return _add_months(local, months).astimezone(UTC)


def _due_within_the(unit: str, local: datetime) -> datetime:
    if unit == "hour":
        return local.astimezone(UTC) + timedelta(hours=1)
    if unit == "day":
        return _on_day(local.date(), None, local)
    if unit == "week":
        return _on_day(_friday(local.date(), weeks_ahead=0), None, local)
    return _on_day(_month_end(local.date(), months_ahead=0), None, local)


def _friday(today: date, weeks_ahead: int) -> date:
    friday = today + timedelta(days=_FRIDAY - today.weekday() + 7 * weeks_ahead)
    return friday if friday >= today else friday + timedelta(weeks=1)  # weekend: next one


def _month_end(today: date, months_ahead: int) -> date:
    month_index = today.month - 1 + months_ahead
    year, month = today.year + month_index // 12, month_index % 12 + 1
    return date(year, month, _last_day(year, month))


def _weekday(today: date, name: str, relation: str | None) -> date:
    target = _WEEKDAYS.index(name.lower())
    if relation == "next":  # that day in the following Monday-based week
        monday = today + timedelta(days=7 - today.weekday())
        return monday + timedelta(days=target)
    return today + timedelta(days=(target - today.weekday() - 1) % 7 + 1)


def _day_of_month(today: date, day: int) -> date | None:
    year, month = today.year, today.month
    for _ in range(13):
        if day <= _last_day(year, month) and date(year, month, day) >= today:
            return date(year, month, day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _named_month_end(today: date, name: str) -> date:
    month = _MONTHS[name.lower().rstrip(".")]
    year = today.year if month >= today.month else today.year + 1
    return date(year, month, _last_day(year, month))


@lru_cache(maxsize=8)
def _date_parser(today: date) -> DateDataParser:
    """dateparser for calendar dates: English only (no language detection), US day order,
    preferring the future, and only its absolute-date parser, since relative phrases never
    reach it. The base is the day before sending, so that a date naming the sending day is
    that day and not the same day next year."""
    return DateDataParser(
        languages=["en"],
        settings={
            "RELATIVE_BASE": datetime.combine(today - timedelta(days=1), time(12)),
            "PREFER_DATES_FROM": "future",
            "DATE_ORDER": "MDY",
            "REQUIRE_PARTS": ["day", "month"],
            "PARSERS": ["absolute-time"],
        },
    )


@lru_cache(maxsize=1024)
def _calendar_date(phrase: str, today: date) -> date | None:
    """ "March 20", "20th of March", "3/15" as a date on or after `today`."""
    parsed = _date_parser(today).get_date_data(phrase).date_obj
    return parsed.date() if isinstance(parsed, datetime) else None


def _day_and_part(m: re.Match[str], local: datetime) -> tuple[date | None, str | None]:
    """The day a day-phrase names and the part of the day, if it names one."""
    today = local.date()
    group = m.group
    if rel := group("rel"):
        offsets = {"tomorrow": 1, "the day after tomorrow": 2}
        day = today + timedelta(days=offsets.get(" ".join(rel.lower().split()), 0))
        part = group("rel_part") or ("night" if rel.lower() == "tonight" else None)
        return day, (part or ("morning" if group("first_thing") else None))
    if group("next_part"):  # "(first thing) in the morning": the next one
        morning = datetime.combine(today, PARTS_OF_DAY["morning"], tzinfo=local.tzinfo)
        return (today if local < morning else today + timedelta(days=1)), "morning"
    if this_part := group("this_part"):
        return today, this_part
    if group("eod"):
        return today, None
    if period := group("eo_period"):
        ahead = 1 if (group("eo_rel") or "").lower() == "next" else 0
        if period.lower() == "week":
            return _friday(today, ahead), None
        if period.lower() == "month":
            return _month_end(today, ahead), None
        return date(today.year + ahead, 12, 31), None
    if eo_month := group("eo_month"):
        return _named_month_end(today, eo_month), None
    if wk_rel := group("wk_rel"):
        return _friday(today, 1 if wk_rel.lower() == "next" else 0), None
    if cal := group("cal"):
        return _calendar_date(" ".join(cal.split()), today), None
    if weekday := group("weekday"):
        relation = (group("wd_rel") or "").lower() or None
        return _weekday(today, weekday, relation), group("wd_part")
    if dom := group("dom"):
        return _day_of_month(today, int(re.sub(r"\D", "", dom))), None
    return _named_month_end(today, group("month_only")), None


def _clock_time(m: re.Match[str]) -> time:
    if named := m.group("named"):
        return {"noon": time(12), "midday": time(12)}.get(named.lower(), LATE_END_OF_DAY)
    if m.group("h24"):
        return time(min(int(m.group("h24")), 23), min(int(m.group("m24")), 59))
    hour = int(m.group("hour")) % 12 + (12 if m.group("ampm").lower() == "p" else 0)
    return time(min(hour, 23), min(int(m.group("minute") or 0), 59))


def _on_day(day: date, clock: time | None, local: datetime) -> datetime:
    """A local day and clock time as UTC; no clock time means the end of the business day."""
    due = datetime.combine(day, clock or END_OF_BUSINESS, tzinfo=local.tzinfo)
    if clock is None and due <= local:
        due = datetime.combine(day, LATE_END_OF_DAY, tzinfo=local.tzinfo)
    return due.astimezone(UTC)


def _due_at(phrase: _TimePhrase, sent_at: datetime, zone: ZoneInfo) -> datetime | None:
    local = sent_at.astimezone(zone)
    if phrase.duration is not None:
        return _due_after_duration(phrase.duration, local, sent_at)
    clock = _clock_time(phrase.clock) if phrase.clock is not None else None
    if phrase.day is None:
        if clock is None:
            return None  # "soon", "as soon as possible"
        today = local.date()
        later_today = datetime.combine(today, clock, tzinfo=zone) > local
        return _on_day(today if later_today else today + timedelta(days=1), clock, local)
    day, part = _day_and_part(phrase.day, local)
    if day is None:
        return None
    if clock is None and part is not None:
        clock = PARTS_OF_DAY[part.lower()]
    return _on_day(day, clock, local)


# ---------------------------------------------------------------------------------------------
# Guards
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Match:
    """A rule's match with the text around it that the guards look at."""

    rule: PromiseRule
    match: re.Match[str]
    masked: str
    sentence: tuple[int, int]
    clause: tuple[int, int]
    is_last_clause: bool
    phrase: _TimePhrase | None

    @property
    def lead(self) -> str:
        """The clause up to the rule's match (the subject, for subject rules)."""
        return self.masked[self.clause[0] : self.match.start()]

    @property
    def middle(self) -> str:
        return self.match.groupdict().get("mid") or ""

    @property
    def before_verb(self) -> str:
        return self.lead if self.rule.negated_verb else f"{self.lead} {self.middle}"


def _conditional(c: _Match) -> bool:
    return _CONDITION.search(c.lead) is not None


def _question(c: _Match) -> bool:
    sentence = c.masked[c.sentence[0] : c.sentence[1]].rstrip("\"')] ")
    if not sentence.endswith("?"):
        return False
    return c.is_last_clause or _QUESTION_OPENER.match(sentence) is not None


def _third_party(c: _Match) -> bool:
    return _THIRD_PARTY.search(c.lead) is not None


def _request(c: _Match) -> bool:
    return not c.rule.subject_frame and _REQUEST.search(c.lead) is not None


def _negated(c: _Match) -> bool:
    return _NEGATION.search(c.before_verb) is not None


def _past(c: _Match) -> bool:
    clause = c.masked[c.clause[0] : c.clause[1]]
    return (
        _PAST_AUXILIARY.search(c.before_verb) is not None or _PAST_TIME.search(clause) is not None
    )


def _hedged(c: _Match) -> bool:
    sentence = c.masked[c.sentence[0] : c.sentence[1]]
    return _HEDGE.search(c.before_verb) is not None or _HEDGE_PHRASE.search(sentence) is not None


def _uncommitted(c: _Match) -> bool:
    if not c.rule.subject_frame or c.rule.verb_commits:
        return False
    if _COMMITMENT.search(c.middle):
        return False
    # "we ship within 24 hours": a house policy in the present tense, if it has a time frame.
    return not (_POLICY_MIDDLE.fullmatch(c.middle) and c.phrase is not None)


def _timeless(c: _Match) -> bool:
    return c.rule.needs_time and c.phrase is None


_GUARDS: tuple[tuple[str, Callable[[_Match], bool]], ...] = (
    ("conditional", _conditional),
    ("question", _question),
    ("third_party", _third_party),
    ("request", _request),
    ("negation", _negated),
    ("past_tense", _past),
    ("hedge", _hedged),
    ("no_commitment", _uncommitted),
    ("no_time_frame", _timeless),
)


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------


def explain_promises(text: str, *, sent_at: datetime, timezone: str) -> list[Candidate]:
    """Every rule match in `text`, accepted or rejected with the name of the guard that
    rejected it; "one_per_clause" marks a match that lost to an earlier rule in its clause."""
    if sent_at.tzinfo is None or sent_at.utcoffset() is None:
        raise ValueError("sent_at must be an aware datetime")
    zone = ZoneInfo(timezone)
    text = text[:MAX_REPLY_CHARACTERS]  # a prefix: spans still point into the caller's text
    masked = _mask_quoted(text)
    candidates: list[Candidate] = []
    for sentence in _sentences(masked):
        clauses = _clauses(masked, *sentence)
        normalised = " ".join(text[sentence[0] : sentence[1]].split())
        for index in range(len(clauses)):
            taken = False
            for found in _matches(masked, sentence, clauses, index):
                rejected_by = next((name for name, guard in _GUARDS if guard(found)), None)
                if rejected_by is None and taken:
                    rejected_by = "one_per_clause"
                taken = taken or rejected_by is None
                due_at = None
                if rejected_by is None and found.phrase is not None:
                    due_at = _due_at(found.phrase, sent_at, zone)
                candidates.append(Candidate(_promise(found, normalised, due_at), rejected_by))
    return candidates


def find_promises(text: str, *, sent_at: datetime, timezone: str) -> list[FoundPromise]:
    """The promises a reply makes to the customer, in text order.

    `sent_at` must be aware; relative times ("within three hours", "by Friday") are resolved
    against it in `timezone` (an IANA name such as "America/New_York"). Pure: no I/O."""
    found = explain_promises(text, sent_at=sent_at, timezone=timezone)
    return sorted((c.promise for c in found if c.rejected_by is None), key=lambda p: p.span)


def _matches(
    masked: str, sentence: tuple[int, int], clauses: list[tuple[int, int]], index: int
) -> Iterator[_Match]:
    clause, is_last = clauses[index], index == len(clauses) - 1
    words = {word.lower() for word in _WORD.findall(masked, *clause)}
    phrases: list[_TimePhrase] | None = None  # found once, and only if some rule matched
    for rule in RULES:
        if rule.cues.isdisjoint(words):
            continue
        for m in rule.pattern.finditer(masked, *clause):
            if phrases is None:
                phrases = _time_phrases(masked, *clause)
            phrase = _phrase_for(masked, clauses, phrases, m.start())
            yield _Match(rule, m, masked, sentence, clause, is_last, phrase)


def _promise(found: _Match, sentence: str, due_at: datetime | None) -> FoundPromise:
    start, end = found.match.span()
    if found.phrase is not None and found.clause[0] <= found.phrase.start < found.clause[1]:
        start, end = min(start, found.phrase.start), max(end, found.phrase.end)
    return FoundPromise(
        kind=found.rule.kind,
        sentence=sentence,
        span=(start, end),
        due_at=due_at,
        needs_confirmation=found.rule.kind in NEEDS_CONFIRMATION,
        rule=found.rule.name,
    )
