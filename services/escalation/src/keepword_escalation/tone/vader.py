"""The tone of a customer's words: VADER's compound score, bounded and tuned for support mail.

Why -0.6: VADER's compound is normalised as s / sqrt(s^2 + 15), where s is the sum of word
valences. A single clearly negative word ("disappointed" -2.1, "terrible" -2.1) gives about
-0.48: the mild impatience every support inbox sees daily and that an email answers well.
-0.6 needs s <= -2.9: at least two negative words, or one strengthened by capitals, "!!!",
"very" or "so" ("I am SO disappointed!!!" is -0.78). In the test corpus that line separates
"a bit disappointed" and "getting frustrating" (-0.48, -0.59: email) from "really frustrated
and disappointed" and "extremely upset and angry" (-0.87, -0.75: phone).

How the score is computed: VADER's rules (negation, "but", capitals, "!!!") work within a
sentence, and its implementation is quadratic in the length of the text it is given (a
2,000-character message takes ~8 ms). So each sentence is scored on its own, its compound is
turned back into VADER's raw valence sum, the sums are added and normalised once more with
VADER's own formula. A one-sentence message gets exactly VADER's score; longer ones get the
score VADER would give if its sentence-level rules stopped at full stops. Sentences without a
single lexicon word or emoji score 0 in VADER and are skipped.

The lexicon is VADER's, with a few words changed for customer service: words that name a
fault rather than a feeling ("error", "failed", "broken", "problem", "missing", "delay") are
neutral, so a calm bug report is not an angry customer; "joke" is negative ("this is a joke").
Numbers carry no feeling: VADER scores a few as slang ("187" is -3.1), and an order number is
not a threat.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Final

from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
    SentimentIntensityAnalyzer,
)

__all__ = ["MAX_EMOJI", "MAX_SENTENCE_CHARACTERS", "sentiment"]

MAX_EMOJI: Final = 100
"""Emoji VADER sees per message (the rest are dropped): it spells each out ("angry face"), and
100 of them in one sentence take ~7 ms, 1,000 ~400 ms."""

MAX_SENTENCE_CHARACTERS: Final = 400
"""A "sentence" longer than this (no full stop, no line end) is scored in pieces of at most this
size, cut at a space: VADER's cost grows with the square of a sentence's length."""

_VADER_ALPHA = 15.0  # VADER's normalisation constant: compound = s / sqrt(s^2 + alpha)
_LARGEST_COMPOUND = 0.9999  # VADER rounds to 4 places; +-1 would make the inverse infinite
# A sentence is a run up to its closing punctuation ("???" included: VADER weighs it) or the
# end of a line. Decimal points split numbers, which VADER scores 0 anyway.
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
# Words that name a fault rather than a feeling: a calm bug report is not an angry customer.
_FAULT_WORDS = (
    "error", "errors", "fail", "fails", "failed", "failing", "failure", "failures", "broken",
    "crash", "problem", "problems", "missing", "delay", "delayed", "damage", "damaged",
    "defect", "defective", "trouble", "stuck",
)  # fmt: skip
_LEXICON_CHANGES: Final = {
    **dict.fromkeys(_FAULT_WORDS, 0.0),
    "joke": -1.5,  # VADER has it positive (+1.2); to a customer "this is a joke" is contempt
}


@dataclass(frozen=True)
class _Vader:
    analyzer: SentimentIntensityAnalyzer
    lexicon: dict[str, float]
    emoji_characters: frozenset[str]  # VADER only ever looks emojis up one character at a time


@cache
def _vader() -> _Vader:
    # Built on first use, not at import: reading the lexicon takes ~15 ms.
    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(_LEXICON_CHANGES)
    for word in [w for w in analyzer.lexicon if w.isdigit()]:
        del analyzer.lexicon[word]  # order numbers, amounts, dates: not slang
    emojis = frozenset(key for key in analyzer.emojis if len(key) == 1)
    return _Vader(analyzer, analyzer.lexicon, emojis)


def sentiment(text: str) -> float:
    """VADER's compound score, sentence by sentence, recombined as VADER would."""
    vader = _vader()
    valence = 0.0
    for sentence in _sentences(_first_emoji(text, vader)):
        if _may_carry_sentiment(sentence, vader):
            compound: float = vader.analyzer.polarity_scores(sentence)["compound"]
            valence += _raw_valence(compound)
    return round(valence / math.sqrt(valence * valence + _VADER_ALPHA), 4)


def _first_emoji(text: str, vader: _Vader) -> str:
    """The text with the emoji after the first MAX_EMOJI left out."""
    if vader.emoji_characters.isdisjoint(text):
        return text  # most messages; a pattern of all 3,500 emoji would be slower than this loop
    kept: list[str] = []
    seen = 0
    for character in text:
        if character in vader.emoji_characters:
            seen += 1
            if seen > MAX_EMOJI:
                continue
        kept.append(character)
    return "".join(kept)


def _sentences(text: str) -> Iterator[str]:
    """Sentences, an overlong one in pieces of at most MAX_SENTENCE_CHARACTERS cut at the last
    space of each piece's second half (hard, when there is none)."""
    for sentence in _SENTENCE.findall(text):
        start = 0
        while len(sentence) - start > MAX_SENTENCE_CHARACTERS:
            limit = start + MAX_SENTENCE_CHARACTERS
            space = sentence.rfind(" ", start + MAX_SENTENCE_CHARACTERS // 2, limit)
            cut = space if space > start else limit
            yield sentence[start:cut]
            start = cut
        yield sentence[start:]


def _may_carry_sentiment(sentence: str, vader: _Vader) -> bool:
    """False only when VADER would score the sentence 0: no lexicon word and no emoji in it.

    Most sentences of a long message are plain facts; skipping them halves the time.
    """
    tokens = sentence.lower().split()
    if not vader.lexicon.keys().isdisjoint(tokens):
        return True
    if not vader.emoji_characters.isdisjoint(sentence):
        return True
    # VADER also strips punctuation around a word ("sorry!" is "sorry") before looking it up.
    return any(token.strip(string.punctuation) in vader.lexicon for token in tokens)


def _raw_valence(compound: float) -> float:
    """The valence sum that VADER normalised into `compound` (its formula, inverted)."""
    bounded = max(-_LARGEST_COMPOUND, min(_LARGEST_COMPOUND, compound))
    return bounded * math.sqrt(_VADER_ALPHA / (1.0 - bounded * bounded))
