"""Whether a manager's reply names a remedy for the customer, or only delegates ("handle it")."""

from __future__ import annotations

import re

__all__ = ["delegates", "names_an_action"]

_OBJECT = r"(?:it|this|that|them|him|her|the\s+(?:customer|client|problem|issue))"

_DELEGATION = re.compile(
    rf"""\bhandle\s+{_OBJECT}\b | \byou\s+handle\b | \bdeal\s+with\s+{_OBJECT}\b
      | \bsort\s+{_OBJECT}(?:\s+out)?\b | \bsort\s+out\b
      | \b(?:your|ur)\s+(?:call|decision|problem)\b | \bup\s+to\s+you\b | \byou\s+decide\b
      | \bmake\s+{_OBJECT}\s+(?:go\s+away|right)\b
      | \bwhatever\s+you\s+(?:think|decide|want|feel|see\s+fit)\b | \bas\s+you\s+see\s+fit\b
      | \buse\s+your\s+(?:own\s+|best\s+)?judge?ment\b | \bi\s+trust\s+you\b
      | \b(?:figure|work)\s+(?:it|this|something)\s+out\b
      | \btake\s+care\s+of\s+{_OBJECT}\b | \bleave\s+(?:it|this|that)\s+(?:to|with)\s+you\b
      | \bdo\s+what(?:ever)?\s+(?:you|it)\s+(?:think|need|must|have\s+to|want|takes)\b
      | \byou\s+know\s+what\s+to\s+do\b | \bfix\s+(?:it|this|that)\b
      | \bget\s+(?:it|this|that)\s+(?:done|sorted|resolved|fixed|handled)\b
      | \b(?:resolve|settle)\s+(?:it|this|that)\b | \brun\s+with\s+it\b""",
    re.VERBOSE,
)

_CALLEE = r"""(?:him|her|them|the\s+(?:customer|client)|back|today|tomorrow|now
                |first\s+thing|this\s+(?:morning|afternoon))\b"""

_ACTION = re.compile(
    rf"""\brefund | \breimburs | \bmoney\s+back\b | \bcharge[\s-]?back\b
      | \bcredit\s+(?:him|her|them|their|his|the|back)\b
      | \b(?:a|store|account|service)\s+credit\b | \bissue\s+(?:a\s+)?credit\b
      | \bdiscount | \b\d+\s?%\s*off\b | \bwaive | \bfree\s+(?:month|upgrade|of\s+charge)\b
      | \bcall(?<!your\scall)(?<!judgement\scall)(?<!judgment\scall)\s+{_CALLEE}
      | \b(?:phone|ring)\s+{_CALLEE} | \bphone\s+call\b | \b(?:a|quick)\s+call\s+with\b
      | \bset\s+up\s+a\s+(?:call|meeting)\b
      | \b(?:give|make)\s+(?:him|her|them|the\s+(?:customer|client))\s+a\s+(?:quick\s+)?
        (?:call|ring)\b
      | \b(?:meet|visit)\s+(?:with\s+)?(?:him|her|them)\b
      | \brenegotiat | \bnew\s+(?:deadline|date|timeline|price|terms|quote)\b
      | \b(?:extend|push|move)\s+(?:back\s+)?(?:the\s+)?(?:deadline|date|delivery|launch)\b
      | \breschedul | \brevise\s+(?:the\s+)?(?:quote|scope|terms|plan)\b | \boffer\b
      | \bcancel\s+(?:the|their|his|her)\s+(?:order|contract|project|subscription)\b
      | \b(?:replace|redo|re-?deliver|resend|re-?ship)\b | \breassign
      | \bescalate\s+(?:it\s+|this\s+)?to\s+(?:me|legal|finance|management|the\s+\w+)\b""",
    re.VERBOSE,
)

# A colleague named with a capital letter ("escalate to Maria", "ask Tom to", "call Dana"):
# matched case-sensitively for the name, so "your call. Thanks" is not "call Thanks".
_NAMED_PERSON = re.compile(
    r"""(?:\b(?i:escalate|pass|hand|forward|send|give|assign|reassign|refer|transfer)
           (?:\s+(?i:it|this|that|her|him|them))?(?:\s+(?i:over|on))?\s+(?i:to)
         | \b(?i:call|phone|ring)(?<![Yy]our\scall)
         | \b(?i:ask|get|have|let))
        \s+(?!I\b|Me\b|You\b|It\b|This\b|That\b|Them\b)[A-Z][a-z]+\b""",
    re.VERBOSE,
)
# Calls to the manager ("call me if it gets worse") are not a remedy for the customer.
_CONTACT_ME = re.compile(r"\b(?:call|phone|ring|email|ping|text)\s+me\b", re.IGNORECASE)


def names_an_action(text: str) -> bool:
    """Whether the reply names a remedy: a refund, a call, an offer, a new date, a colleague."""
    text = _CONTACT_ME.sub(" ", text)
    return _ACTION.search(text.lower()) is not None or _NAMED_PERSON.search(text) is not None


def delegates(lowered: str) -> bool:
    """Whether the (lowercased) reply hands the matter on: "handle it", "your call"..."""
    return _DELEGATION.search(lowered) is not None
