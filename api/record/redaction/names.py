"""Words in their context, for finding names: a text's words and the tests on their neighbours.

:func:`split_words` cuts a text into :class:`Word` records (folded form, case, possessive,
sentence start); the helpers say whether two words touch, whether a cue addresses a person,
and whether a word can continue a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from api.record.redaction.words import (
    CALENDAR_WORDS,
    INSTITUTION_WORDS,
    ROLE_WORDS,
    SUBJECT_VERBS,
    TITLE_WORDS,
    WORD_PATTERN,
    Lexicon,
    fold,
)

PLACEHOLDER_PATTERN = re.compile(
    r"\[(?:name|phone|email|date of birth|address|NHS number|NI number|bank details|card number)\]"
)
"""A placeholder a redaction already wrote: its words are never names."""


@dataclass(slots=True)
class Word:
    """One word of a text, with what the name rules ask of it."""

    start: int
    end: int  # end of the name part (a possessive "'s" stays outside)
    text: str
    folded: str
    parts: tuple[str, ...]
    possessive: bool
    capitalised: bool
    all_caps: bool
    sentence_start: bool
    protected: bool = False
    cue: str = ""  # "title", "strong", "person" or "soft": the cue right before this word


_SENTENCE_START = re.compile(r"(?:^|[.!?\n\r:;])[ \t\"'“‘(\[\-*•–—>]*")


def split_words(text: str) -> list[Word]:
    """The words of ``text`` in order (a possessive "'s" cut off and noted)."""
    starts = {m.end() for m in _SENTENCE_START.finditer(text)}
    words: list[Word] = []
    for match in WORD_PATTERN.finditer(text):
        raw = match.group(0)
        possessive = False
        end = match.end()
        if len(raw) > 3 and raw[-2] in "'’" and raw[-1] in "sS":
            raw, end, possessive = raw[:-2], end - 2, True
        folded = fold(raw)
        parts: tuple[str, ...] = ()
        if "'" in folded:
            parts = tuple(p for p in folded.split("'") if len(p) >= 2)
        words.append(
            Word(
                match.start(),
                end,
                raw,
                folded,
                parts,
                possessive,
                raw[0].isupper(),
                len(raw) > 1 and raw.isupper(),
                match.start() in starts,
            )
        )
    return words


def adjacent(text: str, left: Word, right: Word, joiners: str = " -") -> bool:
    """Whether ``right`` follows ``left`` on the same line, one or two ``joiners`` apart."""
    gap = text[left.end if not left.possessive else left.end + 2 : right.start]
    return 0 < len(gap) <= 2 and all(ch in joiners for ch in gap) and "\n" not in gap


_ADDRESSING = frozenset(
    {("ask", "for"), ("asked", "for"), ("asking", "for"), ("speak", "to"), ("spoke", "to"),
     ("talk", "to"), ("hi",), ("hello",), ("dear",), ("thanks",)}
)  # fmt: skip


ADDRESS_ENDS = frozenset(cue[-1] for cue in _ADDRESSING)
"""Last words of the cues that address or ask for a person."""


def addressed(words: list[Word], i: int) -> bool:
    """Whether the cue before word ``i`` addresses or asks for a person ("ask for donatas")."""
    one = (words[i - 1].folded,) if i >= 1 else ()
    two = (words[i - 2].folded, words[i - 1].folded) if i >= 2 else ()
    return one in _ADDRESSING or two in _ADDRESSING


def poss(word: Word) -> str:
    """The possessive ending a word had ("'s" or nothing)."""
    return "'s" if word.possessive else ""


def phrase_at(words: list[Word], i: int, phrase: tuple[str, ...]) -> int:
    """How many words the folded ``phrase`` covers when it starts at word ``i`` (0: absent)."""
    if i + len(phrase) > len(words):
        return 0
    for offset, part in enumerate(phrase):
        word = words[i + offset]
        if part not in (word.folded, word.folded + poss(word)):
            return 0
    return len(phrase)


def name_like(word: Word | None, lex: Lexicon) -> bool:
    """A capitalised word that is no ordinary, role, place or calendar word: with another
    such word before it, the two make a full name ("Watika Trivedi")."""
    return (
        word is not None
        and joinable(word)
        and word.folded not in lex.ordinary
        and not (word.parts and any(part in lex.ordinary for part in word.parts))
    )


def joinable(word: Word) -> bool:
    """Whether a word can continue a name (a surname), given the word before is one."""
    return (
        word.capitalised
        and not word.protected
        and not word.all_caps
        and word.folded not in ROLE_WORDS
        and word.folded not in TITLE_WORDS
        and word.folded not in CALENDAR_WORDS
        and word.folded not in INSTITUTION_WORDS
        and word.folded not in SUBJECT_VERBS
        and (len(word.folded) >= 2 or word.text.isupper())
    )
