"""What the writer of a message wrote: the one reading every service applies to a body.

A reply carries the thread's history below (or between) the new words, and a signature. Intake,
escalation and commitments all read only the writer's own words, so they must agree on where
those end; this module is that agreement. Pure functions, no I/O, linear in the text: lines are
classified one by one, looking at most a few lines ahead, with no backtracking pattern.

What is not the writer's own:

- quoted lines (starting with ">"); answers written between them are the writer's own;
- a reply header ("On <date>, <name> wrote:", in English, French, German, Spanish, Italian,
  Portuguese, Dutch, Polish, Swedish, Danish, Norwegian, Russian and Vietnamese, possibly
  wrapped over up to three lines by the client, or framed in dashes as Android writes it:
  "---- Dana wrote ----") and the quote below it. Below own words (top-posting) it ends the new
  text; at the top (bottom-posting) the words under the quoted history are new. With no quoted
  line below it (HTML mail, Outlook) it ends the new text, and must then show what a client
  writes: on one line a time, an address or a day ("On Mon, Dana wrote:"), wrapped a time or
  an address; so "On reflection, here is what I wrote:" stays the writer's;
- an earlier message, to the end: "-----Original Message-----" (and kin, in ten languages),
  Outlook's "From: / Sent: / To:" block (also starting with its Date, or all on one line as
  HTML mail flattens it; in eleven languages), or Outlook's "______" rule above a "From:" line;
- a signature, to the end: a "--" line, or a short line such as "Sent from my iPhone", "Sent
  from Samsung Mobile" or "Get Outlook for iOS" (at most six words and no comma, or a line
  naming the device: "Sent from my Verizon, Samsung Galaxy smartphone"; "Sent from my desk
  yesterday, the form still fails." is the writer's).

A forwarded message ("---------- Forwarded message ---------") is kept whole: the writer
forwards it to be read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["own_words", "own_words_in_place"]

_MAX_REPLY_HEADER = 400  # "On <date>, <name> <address> wrote:" is never longer
_MAX_SIGNATURE_WORDS = 6  # "Sent from my Samsung Galaxy smartphone." and kin are short
_MAX_DEVICE_SIGNATURE_WORDS = 10  # "Sent from my Verizon, Samsung Galaxy S22 5G smartphone"
_MAX_HEADER_LINES = 3  # clients wrap "On <date>, <name> <address> wrote:" at 72-78 columns

# (how the line starts, how it ends, a word it must contain) of "On <date>, <name> wrote:" in
# the languages our customers write in; all lowercased, whitespace collapsed.
_REPLY_HEADERS = (
    ("on ", " wrote:", ""),
    ("le ", " a écrit :", ""),
    ("le ", " a écrit:", ""),
    ("am ", ":", " schrieb "),
    ("el ", " escribió:", ""),
    ("il ", " ha scritto:", ""),
    ("em ", " escreveu:", ""),
    ("op ", ":", " schreef "),
    ("op ", " geschreven:", ""),
    ("w dniu ", ":", " napisał"),
    ("den ", " skrev:", ""),
    ("på ", " skrev:", ""),
    ("vào ", " đã viết:", ""),
    ("on ", " sent:", ""),
    # Led by the date, as Gmail writes it in some locales: "2014-10-17 11:28 GMT+03:00 Dana
    # <d@x.org>:", "02.04.2012 14:20 пользователь "Dana" <d@x.org> написал:".
    ("", ">:", "@"),
    ("", " написал:", ""),
    ("", " написала:", ""),
)
_REPLY_HEADER_STARTS = frozenset(start[:2] for start, _, _ in _REPLY_HEADERS if start)
_REPLY_HEADER_ENDS = tuple({end.rstrip(" :") for _, end, _ in _REPLY_HEADERS if end[:1] == " "})
# What a client's header shows and a sentence rarely does: a clock time, an address, or a day
# right after "On" ("On Mon, Dana wrote:", "On 3 Nov 2026, ...").
_REPLY_HEADER_DETAIL = re.compile(
    r"\d:\d\d|@|^\w\w \d|^on (?:mon|tue|wed|thu|fri|sat|sun|jan|feb|mar|apr|may|jun|jul|aug"
    r"|sep|oct|nov|dec)"
)
# A time and an address are what a wrapped header shows and wrapped prose rarely does.
_WRAPPED_HEADER_DETAIL = re.compile(r"\d:\d\d|@")
_ORIGINAL_MESSAGE = re.compile(
    r"-{2,} ?(?:original message|reply message|message d'origine|ursprüngliche nachricht"
    r"|antwort nachricht|mensaje original|messaggio originale|mensagem original"
    r"|oorspronkelijk bericht|oprindelig meddelelse|opprinnelig melding|ursprungligt meddelande"
    r"|originalmeddelande|wiadomość oryginalna|исходное сообщение) ?-{2,}",
    re.IGNORECASE,
)
_FORWARDED = re.compile(
    r"(?:-{2,} ?(?:forwarded message|message transféré|weitergeleitete nachricht) ?-{2,}"
    r"|begin forwarded message:)",
    re.IGNORECASE,
)
_SIGNATURE_LINE = re.compile(
    r"(?:sent from my|get outlook for|sent (?:from|with|via) (?:the )?(?:iphone|ipad|android"
    r"|samsung|galaxy|blackberry|huawei|mobile|yahoo|outlook|aol|mail for|proton|sparrow"
    r"|airmail|spark|fastmail|windows mail))\b",
    re.IGNORECASE,
)
_DEVICE = re.compile(r"(?:phone|device|tablet|mobile)\W*$", re.IGNORECASE)
# Outlook's block "From: / Sent: / To: / Subject:", in English, French, German, Spanish,
# Italian, Portuguese, Dutch, Swedish, Danish, Norwegian, Polish and Russian.
_FROM_LABELS = frozenset({"from", "de", "von", "da", "van", "från", "fra", "od", "от"})
_SENT_LABELS = frozenset(
    {"sent", "date", "envoyé", "gesendet", "datum", "enviado", "fecha", "inviato", "data"}
    | {"verzonden", "skickat", "sendt", "wysłano", "отправлено", "дата"}
)
_TO_LABELS = frozenset(
    {"to", "subject", "cc", "à", "objet", "an", "betreff", "para", "asunto", "a", "oggetto"}
    | {"assunto", "aan", "onderwerp", "till", "ämne", "til", "emne", "do", "temat", "кому"}
    | {"тема"}
)
_INLINE_SENT = re.compile(r"\b(?:" + "|".join(sorted(_SENT_LABELS)) + r") ?:", re.IGNORECASE)
_CLOCK = re.compile(r"\d:\d\d")


def own_words(text: str) -> str:
    """The writer's own words of a message, tidied: "" when nothing of their own is left.

    Paragraphs are kept one blank line apart.
    """
    lines = text.split("\n")
    return _tidy([line for line, own in zip(lines, _own_lines(lines), strict=True) if own])


def own_words_in_place(text: str) -> str:
    """The text with every character that is not the writer's own replaced by a space.

    Line breaks and offsets are those of `text`, for readers that point back into it.
    """
    lines = text.split("\n")
    return "\n".join(
        line if own else " " * len(line) for line, own in zip(lines, _own_lines(lines), strict=True)
    )


def _own_lines(lines: Sequence[str]) -> list[bool]:
    """For each line, whether it is the writer's own."""
    own = [False] * len(lines)
    skip_to = 0
    wrote = False  # whether a line of the writer's own came before
    for index, line in enumerate(lines):
        if index < skip_to or _is_quoted(line):
            continue
        if not line.strip():
            own[index] = True
            continue
        if _FORWARDED.fullmatch(line.strip()):
            own[index:] = [True] * (len(lines) - index)
            break
        if _ends_new_text(lines, index):
            break
        header = _reply_header_lines(lines, index)
        if header:
            after = _next_non_blank(lines, index + header)
            if wrote or after is None or not _is_quoted(lines[after]):
                # Below new words, or with the history unquoted (HTML mail, Outlook): what
                # follows is the thread's history.
                break
            # Quoted history at the top, with the new text perhaps below it (bottom-posting).
            skip_to = index + header
            continue
        own[index] = True
        wrote = True
    # A rule ("_____") that Outlook draws above the history is not the writer's either.
    last = len(own) - 1
    while last >= 0 and (not own[last] or not lines[last].strip() or _is_rule(lines[last])):
        own[last] = False
        last -= 1
    return own


