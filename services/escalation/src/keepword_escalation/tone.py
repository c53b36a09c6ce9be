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
"""

from __future__ import annotations

import asyncio
import math
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Final, TypeVar

import structlog
from keepword_events.own_words import own_words as shared_own_words
from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
    SentimentIntensityAnalyzer,
)

STRONGLY_NEGATIVE: Final = -0.6
"""A VADER compound score at or below this makes a message a difficult conversation."""

NON_DECISION_MAX_WORDS: Final = 40
"""A reply of this many words or more says more than "handle it": it is never a non-decision."""

NON_DECISION_MAX_CHARACTERS: Final = 2_000
"""Nor is a reply longer than this: 40 words take about 250 characters, a pasted link a few
hundred more; the patterns then read at most this much."""

MAX_READ_CHARACTERS: Final = 20_000
"""The writer's own words read for signals and tone: about ten pages. A customer's mood shows
well before that; a 2,000-character message reads in under 2 ms, this much in about 20."""

MAX_REPEAT: Final = 4
"""Runs of one character are cut to this many: VADER weighs "!!!!" and "????" no more than four,
and 200,000 angry faces say no more than four."""

MAX_EMOJI: Final = 100
"""Emoji VADER sees per message (the rest are dropped): it spells each out ("angry face"), and
100 of them in one sentence take ~7 ms, 1,000 ~400 ms."""

MAX_SENTENCE_CHARACTERS: Final = 400
"""A "sentence" longer than this (no full stop, no line end) is scored in pieces of at most this
size, cut at a space: VADER's cost grows with the square of a sentence's length."""

TONE_BUDGET_SECONDS: Final = 5.0
"""How long a reading may take in its worker thread before the event is handled without it.
The bounds above keep the worst input measured under 0.1 s; the budget is the guard."""

log = structlog.get_logger(__name__)
_T = TypeVar("_T")


@dataclass(frozen=True)
class ToneReading:
    """What a customer's message says about the conversation, and why."""

    difficult: bool  # needs a phone call rather than email
    reasons: tuple[str, ...]  # e.g. ("refund demand", "strongly negative tone (-0.72)")
    sentiment: float  # VADER compound score of the writer's own words, in [-1, 1]


NO_READING: Final = ToneReading(difficult=False, reasons=(), sentiment=0.0)
"""What a message counts as when it could not be read within the budget."""


def read_customer_message(subject: str | None, body: str) -> ToneReading:
    """Whether a customer's message is a difficult conversation, with the reasons found."""
    text = "\n".join(part for part in (_subject_line(subject), own_words(body)) if part)
    text = _REPEATS.sub(_repeat_cut, text[:MAX_READ_CHARACTERS])
    lowered = text.lower()
    reasons = [signal.reason for signal in _CUSTOMER_SIGNALS if signal.found_in(lowered)]
    sentiment = _sentiment(text)
    if sentiment <= STRONGLY_NEGATIVE:
        reasons.append(f"strongly negative tone ({sentiment:.2f})")
    return ToneReading(difficult=bool(reasons), reasons=tuple(reasons), sentiment=sentiment)


def is_non_decision(text: str) -> bool:
    """Whether a manager's reply only delegates ("handle it") without deciding anything."""
    mine = own_words(text)
    if len(mine) > NON_DECISION_MAX_CHARACTERS:
        return False
    if len(_WORD.findall(mine)) >= NON_DECISION_MAX_WORDS:
        return False
    return _DELEGATION.search(mine.lower()) is not None and not _names_an_action(mine)


async def read_customer_message_in_time(
    subject: str | None,
    body: str,
    *,
    thread_id: str,
    event_id: str,
    budget: float = TONE_BUDGET_SECONDS,
) -> ToneReading:
    """`read_customer_message` in a worker thread; NO_READING when it takes over `budget`."""
    reading = await _in_time(budget, lambda: read_customer_message(subject, body))
    if reading is None:
        log.warning(
            "customer message not read within its budget: counted as not difficult",
            thread_id=thread_id,
            event_id=event_id,
            body_chars=len(body),
            budget_seconds=budget,
        )
        return NO_READING
    return reading


async def is_non_decision_in_time(
    text: str, *, thread_id: str, event_id: str, budget: float = TONE_BUDGET_SECONDS
) -> bool:
    """`is_non_decision` in a worker thread; False (a decision) when it takes over `budget`."""
    verdict = await _in_time(budget, lambda: is_non_decision(text))
    if verdict is None:
        log.warning(
            "manager reply not read within its budget: counted as a decision",
            thread_id=thread_id,
            event_id=event_id,
            body_chars=len(text),
            budget_seconds=budget,
        )
        return False
    return verdict


async def _in_time(budget: float, reading: Callable[[], _T]) -> _T | None:
    """The reading's result, or None when it is not done within `budget` seconds.

    The thread keeps running after that (threads cannot be stopped): the input bounds keep it
    short; the event loop and the partition go on meanwhile.
    """
    try:
        async with asyncio.timeout(budget):
            return await asyncio.to_thread(reading)
    except TimeoutError:
        return None


