"""Word lists the promise rules and the time expressions share, as verbose-regex fragments."""

from __future__ import annotations

import re

FLAGS = re.IGNORECASE | re.VERBOSE


# A name in capitals: a colleague ("Casey") or the company ("Northwind Support"), up to three
# words. Pronouns, "Google" and words such as "Nothing" are not.
NAME = r"""(?!(?:it|this|that|these|those|there|everything|everyone|nothing|nobody|no|none
        |someone|google|they|he|she|you|your|our|my|the|a|an|thanks|thank|hi|hello|dear)\b)
    (?-i:[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2})"""

# Words between a subject and its "will", set off by commas: a relative clause ("our team, who
# will contact you", "Sam, who looks after your account, will") or an apposition ("Jordan, our
# onboarding lead, will"). The clauses are not cut there (see `sentences`).
INSERTION = r"""(?:,\s+who(?=\s+will\b|'ll\b)
    | ,\s+(?:who|our|my|your)\s[^,.;:!?]{1,60}?,(?=\s+will\b))"""

# Who speaks for the company in a reply written by its staff.
FIRST_PARTY = rf"""
    we | I
  | (?:someone|somebody|a\s+colleague|a\s+member|one)
      \s+(?:of|from|on|in)\s+(?:us|our\s+(?:[\w-]+\s+){{0,2}}?(?:team|staff|colleagues|agents
        |engineers|specialists|representatives|technicians))
  | someone | somebody
  | an?\s+(?:[\w-]+\s+)?(?:engineer|agent|specialist|representative|technician)
  | (?:our|{NAME}'s)\s+(?:[\w-]+\s+){{0,2}}(?:team|staff|specialists?|experts?|developers?
        |devs|engineers?|designers?|writers?|copywriters?|analysts?|consultants?|managers?|department|office
        |agency|company|support|people|accounts|billing|finance|agents?|representatives?
        |technicians?)
  | (?:your|the)\s+(?:dedicated\s+)?(?:account|project|campaign|client\s+success)\s+manager
  | the\s+(?:[\w-]+\s+){{0,2}}team
  | {NAME}(?=\s+(?:will|is\s+going\s+to)\b|'ll\b|{INSERTION})  # "Casey will", "Acme Inc will"
"""

QTY = r"""
    \d+(?:\.\d+)?
  | (?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)
      (?:[-\s](?:one|two|three|four|five|six|seven|eight|nine)\b)?
  | eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen
  | ten|one|two|three|four|five|six|seven|eight|nine
  | a\s+couple(?:\s+of)? | a\s+few | half\s+an? | an?
"""
UNIT = r"""
    business\s+days? | working\s+days? | work\s+days? | weekdays?
  | minutes? | mins? | hours? | hrs? | h | days? | weeks? | months? | years?
"""

# What an outcome promise is about. Word boundaries are inside, because "#1" starts with "#".
OUTCOME = r"""
    (?:\b(?:rank(?:s|ings?|ed)?|page[-\s](?:one|1)|first[-\s]page|front[-\s]page
        |top[-\s](?:\d+|one|three|five|ten|spot|position|result|ranking)s?|number[-\s]one
        |traffic|visitors?|visits|leads|enquiries|inquiries|conversions?|sales|revenue
        |results|visibility|roi|clicks|bookings|increase|growth)\b
      | \#\s?1\b)
"""

MONTH = r"""(?:january|february|march|april|may|june|july|august|september|october|november
    |december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)"""
WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
PART = r"(?:morning|afternoon|evening|night)"

# "Please allow 3-5 business days for ...": how long we need, told as a request for patience.
ALLOW = r"""(?:\bplease\s+)?\ballow\s+(?:up\s+to\s+)?[^.;!?]{1,40}?\s+for\s+"""