def _is_quoted(line: str) -> bool:
    return line.lstrip(" \t").startswith(">")


def _ends_new_text(lines: Sequence[str], index: int) -> bool:
    """A signature or the start of an earlier message, which runs to the end."""
    line = lines[index].strip()
    if line == "--" or (len(line) <= 100 and _ORIGINAL_MESSAGE.fullmatch(line)):
        return True
    if _SIGNATURE_LINE.match(line):
        return _is_signature(line)
    if _is_rule(line) and line.startswith("_____"):
        # Outlook's rule above the earlier message's "From:", however few fields follow.
        after = _next_non_blank(lines, index + 1)
        return after is not None and _field_label(lines[after].strip()) in _FROM_LABELS
    label = _field_label(line)
    if label in _FROM_LABELS and _inline_block(line[:_MAX_REPLY_HEADER]):
        return True  # the block on one line, as an HTML mail's <div> flattens it
    if label not in _FROM_LABELS and not (label in _SENT_LABELS and _CLOCK.search(line)):
        return False
    following = {_field_label(other.strip()) for other in lines[index + 1 : index + 6]}
    if label in _SENT_LABELS:  # the block led by its date: "Date: ... 10:55", "To:", "From:"
        return bool(following & (_FROM_LABELS | _TO_LABELS))
    return bool(following & _SENT_LABELS) and bool(following & _TO_LABELS)


