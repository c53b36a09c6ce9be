"""own_words against a maintained reply parser's own expectations: talon's plain-text cases.

Every case must agree except the ones listed, each for a stated reason; a case that starts or
stops agreeing fails here, so the figure in bench/own_words/agreement.py cannot drift unseen.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from keepword_events.own_words import own_words

CASES = [
    case
    for case in json.loads(
        (Path(__file__).parent / "reply_fixtures" / "talon.json").read_text(encoding="utf-8")
    )
    if case["kind"] == "plain"
]
_SIGNATURE_START = re.compile(r"^(?:-- ?|sent (?:from|with) .*)$", re.IGNORECASE)

KNOWN_DIFFERENCES = {
    # talon's test lowers its line limit to 1 to force a fallback of its own.
    "text_quotations_test::test_too_many_lines": "talon configuration",
    # A header split by blank lines and a "mailto:" link: read as prose, kept.
    "text_quotations_test::test_pattern_on_date_polymail": "header broken by blank lines",
    # The header shares a line with the reply ("reply On ..., bob wrote:"): lines are whole.
    "text_quotations_test::test_reply_and_quotation_splitter_share_line[0]": "shared line",
    "text_quotations_test::test_reply_and_quotation_splitter_share_line[1]": "shared line",
    "text_quotations_test::test_reply_and_quotation_splitter_share_line[2]": "shared line",
    # Below new words a reply header ends them, also the words under its quote: unquoted
    # history below a quote (Outlook, HTML mail) is more common than a sign-off there.
    "text_quotations_test::test_reply_wraps_quotations": "text under the quote",
    "text_quotations_test::test_reply_wraps_nested_quotations": "text under the quote",
    "text_quotations_test::test_quotation_separator_takes_2_lines": "text under the quote",
    # "2011/4/7 Nathan <support@example.com>" without a colon: a line of the writer's.
    "text_quotations_test::test_pattern_date_email_with_unicode": "no colon, not a header",
    # ">>> >>> http://..." is a quoted line to us; talon keeps it as a false positive.
    "text_quotations_test::test_quotation_marker_false_positive": "quote marker",
    # A lone "From: address" line, a link and "Requester:": no Sent nor To, kept.
    "text_quotations_test::test_link_closed_with_quotation_marker_on_new_line": "no block",
}


def tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").strip().split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def without_signature(text: str) -> str:
    """talon keeps a signature ("Sent from my iPhone", "-- "), which own_words removes."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if _SIGNATURE_START.match(line.strip()):
            return tidy("\n".join(lines[:index]))
    return text


def agrees(case: dict[str, str]) -> bool:
    got, expected = tidy(own_words(case["text"])), tidy(case["expected"])
    return got in (expected, without_signature(expected))


def test_the_fixtures_are_talons_sixty_one_plain_cases() -> None:
    assert len(CASES) == 61
    assert set(KNOWN_DIFFERENCES) <= {case["name"] for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=[case["name"].split("::")[1] for case in CASES])
def test_own_words_agrees_with_talon_except_where_stated(case: dict[str, str]) -> None:
    assert agrees(case) == (case["name"] not in KNOWN_DIFFERENCES)
