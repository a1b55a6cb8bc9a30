"""The one redaction component through which record text leaves for FOI search and export.

:class:`Redactor` finds personal data in free text and replaces it with a placeholder
("[name]", "[NHS number]", ...); a full postcode is cut back to its district. It returns the
redacted text and counts per category, never the removed values, so the counts can go into a
redaction log. The policy (docs/foi.md, "What is redacted") in short:

- Structured identifiers wherever they appear: NHS numbers (mod-11 check, or any ten digits
  after "NHS"), National Insurance numbers (HMRC's prefix rules), card numbers (Luhn check),
  IBANs (mod-97 check), sort codes and account numbers, UK and international phone numbers,
  e-mail addresses, full postcodes, street addresses, and dates of birth (a cue such as
  "DOB", a known birth date, or any full date 16 or more years old when ``today`` is given).
  The checksums come from python-stdnum; the patterns follow Microsoft Presidio's UK
  recognisers (see docs/foi.md for why Presidio itself is not a dependency).
- Every personal name the service holds (a :class:`NameIndex`: households and staff) in any
  case, and names the service does not know: after a title or cue ("Mrs", "ask for", "her
  son", "Thanks,"), given names from a gazetteer (``data/given-names.txt``), a capitalised
  word acting as the subject of a sentence ("Muzhir called"), and surnames next to any name.
  A name that is also an ordinary English word ("Grace", "Green") is removed when written
  as a name (capitalised inside a sentence, or at its start before a verb such as "called"),
  not as a word ("green beans").
- Role and product words are never names ("FOI", "Charity", "Council", "caseworker",
  "household"), nor are the words of the service's organisation and site names where those
  names are written ("St Aidan's Food Share"), nor identifiers ("charity_organisation_id").

It is pure (no clock, no I/O beyond loading the two shipped word lists once): callers pass
``today`` when old dates should be treated as birth dates.

The modules: ``spans`` (categories, findings, merging), ``words`` (word lists, the name
directory), ``patterns`` (structured data and the data known per call), ``names`` (words in
context) and ``redactor`` (the :class:`Redactor` and :func:`redact`).
"""

from api.record.redaction.patterns import outward_code
from api.record.redaction.redactor import Redactor, redact
from api.record.redaction.spans import (
    NOTHING_KNOWN,
    PLACEHOLDER,
    Category,
    KnownPersonalData,
    Redaction,
    Span,
)
from api.record.redaction.words import (
    CALENDAR_WORDS,
    DETERMINERS,
    FAMILY_AFTER,
    INSTITUTION_WORDS,
    NOT_GIVEN_NAMES,
    PERSON_CUES,
    PLACE_BEFORE,
    ROLE_WORDS,
    SOFT_CUES,
    STRONG_CUES,
    SUBJECT_VERBS,
    TITLES,
    VOCABULARY_PHRASES,
    Lexicon,
    NameIndex,
    distinctive_tokens,
    fold,
    lexicon,
    name_tokens,
)

__all__ = [
    "CALENDAR_WORDS",
    "DETERMINERS",
    "FAMILY_AFTER",
    "INSTITUTION_WORDS",
    "NOTHING_KNOWN",
    "NOT_GIVEN_NAMES",
    "PERSON_CUES",
    "PLACEHOLDER",
    "PLACE_BEFORE",
    "ROLE_WORDS",
    "SOFT_CUES",
    "STRONG_CUES",
    "SUBJECT_VERBS",
    "TITLES",
    "VOCABULARY_PHRASES",
    "Category",
    "KnownPersonalData",
    "Lexicon",
    "NameIndex",
    "Redaction",
    "Redactor",
    "Span",
    "distinctive_tokens",
    "fold",
    "lexicon",
    "name_tokens",
    "outward_code",
    "redact",
]
