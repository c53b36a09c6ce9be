"""Time expressions in a clause, and which one a promise refers to.

The time expression nearest the trigger in the same clause (or a sentence-opening clause such
as "By Friday,") gives the due time: a duration ("within 24 hours"), a day ("by Friday", "March
20"), a clock time ("by 3pm"), a day and a clock time joined ("Thursday at 2pm"), or a vague
time ("soon"), which names no due time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .vocabulary import FLAGS, MONTH, PART, QTY, UNIT, WEEKDAY

__all__ = ["TimePhrase", "phrase_for", "time_phrases"]

_DURATION = re.compile(
    rf"""\b(?:within|in|inside(?:\s+of)?|in\s+under|under|in\s+less\s+than|less\s+than
            |no\s+more\s+than|at\s+most|allow(?:\s+up\s+to)?|up\s+to)\s+
        (?:(?:the\s+)?(?:next|coming)\s+)?
        (?:(?P<qty>{QTY})(?:\s*(?:-|\u2013|to|or)\s*(?P<qty2>{QTY}))?[\s-]*(?P<unit>{UNIT})\b
          | the\s+(?P<the_unit>hour|day|week|month)\b)
        (?P<anchor>\s+(?:of|after|from|following)\s+(?!now\b|today\b|this\b)[\w']+)?""",
    FLAGS,
)
# A time zone named after a clock time: abbreviations in capitals only ("ET", "CET", "UTC+2"),
# region names in any case ("Pacific", "eastern time").
_ZONE = r"""(?-i:(?:UTC|GMT)\s?[+-]\s?\d{1,2}(?::?\d{2})?|UTC|GMT|[PMCE][SD]?T|CES?T|BST|AES?T)
    | (?:pacific|mountain|central|eastern)(?:\s+(?:standard|daylight))?(?:\s+time)?"""
_CLOCK = re.compile(
    # "between 1 and 3 PM": a window falls due at its end
    rf"""(?:\bbetween\s+\d{{1,2}}(?::\d{{2}})?\s*(?:[ap]\.?m\.?\s*)?(?:and|to)\s+)?
        (?:\b(?P<hour>\d{{1,2}})(?::(?P<minute>\d{{2}}))?\s*(?P<ampm>[ap])(?:\.m\.|\.?m\b)
          | \b(?P<h24>\d{{1,2}}):(?P<m24>\d{{2}})\b
          | \b(?P<named>noon|midday|midnight)\b)
        (?:\s?(?P<zone>{_ZONE})(?![\w+:-]))?""",
    FLAGS,
)
_DAY = re.compile(
    rf"""\b(?:
        (?P<iso>\d{{4}}-\d{{2}}-\d{{2}})
      | (?P<next_business_day>(?:the\s+)?next\s+(?:standard\s+)?(?:business|working)\s+day)
      | (?P<first_thing>first\s+thing\s+)?
            (?:(?P<rel>today|tonight|tomorrow|the\s+day\s+after\s+tomorrow|later\s+today)
                (?:\s+(?:in\s+the\s+)?(?P<rel_part>{PART}))?
              | in\s+the\s+(?P<next_part>morning))
      | this\s+(?P<this_part>morning|afternoon|evening)
      | (?P<eod>(?:the\s+)?(?:end|close)\s+of\s+(?:the\s+)?(?:business\s+|working\s+)?day
            |(?:the\s+)?(?:end|close)\s+of\s+business|end\s+of\s+play|eod|cob|eob)
      | (?:the\s+)?end\s+of\s+(?:(?P<eo_rel>this|next|the)\s+)?(?P<eo_period>week|month|year)
      | (?:the\s+)?end\s+of\s+(?P<eo_month>{MONTH})
      | (?P<wk_rel>this|next|the\s+coming)\s+week
      | (?P<cal>(?:{WEEKDAY},?\s+)?
            (?:{MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?
              | \d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH}(?:,?\s+\d{{4}})?
              | \d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?))
      | (?:(?P<wd_rel>this|next|coming|the\s+coming)\s+)?(?P<weekday>{WEEKDAY})
            (?:\s+(?P<wd_part>{PART}))?
      | (?P<dom>the\s+\d{{1,2}}(?:st|nd|rd|th))
      | (?:(?<=by\s)|(?<=until\s)|(?<=till\s)|(?<=before\s)|(?<=through\s)|(?<=in\s))
            (?P<month_only>{MONTH})
    )\b""",
    FLAGS,
)
_VAGUE = re.compile(
    r"""\b(?:as\s+soon\s+as\s+(?:possible|we\s+can|I\s+can)|as\s+soon\s+as|soon|shortly|asap
        |as\s+quickly\s+as\s+possible|right\s+away|straight\s+away|promptly|immediately
        |at\s+(?:your|our|the)\s+earliest(?:\s+(?:convenience|opportunity))?|momentarily
        |in\s+due\s+course|in\s+a\s+(?:moment|bit|little\s+while))\b""",
    FLAGS,
)
_DAY_CLOCK_GLUE = re.compile(r"\s*,?\s*(?:at|by|before|around|on|from)?\s*", re.IGNORECASE)
_LEADING_PREPOSITION = re.compile(
    r"\s*(?:(?:by|before|on|until|till|at|no\s+later\s+than|first\s+thing)\s*)?", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class TimePhrase:
    start: int
    end: int
    duration: re.Match[str] | None = None
    day: re.Match[str] | None = None
    clock: re.Match[str] | None = None  # with or without a day

    @property
    def is_vague(self) -> bool:
        """ "soon", "as soon as possible": a time no clock can keep or break."""
        return self.duration is None and self.day is None and self.clock is None


def time_phrases(masked: str, start: int, end: int) -> list[TimePhrase]:
    """Time phrases in a clause, a day and its clock time ("Thursday at 2pm") joined."""
    found: list[TimePhrase] = []
    for m in _DURATION.finditer(masked, start, end):
        found.append(TimePhrase(m.start(), m.end(), duration=m))
    for m in _DAY.finditer(masked, start, end):
        found.append(TimePhrase(m.start(), m.end(), day=m))
    for m in _CLOCK.finditer(masked, start, end):
        found.append(TimePhrase(m.start(), m.end(), clock=m))
    for m in _VAGUE.finditer(masked, start, end):
        found.append(TimePhrase(m.start(), m.end()))
    found.sort(key=lambda p: (p.start, -p.end))
    phrases: list[TimePhrase] = []
    for phrase in found:
        if phrases and phrase.start < phrases[-1].end:
            continue  # inside a longer phrase already taken ("within the hour" vs "hour")
        previous = phrases[-1] if phrases else None
        if previous is not None and _joinable(masked, previous, phrase):
            phrases[-1] = TimePhrase(
                previous.start,
                phrase.end,
                day=previous.day or phrase.day,
                clock=previous.clock or phrase.clock,
            )
        else:
            phrases.append(phrase)
    return phrases


def _joinable(masked: str, first: TimePhrase, second: TimePhrase) -> bool:
    kinds = {(first.day is not None, first.clock is not None)}
    kinds.add((second.day is not None, second.clock is not None))
    one_day_one_clock = kinds == {(True, False), (False, True)}
    glue = masked[first.end : second.start]
    return one_day_one_clock and _DAY_CLOCK_GLUE.fullmatch(glue) is not None


def phrase_for(
    masked: str, clauses: list[tuple[int, int]], phrases: list[TimePhrase], trigger: int
) -> TimePhrase | None:
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
    leading = time_phrases(masked, *opening)
    if len(leading) != 1:
        return None
    rest = masked[opening[0] : leading[0].start] + masked[leading[0].end : opening[1]]
    return leading[0] if _LEADING_PREPOSITION.fullmatch(rest) else None
