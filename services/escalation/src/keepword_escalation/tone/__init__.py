"""Reading what people wrote: does a customer need a phone call, did a manager really decide?

Both readings are deterministic and explainable: explicit rules name what they found, and the
tone score comes from a lexicon (VADER), not from a trained model, so the same text always
gives the same answer and a support person can see why.

Only the writer's own words count, read as every service reads them
(`keepword_events.own_words`: quoted lines, the history below an "On ... wrote:" / "Original
Message" / Outlook "From: ... Sent:" header, a signature such as "-- " or "Sent from my iPhone"
are not the writer's), and lines that are only a closing formula ("Thanks,", "Best regards")
are dropped too: formulaic politeness says nothing about the writer's mood.

A customer message is a *difficult conversation* when any of these is found (the subject line
counts as part of the message):

- "complaint": the customer says so ("formal complaint"), or calls the service unacceptable,
  ridiculous, a disgrace, a scam, a rip-off, a joke, the worst ever;
- "refund demand": money back, a refund, a refund of the deposit, a chargeback, a disputed
  charge (also "reembolso", "remboursement", "Rückerstattung", "Geld zurück"). A question about
  the refund *policy* is not a demand; "can I get a refund?" is;
- "legal threat": a lawyer, suing, small claims, trading standards, the BBB, an ombudsman,
  reporting us to an authority, court;
- "sarcasm": a few set phrases VADER reads as positive ("thanks for nothing", "oh great,
  another delay", "what a surprise");
- "strongly negative tone (-0.72)": the tone score is at or below `STRONGLY_NEGATIVE` (-0.6).

Complaint and refund phrases do not count when the writer disclaims them earlier in the same
clause ("this is not a complaint", "I don't want my money back", "no complaints"); "why can't I
get my money back" still counts. Legal threats and sarcasm always count: "I'd rather not
involve my lawyer" is still a threat. "never" is deliberately not a disclaimer: "I have never
had such terrible service" is a complaint.

Every reading has a bounded cost, whatever arrives (a body may be 200,000 characters of one
emoji, one word or quote markers). Signals and tone read the first `MAX_READ_CHARACTERS` of the
writer's own words, with runs of one character cut to `MAX_REPEAT` (VADER weighs "!!!!" no
more than four): a flood of angry faces still reads as four angry faces, a strongly negative
tone. VADER sees at most `MAX_EMOJI` emoji (it spells each out as words, and its cost grows
with the square of the words in a sentence) and "sentences" of at most `MAX_SENTENCE_CHARACTERS`:
a longer run without a full stop is scored in pieces, cut at a space. Finding the writer's own
words is linear in the text: no pattern backtracks over a long run of spaces or markers. The
service runs a reading in a worker thread within `TONE_BUDGET_SECONDS`
(`read_customer_message_in_time`, `is_non_decision_in_time`): past it, the message counts as
not difficult and the reply as not a non-decision (the escalation's own deadlines still run),
and a warning names the event and the body's size, never its text. A thread cannot be stopped,
so the bounds are what keep the cost small; the budget guards what they might miss.

A manager's reply is a *non-decision* when it delegates ("handle it", "your call", "sort it
out", "use your judgement", ...) AND names no concrete action (refund, call, offer, credit,
discount, renegotiate a date, reassign or escalate to a named person, ...) AND is short: fewer
than `NON_DECISION_MAX_WORDS` (40) words of the manager's own, in at most
`NON_DECISION_MAX_CHARACTERS`. "Refund her deposit, handle it
today" decides; "call him tomorrow" decides; "handle it, call me if it gets worse" does not (a
call to the manager is not a remedy for the customer). An apology is not a decision either:
the customer still has no refund, call or new date.

One module per concern: `readings` (the two readings and their budget), `signals` (the
customer's phrases), `vader` (the tone score: why -0.6, how long messages are scored), `manager`
(delegations and remedies in a manager's reply).
"""

from .readings import (
    MAX_READ_CHARACTERS,
    MAX_REPEAT,
    NO_READING,
    NON_DECISION_MAX_CHARACTERS,
    NON_DECISION_MAX_WORDS,
    STRONGLY_NEGATIVE,
    TONE_BUDGET_SECONDS,
    ToneReading,
    is_non_decision,
    is_non_decision_in_time,
    own_words,
    read_customer_message,
    read_customer_message_in_time,
)
from .vader import MAX_EMOJI, MAX_SENTENCE_CHARACTERS

__all__ = [
    "MAX_EMOJI",
    "MAX_READ_CHARACTERS",
    "MAX_REPEAT",
    "MAX_SENTENCE_CHARACTERS",
    "NON_DECISION_MAX_CHARACTERS",
    "NON_DECISION_MAX_WORDS",
    "NO_READING",
    "STRONGLY_NEGATIVE",
    "TONE_BUDGET_SECONDS",
    "ToneReading",
    "is_non_decision",
    "is_non_decision_in_time",
    "own_words",
    "read_customer_message",
    "read_customer_message_in_time",
]
