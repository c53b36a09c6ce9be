"""Promises made to customers in outbound replies, found by explicit rules (no model).

Staff write "we will respond within three hours" or "we guarantee first-page rankings"; the
ledger must know that a promise was made, of which kind, and when it falls due. A support
person must be able to see *why* a sentence did or did not count, so every result names the
rule that matched, and `explain_promises` also returns the candidates a guard threw out, with
the guard's name.

How a reply is read, one module per step:

1. `sentences`: quoted material blanked out, the rest cut into sentences and clauses, within
   bounds on how much is read.
2. `kinds`: each rule is a regular expression for one way of promising one kind of thing
   (written with the helpers of `phrasing` over the word lists of `vocabulary`).
3. `guards`: a candidate is rejected for a stated reason (conditional, question, hedge...).
4. `times` finds the time expression a promise refers to, `due_times` says when it falls due.
5. `reading` puts these together: one promise per clause, the first rule in order wins, but
   for a second promise joined by "and" ("we'll refund the fee and send a replacement").
"""

from __future__ import annotations

from .due_times import END_OF_BUSINESS, LATE_END_OF_DAY, PARTS_OF_DAY, parse_quantity
from .kinds import RULES
from .phrasing import PromiseRule
from .reading import (
    NEEDS_CONFIRMATION,
    Candidate,
    FoundPromise,
    Reading,
    explain_promises,
    find_promises,
    read_reply,
)
from .sentences import MAX_REPLY_CHARACTERS, MAX_SENTENCE_CHARACTERS

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
    "Reading",
    "explain_promises",
    "find_promises",
    "parse_quantity",
    "read_reply",
]
