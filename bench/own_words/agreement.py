"""How often `own_words` agrees with a maintained reply parser's own expected outputs.

    .venv/bin/python bench/own_words/agreement.py [--show]

The cases are talon's (Mailgun's reply parser) quotation tests, their input and the reply talon
expects, kept in libs/events/tests/reply_fixtures/talon.json (licence in its README). Plain
cases go to `own_words` as they are; HTML cases are first made text by intake's `html_to_text`,
as an HTML email is, and compared with whitespace removed, as talon's own tests compare them.

Talon removes quotations only; `own_words` also removes a signature ("-- ", "Sent from my
iPhone"), by design. So two figures: exact (whitespace tidied) and signature-tolerant, where
the expected reply may end with such a signature block that `own_words` removed.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path

from keepword_events.own_words import own_words
from keepword_intake.html_text import html_to_text

CASES = Path(__file__).resolve().parents[2] / "libs/events/tests/reply_fixtures/talon.json"
_SIGNATURE_START = re.compile(r"^(?:-- ?|sent (?:from|with) .*)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Outcome:
    name: str
    kind: str
    exact: bool
    tolerant: bool
    got: str
    expected: str


def tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").strip().split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def without_signature(text: str) -> str:
    """The text up to a trailing signature block, which own_words removes by design."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if _SIGNATURE_START.match(line.strip()):
            return tidy("\n".join(lines[:index]))
    return text


def outcome(case: dict[str, str]) -> Outcome:
    if case["kind"] == "html":
        got = own_words(html_to_text(case["text"]))
        expected = html_to_text(case["expected"])
        same = "".join(got.split()) == "".join(expected.split())
        return Outcome(case["name"], "html", same, same, got, expected)
    got, expected = tidy(own_words(case["text"])), tidy(case["expected"])
    exact = got == expected
    return Outcome(
        case["name"], "plain", exact, exact or got == without_signature(expected), got, expected
    )


def outcomes() -> list[Outcome]:
    """Every case of the fixture file, read by own_words."""
    cases: list[dict[str, str]] = json.loads(CASES.read_text(encoding="utf-8"))
    return [outcome(case) for case in cases]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--show", action="store_true", help="print each disagreement")
    args = parser.parse_args()
    results = outcomes()
    for kind in ("plain", "html"):
        of_kind = [r for r in results if r.kind == kind]
        exact = sum(r.exact for r in of_kind)
        tolerant = sum(r.tolerant for r in of_kind)
        print(
            f"{kind}: own_words agrees with talon's expected reply on {tolerant} of "
            f"{len(of_kind)} cases ({exact} exactly, {tolerant - exact} once a signature "
            "is allowed to go)"
        )
    if args.show:
        for result in results:
            if not result.tolerant:
                print(f"\n--- {result.name}\n got: {result.got!r}\n want: {result.expected!r}")


if __name__ == "__main__":
    main()
