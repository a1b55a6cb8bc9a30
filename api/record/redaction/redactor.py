"""The :class:`Redactor`: known data, patterns and names found in a text, then replaced.

Names are found word by word: a word of a name the service holds, a word after a title or
cue, a given name, or a capitalised word acting as a sentence's subject; surnames and
initials next to a name join it (see the package docstring for the policy).
"""

from __future__ import annotations

import re
from datetime import date

from api.record.redaction.names import (
    ADDRESS_ENDS,
    PLACEHOLDER_PATTERN,
    Word,
    addressed,
    adjacent,
    joinable,
    name_like,
    phrase_at,
    poss,
    split_words,
)
from api.record.redaction.patterns import compile_known, known_spans, pattern_spans
from api.record.redaction.spans import (
    NOTHING_KNOWN,
    PLACEHOLDER,
    Category,
    KnownPersonalData,
    Redaction,
    Span,
    apply_spans,
    resolve,
)
from api.record.redaction.words import (
    CALENDAR_WORDS,
    CUE_GAP,
    CUE_RANK,
    CUES,
    DETERMINERS,
    FAMILY_AFTER,
    INSTITUTION_WORDS,
    LONGEST_CUE,
    PLACE_BEFORE,
    ROLE_WORDS,
    SUBJECT_VERBS,
    TITLE_WORDS,
    NameIndex,
    empty_index,
    lexicon,
    vocabulary_index,
)