def own_words(text: str) -> str:
    """The writer's own words (keepword_events.own_words: the reading every service shares),
    typographic quotes made plain and lines that are only a closing formula removed."""
    return _CLOSING_LINE.sub("", shared_own_words(text.translate(_PLAIN_QUOTES))).strip()


# --- the writer's own words ---------------------------------------------------------------

_PLAIN_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
# Only the closing line itself goes: what follows may be a name, but may as well be the
# customer's last word ("Thanks\nI still want my money back"). The first run of blanks is
# possessive: two runs either side of an optional comma would share a long run of spaces
# every way, quadratic in its length.
_CLOSING_LINE = re.compile(
    r"""^[ \t]*(?:thanks|thank\s+you|many\s+thanks|thx|cheers|best|all\s+the\s+best
        |(?:best|kind|warm|warmest)\s+regards|regards|sincerely|yours(?:\s+(?:truly|sincerely))?
        )[ \t]*+[,.!]?[ \t]*(?:\n|$)""",
    re.MULTILINE | re.IGNORECASE | re.VERBOSE,
)
_REPEATS = re.compile(rf"(.)\1{{{MAX_REPEAT},}}", re.DOTALL)
_SUBJECT_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|wg|sv|tr)\s*:\s*)+", re.IGNORECASE)
_WORD = re.compile(r"\w+(?:'\w+)?")


def _subject_line(subject: str | None) -> str:
    return _SUBJECT_PREFIX.sub("", (subject or "")[:MAX_READ_CHARACTERS]).strip()


def _repeat_cut(run: re.Match[str]) -> str:
    return run[1] * MAX_REPEAT


# --- customer signals ---------------------------------------------------------------------
# Each phrase is a lowercase pattern with a *cue*: a plain substring that every match contains.
# A pattern is only run when its cue occurs in the message, and matched against lowercased text
# (re.IGNORECASE makes Python's engine several times slower): most messages contain none of the
# cues, and a 2,000-character message must be read in well under 2 ms.