def _inline_block(line: str) -> bool:
    """ "From: Dana <d@x.org> Date: Thu, 24 Mar 2016 08:07:12": a sent label, then a time."""
    label = _INLINE_SENT.search(line)
    return label is not None and _CLOCK.search(line, label.end()) is not None


def _is_signature(line: str) -> bool:
    """A short line such as "Sent from my iPhone", not a sentence that starts the same way."""
    if "," not in line:
        return len(line.split(maxsplit=_MAX_SIGNATURE_WORDS)) <= _MAX_SIGNATURE_WORDS
    words = len(line.split(maxsplit=_MAX_DEVICE_SIGNATURE_WORDS))
    return words <= _MAX_DEVICE_SIGNATURE_WORDS and bool(_DEVICE.search(line))


def _field_label(line: str) -> str | None:
    colon = line.find(":", 0, 20)
    return line[:colon].strip(" \t\xa0*").lower() if colon > 0 else None


def _reply_header_lines(lines: Sequence[str], index: int) -> int:
    """How many lines a reply header here takes: 0 for none, up to 3 when the client wrapped
    it."""
    line = lines[index].strip()
    if len(line) > _MAX_REPLY_HEADER:
        return 0
    if _is_framed_header(line):
        return 1
    if line[:2].lower() not in _REPLY_HEADER_STARTS and not line[:1].isdigit():
        return 0
    text = line
    for count in range(1, _MAX_HEADER_LINES + 1):
        if count > 1:
            if index + count > len(lines):
                break
            wrapped = lines[index + count - 1]
            if _is_quoted(wrapped) or not wrapped.strip():
                break
            text = f"{text} {wrapped.strip()}"
        if len(text) > _MAX_REPLY_HEADER:
            break
        if not text.endswith(":") or not _has_reply_header_shape(text):
            continue
        after = _next_non_blank(lines, index + count)
        # Quoted lines below make any "On ... wrote:" a header. With none, everything after it
        # is cut, so it must show what a client writes: "On 3 Nov I ordered a lamp; / your
        # colleague wrote:" is not one.
        flat = " ".join(text.split()).lower()
        detail = _REPLY_HEADER_DETAIL if count == 1 else _WRAPPED_HEADER_DETAIL
        if (after is not None and _is_quoted(lines[after])) or detail.search(flat):
            return count
    return 0


def _has_reply_header_shape(line: str) -> bool:
    text = " ".join(line.split()).lower()
    return any(
        text.startswith(start)
        and (start or text[:1].isdigit())
        and text.endswith(end)
        and word in text
        for start, end, word in _REPLY_HEADERS
    )


def _is_framed_header(line: str) -> bool:
    """A header framed in dashes: "---- Dana wrote ----", "-----On 3 Nov, Dana wrote-----"."""
    if not (line.startswith("--") and line.endswith("--")):
        return False
    core = " ".join(line.strip("- ").split()).lower()
    return core.endswith(_REPLY_HEADER_ENDS)


def _next_non_blank(lines: Sequence[str], index: int) -> int | None:
    return next((i for i in range(index, len(lines)) if lines[i].strip()), None)


def _tidy(lines: list[str]) -> str:
    """Lines joined with single blank lines between paragraphs."""
    tidy: list[str] = []
    for line in lines:
        line = line.rstrip()
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy).strip()


def _is_rule(line: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= 5 and set(stripped) <= {"_", "-", "="}