class Redactor:
    """Finds and removes personal data (see the module docstring for the policy).

    ``names`` is the directory of personal names the service holds; without it only the
    names passed per call (``known.names``) and the unknown-name rules apply.
    """

    def __init__(self, names: NameIndex | None = None) -> None:
        self.names = names if names is not None else empty_index()
        self.lexicon = lexicon()

    # --- public ------------------------------------------------------------------------

    def redact(
        self,
        text: str,
        known: KnownPersonalData = NOTHING_KNOWN,
        *,
        today: date | None = None,
        min_age_years: int = 16,
    ) -> Redaction:
        """Remove personal data from ``text``; return the result and counts per category.

        ``known`` names the people the text may mention; their names, phones, e-mails,
        addresses, postcodes and birth dates are removed wherever they appear, in any case or
        common format. With ``today``, any full date at least ``min_age_years`` years old is
        taken to be a birth date too (adults' birth dates rarely carry a cue in casework
        notes).
        """
        spans = self.spans(text, known, today=today, min_age_years=min_age_years)
        return apply_spans(text, spans)

    def spans(
        self,
        text: str,
        known: KnownPersonalData = NOTHING_KNOWN,
        *,
        today: date | None = None,
        min_age_years: int = 16,
    ) -> list[Span]:
        """Every finding in ``text``, in order, none overlapping."""
        compiled = compile_known(known)
        found: list[Span] = []
        found += known_spans(text, compiled)
        found += pattern_spans(text, compiled, today, min_age_years)
        found += self._name_spans(text, compiled.names, only_known=False)
        return resolve(text, found)

    def mentions(self, text: str, known: KnownPersonalData) -> bool:
        """Whether ``text`` holds any of the ``known`` data (not merely pattern-like data)."""
        return bool(self.known_spans(text, known))

    def known_spans(self, text: str, known: KnownPersonalData) -> list[Span]:
        """Findings of the ``known`` data only (its names, phones, addresses, ...)."""
        compiled = compile_known(known)
        found = known_spans(text, compiled)
        if compiled.names is not None:
            found += Redactor(compiled.names)._name_spans(text, None, only_known=True)
        return resolve(text, found)

    def redact_known(self, text: str, known: KnownPersonalData) -> Redaction:
        """Remove only the ``known`` data (someone else's record that mentions a household)."""
        return apply_spans(text, self.known_spans(text, known))

    # --- names -------------------------------------------------------------------------

    def _name_spans(self, text: str, extra: NameIndex | None, *, only_known: bool) -> list[Span]:
        words = split_words(text)
        if not words:
            return []
        given = self.lexicon.given
        ordinary = self.lexicon.ordinary
        held = [self._held(w, extra) for w in words]
        candidates = [
            i
            for i, w in enumerate(words)
            if held[i]
            or w.capitalised
            or (w.folded in given and w.folded not in ordinary)
            or (i > 0 and words[i - 1].folded in ADDRESS_ENDS and w.folded not in ordinary)
        ]
        if not candidates:
            return []
        self._mark_protected(text, words)
        self._mark_cues(text, words, candidates)
        flags = [False] * len(words)
        for i in candidates:
            word = words[i]
            if word.protected or word.folded in ROLE_WORDS or word.folded in TITLE_WORDS:
                continue
            if len(word.folded) < 2:
                flags[i] = word.cue in ("title", "strong") and word.text.isupper()  # "Dr J. Smith"
                continue
            flags[i] = self._is_name(text, words, i, held[i], only_known)
        if any(flags):
            self._extend(text, words, flags, held, only_known)
        return [
            Span(w.start, w.end, Category.NAME, PLACEHOLDER[Category.NAME])
            for w, flag in zip(words, flags, strict=True)
            if flag
        ]

    def _held(self, word: Word, extra: NameIndex | None) -> str:
        """ "distinctive", "common" or "" for a word of a held name."""
        folded = word.folded
        plural = folded[:-1] if folded.endswith("s") and len(folded) > 3 else ""  # "the Okafors"
        for index in (self.names, extra):
            if index is None:
                continue
            distinctive, common = index.distinctive, index.common
            if folded in distinctive or (plural and plural in distinctive):
                return "distinctive"
            if word.parts and any(part in distinctive for part in word.parts):
                return "distinctive"
            if folded in common or (word.parts and any(part in common for part in word.parts)):
                return "common"
            if plural and plural in common and word.capitalised:
                return "common"  # "the Hills"
        return ""

    def _mark_protected(self, text: str, words: list[Word]) -> None:
        for index in (self.names, vocabulary_index()):
            i = 0
            while i < len(words):
                first = words[i]
                if not first.capitalised:
                    i += 1
                    continue
                phrases = [
                    *index.phrases_starting(first.folded + poss(first)),
                    *index.phrases_starting(first.folded),
                ]
                length = next((n for p in phrases if (n := phrase_at(words, i, p))), 0)
                for j in range(i, i + length):
                    words[j].protected = True
                i += max(length, 1)
        if "[" in text:
            for match in PLACEHOLDER_PATTERN.finditer(text):
                for word in words:
                    if match.start() <= word.start < match.end():
                        word.protected = True

    def _mark_cues(self, text: str, words: list[Word], candidates: list[int]) -> None:
        for i in candidates:
            best = ""
            for length in range(1, min(LONGEST_CUE, i) + 1):
                cue = tuple(words[j].folded for j in range(i - length, i))
                kind = CUES.get(cue)
                if length == 1 and cue == ("name",) and words[i - 1].possessive:
                    kind = "strong"  # "her name's Ana"
                if kind is None or CUE_RANK[kind] <= CUE_RANK.get(best, 0):
                    continue
                inner_ok = all(
                    text[words[j].end : words[j + 1].start] in (" ", "-")
                    for j in range(i - length, i - 1)
                )
                last = words[i - 1]
                gap = text[last.end + (2 if last.possessive else 0) : words[i].start]
                if inner_ok and CUE_GAP[kind].fullmatch(gap):
                    best = kind
            words[i].cue = best

    def _is_name(self, text: str, words: list[Word], i: int, held: str, only_known: bool) -> bool:
        word = words[i]
        lex = self.lexicon
        nxt = words[i + 1] if i + 1 < len(words) else None
        prev = words[i - 1] if i > 0 else None
        next_adjacent = nxt is not None and adjacent(text, word, nxt, " ")
        verb_next = next_adjacent and nxt is not None and nxt.folded in SUBJECT_VERBS
        institution_next = (
            next_adjacent and nxt is not None and nxt.capitalised
            and nxt.folded in INSTITUTION_WORDS
        )  # fmt: skip
        place_before = (
            prev is not None and prev.folded in PLACE_BEFORE and adjacent(text, prev, word, " .")
        )
        vocative = word.sentence_start and text[word.end : word.end + 1] == ","
        ordinary = word.folded in lex.ordinary
        calendar = word.folded in CALENDAR_WORDS
        if word.all_caps and held != "distinctive":
            return False  # acronyms: "FOI", "NHS", "ASAP"
        if held == "distinctive":
            return True
        if held == "common":
            if word.capitalised and (word.cue or word.possessive):
                return True
            if word.cue in ("title", "strong") or addressed(words, i):
                return True
            if institution_next or place_before:
                return False
            if calendar:
                return verb_next or _held_next(self, text, words, i)
            if word.capitalised and not word.sentence_start:
                return True
            if word.capitalised:
                return verb_next or vocative or _held_next(self, text, words, i)
            determiner = prev is not None and prev.folded in DETERMINERS
            family = next_adjacent and nxt is not None and nxt.folded in FAMILY_AFTER
            speaker = text[word.end : word.end + 1] == ":" and (word.cue or word.sentence_start)
            return (verb_next or family or speaker) and not determiner
        if only_known:
            return False
        if calendar:  # "Mrs May", "baby Jan", never "in May"
            digit_next = re.match(r"\s*\d", text[word.end : word.end + 4]) is not None
            return word.cue in ("title", "strong", "person") and not digit_next
        given = word.folded in lex.given
        if word.cue in ("title", "strong"):
            return word.capitalised or given
        if institution_next or place_before:
            return False
        if word.cue in ("person", "soft"):
            if word.capitalised and (not ordinary or given):
                return True
            if word.cue == "person" and not word.capitalised and not ordinary:
                return given or addressed(words, i)
        if given and word.capitalised:
            if not ordinary or not word.sentence_start:
                return True
            return verb_next or vocative or word.possessive
        if word.capitalised and not ordinary:
            family = next_adjacent and nxt is not None and nxt.folded in FAMILY_AFTER
            return verb_next or family or (next_adjacent and name_like(nxt, lex))
        return False

    def _extend(
        self, text: str, words: list[Word], flags: list[bool], held: list[str], only_known: bool
    ) -> None:
        """Surnames and initials next to a name; a second name after "and"."""
        if only_known:
            return
        lex = self.lexicon
        for _round in range(2):
            for i in range(len(words) - 1):
                left, right = words[i], words[i + 1]
                joiners = " -." if len(left.text) == 1 else " -"
                joins = joinable(right) and adjacent(text, left, right, joiners)
                if flags[i] and not flags[i + 1] and joins:
                    flags[i + 1] = True
                if (
                    flags[i + 1]
                    and not flags[i]
                    and joinable(left)
                    and adjacent(text, left, right, " .-")
                    and (
                        len(left.text) == 1
                        or left.folded in lex.given
                        or left.folded not in lex.ordinary
                    )
                ):
                    flags[i] = True
            for i in range(len(words) - 2):
                if flags[i] and words[i + 1].folded in ("and", "&") and not flags[i + 2]:
                    right = words[i + 2]
                    if joinable(right) and right.folded not in lex.ordinary:
                        flags[i + 2] = True


def _held_next(redactor: Redactor, text: str, words: list[Word], i: int) -> bool:
    if i + 1 >= len(words) or not adjacent(text, words[i], words[i + 1]):
        return False
    right = words[i + 1]
    return (
        right.capitalised
        and not right.protected
        and (right.folded not in redactor.lexicon.ordinary or bool(redactor._held(right, None)))
    )


# --- the function ------------------------------------------------------------------------


def redact(
    text: str,
    known: KnownPersonalData = NOTHING_KNOWN,
    *,
    names: NameIndex | None = None,
    today: date | None = None,
    min_age_years: int = 16,
) -> Redaction:
    """Remove personal data from ``text`` (see :class:`Redactor`); ``names`` is the directory
    of personal names the service holds, when the caller has it."""
    return Redactor(names).redact(text, known, today=today, min_age_years=min_age_years)
