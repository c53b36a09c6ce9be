"""A reply as sentences and clauses, other people's words blanked out.

Other people's words are replaced by spaces, so offsets stay those of the original: what is not
the writer's own by the reading every service shares (`keepword_events.own_words`: quoted
lines, the history below a reply header, an earlier message, a signature), and text in double
quotes. The rest is cut into sentences, and sentences into clauses
(at commas, semicolons, dashes and words such as "but", "if", "unless", "whether", "and we";
not at the commas that set off who speaks: "our team, who will contact you", "Jordan, our
onboarding lead, will"). A
clause is the scope of every guard: "We can't guarantee rankings, but we will reply within 24
hours" is one negated guarantee and one real promise.

Bounded work, whatever a reply holds (a body may be 200,000 characters of anything): only the
first `MAX_REPLY_CHARACTERS` are read, and a "sentence" longer than `MAX_SENTENCE_CHARACTERS`
(a run with no full stop or blank line, as in a pasted log or a flood of one word) is read in
pieces of at most that size, cut at a space. Every guard looks at its clause or sentence, so
the pieces keep the work per match bounded, and the patterns are linear in their input (no
run of punctuation or spaces makes them backtrack).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from keepword_events.own_words import own_words_in_place

from .vocabulary import FLAGS, MONTH

__all__ = [
    "MAX_REPLY_CHARACTERS",
    "MAX_SENTENCE_CHARACTERS",
    "WORD",
    "mask_quoted",
    "split_clauses",
    "split_sentences",
]

MAX_REPLY_CHARACTERS = 20_000
"""How much of a reply is read for promises: about ten pages. Staff promise in what they write
at the top; the rest of a longer body is quoted history or pasted material. With the pieces
below, the worst reply measured (20,000 characters of "we send") reads in about 1 s."""

MAX_SENTENCE_CHARACTERS = 400
"""Longest stretch read as one sentence: about five times the longest sentence of the labelled
corpus (85). The guards of each match look at its whole clause and sentence, so the work of a
sentence grows with its length squared; longer runs are read in pieces of at most this."""

_QUOTATION = re.compile(r'"[^"\n]{1,500}"')
# Typographic quotes as plain ones, so that the rules need only one spelling of "we'll".
_PLAIN_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_NOT_NEWLINE = re.compile(r"[^\n]")
WORD = re.compile(r"\w+")

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
      | ,(?=\s)(?!\s+(?:{MONTH}\b|\d))  # not the comma of "Friday, March 13"
        (?!\s+(?:who|will)\b)  # nor those of "our team, who will", "Sam, who ..., will"
        (?!\s+(?:our|my|your)\s[^,.;:!?]{{1,60}}?,\s+will\b)  # "Jordan, our lead, will"
      | \s(?=(?:but|so|because|although|though|however|whereas|unless|if|whether|while
             |otherwise)\b)
      | \s(?=(?:and|or)\s+(?:we|I|you|they|he|she|it)\b)""",
    FLAGS,
)


def _blank(match: re.Match[str]) -> str:
    return _NOT_NEWLINE.sub(" ", match.group())


def mask_quoted(text: str) -> str:
    """The text with other people's words replaced by spaces and typographic quotes made
    plain; offsets are unchanged."""
    text = own_words_in_place(text.translate(_PLAIN_QUOTES))
    return _QUOTATION.sub(_blank, text)


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if any(ch.isalnum() for ch in text[start:end]) else None


def split_sentences(masked: str) -> Iterator[tuple[int, int]]:
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


def split_clauses(masked: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for brk in _CLAUSE_BREAK.finditer(masked, start, end):
        if (span := _trimmed(masked, start, brk.start())) is not None:
            spans.append(span)
        start = brk.end()
    if (span := _trimmed(masked, start, end)) is not None:
        spans.append(span)
    return spans