_CLAUSE_END = re.compile(r"[.,;:!?\n]")
# The writer disclaiming the phrase that follows: "I don't want my money back", "this is not a
# complaint", "no complaints". Only the writer's own disclaimers count: "why can't I get my
# money back" and "you won't give me a refund" are still demands.
_DISCLAIMER = re.compile(
    r"""(?: \b(?:don't|do\s+not|didn't|did\s+not|won't|will\s+not)\s+
            (?:want|need|expect|require|mean|ask\s+for)
          | \b(?:not|never)\s+(?:asking|looking|writing|trying)
          | \bno\s+need | \b(?:not|isn't|wasn't|no) )
        (?:\s+(?:a|an|the|really|just|meant|intended|as|to|for|my|our|any|full|of))*\s*$""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Phrase:
    """A way of saying it: `pattern` only matches text that contains `cue`."""

    cue: str
    pattern: re.Pattern[str]

    def matches(self, lowered: str) -> Iterator[re.Match[str]]:
        return self.pattern.finditer(lowered) if self.cue in lowered else iter(())


def _phrase(cue: str, pattern: str) -> _Phrase:
    if cue not in pattern:
        raise ValueError(f"the cue {cue!r} must appear in its pattern {pattern!r}")
    return _Phrase(cue, re.compile(pattern, re.VERBOSE))


def _spaced(words: str) -> str:
    """A multi-word phrase as a pattern (verbose patterns ignore literal spaces)."""
    return words.replace(" ", r"\s+")


def _words(*words: str) -> tuple[_Phrase, ...]:
    return tuple(_phrase(word, rf"\b{word}\b") for word in words)


@dataclass(frozen=True)
class _Signal:
    """One reason a conversation is difficult, and the phrases that show it."""

    reason: str
    phrases: tuple[_Phrase, ...]
    disclaimable: bool  # whether "not a ..." / "I don't want ..." right before cancels it

    def found_in(self, lowered: str) -> bool:
        return any(
            not (self.disclaimable and _disclaimed(lowered, match.start()))
            for phrase in self.phrases
            for match in phrase.matches(lowered)
        )


def _disclaimed(lowered: str, start: int) -> bool:
    """Whether the writer disclaims the phrase at `start`, earlier in the same clause."""
    clause_before = _CLAUSE_END.split(lowered[max(0, start - 80) : start])[-1]
    return _DISCLAIMER.search(clause_before) is not None


_BAD = ("worst", "terrible", "awful", "horrible", "shocking", "shoddy", "pathetic", "abysmal")
_BAD_WHAT = r"\s+(?:customer\s+)?(?:service|support|experience|company|business)\b"

_COMPLAINT = _Signal(
    "complaint",
    (
        _phrase("complain", r"\bcomplain(?:t|ts|ing|ed)?\b"),
        *_words("unacceptable", "ridiculous", "disgrace", "disgraceful", "appalling"),
        *_words("outrageous", "shambles", "scam", "scammed", "fraud", "fraudulent"),
        *_words("liar", "liars"),
        _phrase("joke", r"\b(?:this|it|that)(?:\s+is|'s)\s+(?:a|an\s+absolute)\s+joke\b"),
        _phrase("rip", r"\brip(?:ped)?[\s-]*off\b"),
        *(_phrase(bad, rf"\b{bad}{_BAD_WHAT}") for bad in _BAD),
        _phrase("fed", r"\bfed\s+up\b"),
        _phrase("sick", r"\bsick\s+and\s+tired\b"),
        _phrase("enough", r"\b(?:had|have\s+had)\s+enough(?:\s*[.!]|\s+of\b)"),
        _phrase("lied", r"\blied\s+to\s+(?:me|us)\b"),
        _phrase("lying", r"\blying\s+to\s+(?:me|us)\b"),
    ),
    disclaimable=True,
)

_REFUND_DEMAND = _Signal(
    "refund demand",
    (
        _phrase("money", r"\b(?:my|our|the)\s+money\s+back\b"),
        _phrase("refund", r"\brefund\s+(?:me|us|my|our|the|this|it|in\s+full)\b"),
        _phrase("refund", r"\b(?:a|full|partial|immediate|complete|my|our)\s+refund\b"),
        _phrase("charge", r"\bcharge[\s-]?backs?\b"),
        _phrase("reimburse", r"\breimburse(?:ment)?\b"),
        _phrase("dispute", r"\bdispute\s+(?:the|this|that)\s+(?:charge|payment|transaction)\b"),
        *(
            _phrase(
                verb.split()[0],
                rf"\b{_spaced(verb)}\s+(?:me\s+)?(?:my|our|the)\s+(?:deposit|money|payment|fee)\b",
            )
            for verb in ("return", "give back", "pay back", "repay")
        ),
        _phrase("payment", r"\b(?:cancel|stop)\s+(?:the\s+|my\s+)?payment\b"),
        # The same in the languages customers of a European agency most often fall back on.
        *_words("reembolso", "remboursement", "rembourser", "remboursez"),
        _phrase("ckerstattung", r"\br(?:ü|ue)ckerstattung\b"),
        _phrase("geld", r"\bgeld\s+zur(?:ü|ue)ck\b"),
    ),
    disclaimable=True,
)

_LEGAL_THREAT = _Signal(
    "legal threat",
    (
        *(
            _phrase(who.split()[0], rf"\b(?:my|our|a)\s+{_spaced(who)}s?\b")
            for who in ("lawyer", "attorney", "solicitor", "legal team", "legal counsel")
        ),
        _phrase("legal", r"\blegal\s+(?:action|proceedings|steps|advice|route)\b"),
        *_words("lawsuit", "litigation", "suing", "bbb", "ombudsman"),
        _phrase("sue", r"\bsue\s+(?:you|your|them|the\s+company)\b"),
        _phrase(
            "sue",
            r"""\b(?:will|shall|'ll|gonna|going\s+to|threaten(?:ing|ed)?\s+to|hesitate\s+to
                  |intend\s+to|plan\s+to|prepared\s+to|right\s+to)\s+sue\b""",
        ),
        _phrase("claims", r"\bsmall[\s-]+claims\b"),
        _phrase("standards", r"\btrading\s+standards\b"),
        _phrase("bureau", r"\bbetter\s+business\s+bureau\b"),
        _phrase("general", r"\battorney\s+general\b"),
        _phrase("consumer", r"\bconsumer\s+(?:protection|rights\s+(?:agency|authority))\b"),
        _phrase("report", r"\breport\s+(?:you|your\s+(?:company|business|firm))\b"),
        _phrase(
            "report",
            r"\breport\s+(?:this|it)\s+to\s+(?:the\s+)?(?:authorities|police|regulator|ftc)\b",
        ),
        _phrase("court", r"\b(?:see\s+you\s+in|take\s+you\s+to|taking\s+you\s+to|in|to)\s+court\b"),
        *_words("abogado", "abogados", "avocat", "avocats"),
        _phrase("anw", r"\banw(?:ä|ae)lte?\b"),
    ),
    disclaimable=False,
)

_SARCASM = _Signal(
    "sarcasm",
    (
        _phrase("nothing", r"\bthanks\s+for\s+nothing\b"),
        _phrase("what", r"\bwhat\s+a\s+(?:surprise|shock)\b"),
        _phrase(
            "oh",
            r"""\boh,?\s+(?:great|wonderful|brilliant|fantastic|perfect|lovely|joy|good)\b
                [^.!?\n]{0,40}?\b(?:another|again|still|more|no|nothing|never|late|waiting)\b""",
        ),
    ),
    disclaimable=False,
)

_CUSTOMER_SIGNALS: Final = (_COMPLAINT, _REFUND_DEMAND, _LEGAL_THREAT, _SARCASM)


# --- tone ---------------------------------------------------------------------------------

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


def _sentiment(text: str) -> float:
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


# --- manager replies ----------------------------------------------------------------------

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


def _names_an_action(text: str) -> bool:
    text = _CONTACT_ME.sub(" ", text)
    return _ACTION.search(text.lower()) is not None or _NAMED_PERSON.search(text) is not None
