"""The promise rules, one regular expression per way of promising one kind of thing.

The first rule in `RULES` order that survives the guards wins its clause (refund before
delivery, etc.). Decisions:

- Response-time and delivery promises need a time frame (vague ones such as "shortly" count,
  with no due time): "our team will review your site" gives the ledger nothing to check.
  Refund, callback, outcome and price promises count without one.
- A present-tense house policy or a present-progressive plan with a time frame is a promise
  ("we ship within 24 hours", "we're sending it on Friday").
- Staff write the replies, so a capitalised name right before "will" ("Casey will call you",
  "Northwind Support will reply") is taken to be a colleague or the company; pronouns,
  "Google" and words such as "Nothing" are not.
- A plan told in the perfect tense is a promise: "I've booked a callback for you tomorrow".
"""

from __future__ import annotations

from .kinds_contact import CONTACT_RULES
from .kinds_money import MONEY_RULES
from .kinds_plans import PLAN_RULES
from .kinds_work import WORK_RULES
from .phrasing import PromiseRule

__all__ = ["RULES"]

RULES: tuple[PromiseRule, ...] = MONEY_RULES + CONTACT_RULES + WORK_RULES + PLAN_RULES
"""Every rule, in the order that decides a clause: refund, price, callback, response time,
delivery, outcome, then plans told in the perfect tense ("I've booked a call")."""
