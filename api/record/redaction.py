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
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from stdnum import iban as stdnum_iban
from stdnum import luhn as stdnum_luhn
from stdnum.gb import nhs as stdnum_nhs


class Category(StrEnum):
    """Kinds of personal data the redaction log counts."""

    NAME = "name"
    PHONE = "phone"
    EMAIL = "email"
    DATE_OF_BIRTH = "date_of_birth"
    POSTCODE = "postcode"
    ADDRESS = "address"
    NHS_NUMBER = "nhs_number"
    NI_NUMBER = "ni_number"
    BANK_DETAILS = "bank_details"
    CARD_NUMBER = "card_number"


PLACEHOLDER: Mapping[Category, str] = {
    Category.NAME: "[name]",
    Category.PHONE: "[phone]",
    Category.EMAIL: "[email]",
    Category.DATE_OF_BIRTH: "[date of birth]",
    Category.ADDRESS: "[address]",
    Category.NHS_NUMBER: "[NHS number]",
    Category.NI_NUMBER: "[NI number]",
    Category.BANK_DETAILS: "[bank details]",
    Category.CARD_NUMBER: "[card number]",
}

# When two findings overlap, the one of higher priority wins (an e-mail address holding a
# name is an e-mail address; a known address holding a postcode is an address).
_PRIORITY: Mapping[Category, int] = {
    Category.EMAIL: 10,
    Category.BANK_DETAILS: 9,
    Category.CARD_NUMBER: 9,
    Category.NHS_NUMBER: 8,
    Category.NI_NUMBER: 8,
    Category.PHONE: 6,
    Category.DATE_OF_BIRTH: 5,
    Category.ADDRESS: 4,
    Category.POSTCODE: 3,
    Category.NAME: 2,
}


@dataclass(frozen=True)
class KnownPersonalData:
    """Personal data known for the people a text may mention (e.g. a referral's household)."""

    names: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    postcodes: tuple[str, ...] = ()
    birth_dates: tuple[date, ...] = ()

    def merged(self, other: KnownPersonalData) -> KnownPersonalData:
        """Both sets of known data together."""
        return KnownPersonalData(
            names=self.names + other.names,
            phones=self.phones + other.phones,
            emails=self.emails + other.emails,
            addresses=self.addresses + other.addresses,
            postcodes=self.postcodes + other.postcodes,
            birth_dates=self.birth_dates + other.birth_dates,
        )

    @property
    def empty(self) -> bool:
        """True when nothing is known."""
        return not (
            self.names
            or self.phones
            or self.emails
            or self.addresses
            or self.postcodes
            or self.birth_dates
        )


NOTHING_KNOWN = KnownPersonalData()


@dataclass(frozen=True)
class Span:
    """One finding: ``text[start:end]`` is personal data of ``category``."""

    start: int
    end: int
    category: Category
    replacement: str


@dataclass(frozen=True)
class Redaction:
    """Redacted text and how many items of each category were removed from it."""

    text: str
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Number of items removed."""
        return sum(self.counts.values())


# --- word lists -----------------------------------------------------------------------------


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


ROLE_WORDS = _word_set(
    """
    foi foia council councils charity charities caseworker caseworkers case worker workers
    planner planners admin admins administrator administrators officer officers staff team
    teams manager managers volunteer volunteers coordinator coordinators household households
    referral referrals referrer offer offers parcel parcels delivery deliveries food foods
    bank banks foodbank foodbanks pantry pantries larder larders hub hubs site sites depot
    demo test tests user users system service services support info enquiries hello office
    reception admin team org organisation organisations organization foodmatch nhs gp gps dwp
    hmrc uc pip esa jsa ni id dob asap fyi btw pls plz ok okay re fw fwd cc bcc ref tel mob
    email mail yes no thanks thx regards cheers best wishes kind many hi dear hey
    leeds bradford wakefield kirklees calderdale huddersfield halifax harrogate york sheffield
    manchester london birmingham liverpool newcastle hull otley pudsey morley headingley
    harehills chapeltown armley beeston holbeck hunslet seacroft gipton burmantofts roundhay
    moortown allerton kirkstall bramley horsforth garforth rothwell wetherby yeadon guiseley
    middleton crossgates killingbeck halton meanwood woodhouse burley kirkgate osmondthorpe
    swarcliffe whinmoor alwoodley adel cookridge rawdon calverley farsley stanningley wortley
    farnley churwell tingley drighlington gildersome ardsley oulton woodlesford methley kippax
    bywater scarcroft shadwell thorner barwick batley dewsbury keighley shipley bingley ilkley
    castleford pontefract normanton ossett yorkshire lancashire england scotland wales
    ireland britain uk gb europe tesco asda aldi lidl sainsbury sainsburys morrisons waitrose
    iceland greggs boots amazon google microsoft whatsapp zoom teams outlook gmail hotmail
    trussell fareshare jobcentre citizens advice barnardo barnardos oxfam
    halal kosher vegan veg veggie gluten rota rotas landline carer carers km pm am acc unmatched
    nappies toiletries wifi iban postcode postcodes sortcode ebt bacs chaps
    """
)
"""Role, product, place and brand words: never names, even when a display name holds them."""

CALENDAR_WORDS = _word_set(
    """
    monday tuesday wednesday thursday friday saturday sunday mon tue tues wed weds thu thur
    thurs fri sat sun january february march april may june july august september october
    november december jan feb mar apr jun jul aug sep sept oct nov dec christmas easter eid
    ramadan diwali hanukkah vaisakhi xmas
    """
)
"""Days, months and festivals: names only with a strong signal ("Mrs May", "April called")."""

NOT_GIVEN_NAMES = _word_set(
    """
    unknown infant baby junior major minor royal king queen prince princess duke baron bishop
    marshal deacon general judge ward lane page case trace chance genesis journey liberty
    justice charity miracle precious unique sincere essence legend treasure marvel diamond
    star sky forest river meadow winter summer autumn spring haven heaven van ford cannon
    porter walker foster garland gay cash buck bud ace alpha ally merry cherish noble era ever
    dock art gentry hardy madden maxim brook brooks chase drew miles grant roman earnest
    sterling trinity abbey christen jarred garret sunny sunshine stormy storm rocky buddy
    rusty dusty curt colt talon blaze candy cherry mercy chastity pierce lucky reign creed
    early rich price love young long true little link channel park west job said
    """
)
"""Gazetteer entries that are far more often ordinary words in council text than names."""

TITLES = ("Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Master", "Prof", "Sir", "Dame", "Lady",
          "Lord", "Rev", "Revd", "Cllr")  # fmt: skip

_TITLE_WORDS = frozenset(title.casefold() for title in TITLES)

_PEOPLE = _word_set("man woman lady gentleman girl boy person client resident child baby")
STRONG_CUES = (
    "name is", "names are", "named", "known as", "goes by", "calls herself", "calls himself",
    "signed by", *(f"a {person} called" for person in sorted(_PEOPLE)),
)  # fmt: skip
PERSON_CUES = (
    "spoke to", "spoke with", "speak to", "speak with", "speaking to", "speaking with",
    "talk to", "talked to", "talk with", "ask for", "asked for", "asking for", "ask after",
    "asked after", "dear", "hi", "hello", "hey", "thanks", "thank you", "cheers", "regards",
    "wishes", "client", "resident", "tenant", "applicant", "customer", "son", "sons",
    "daughter", "daughters", "husband", "wife", "partner", "mum", "mother", "dad", "father",
    "brother", "sister", "grandson", "granddaughter", "grandma", "grandmother", "grandad",
    "grandfather", "gran", "nan", "nana", "child", "baby", "carer", "neighbour", "friend",
    "uncle", "aunt", "auntie", "niece", "nephew", "cousin", "boyfriend", "girlfriend", "fiance",
    "fiancee", "lodger", "landlord", "landlady", "keyworker", "key worker", "support worker",
    "social worker", "colleague", "driver", "volunteer", "caseworker", "officer", "manager",
    "coordinator", "worker", "nurse", "doctor", "midwife", "teacher", "councillor", "driver is",
    "contact is", "carer is", "volunteer is", "worker is",
)  # fmt: skip
SOFT_CUES = (
    "ask", "tell", "told", "contact", "contacted", "ring", "rang", "phone", "phoned", "text",
    "texted", "email", "emailed", "e mail", "from", "cc", "referred by", "collected by",
    "delivered to", "delivered by", "deliver to", "visit", "visited", "meet", "met", "with",
    "for", "and", "morning", "afternoon", "know", "knows", "knew", "add", "call", "invite",
    "thank", "attendees", "apologies", "present",
)  # fmt: skip
"""Words after which a name often follows. After a strong cue or a title any capitalised word
is taken for a name; after a person cue or a soft cue only a name-like one (not an ordinary
word, or a given name, or a name the service holds). After a person cue a lower-case given
name or held name counts too ("ask for sam")."""

_CUE_RANK = {"soft": 1, "person": 2, "strong": 3, "title": 4}
_CUES: dict[tuple[str, ...], str] = {
    **{tuple(cue.split()): "soft" for cue in SOFT_CUES},
    **{tuple(cue.split()): "person" for cue in PERSON_CUES},
    **{tuple(cue.split()): "strong" for cue in STRONG_CUES},
    **{(title.casefold(),): "title" for title in TITLES},
}
_LONGEST_CUE = max(len(cue) for cue in _CUES)
_CUE_GAP = {
    "title": re.compile(r"\.?[ ]+"),
    "strong": re.compile(r"[ \t]*[:,]?[ \t]+|[ \t]*[:,][ \t]*"),
    "person": re.compile(r"[ \t]*[:,]?[ \t]*\n?[ \t]*\(?"),
    "soft": re.compile(r"[ \t]*[:,]?[ \t]*\(?"),
}

SUBJECT_VERBS = _word_set(
    """
    called calls rang rings phoned phones texted texts emailed messaged said says asked asks
    came comes collected collects picked dropped arrived left missed confirmed cancelled
    canceled mentioned told explained agreed declined refused needs needed wants wanted
    prefers preferred lives lived works worked has had is was will would can could cannot
    can't won't didn't doesn't isn't wasn't hasn't hadn't should might must got gets went
    goes stays stayed moved applied received visited popped signed brought took gave knows
    thinks feels seems uses used also still just and moves starts started returns returned
    visits spoke speaks looks hopes from runs helps manages leads owns drives cooks
    volunteers organises coordinates attends come go bring sign help
    """
)
"""Words that follow a person who is the subject of a sentence ("Grace called")."""


INSTITUTION_WORDS = _word_set(
    """
    road rd street st avenue ave lane ln close drive way court crescent place gardens terrace
    grove hill park square walk row mews rise parade vale view centre center church chapel
    mosque temple gurdwara synagogue hall house school academy college university hospital
    surgery clinic practice library station market bank food foodbank pantry larder cupboard
    kitchen hub trust foundation society council charity project group estate ward tower
    towers primary infirmary community club association partnership network services service
    team fund appeal scheme programme street shop store cafe café mail credit bridge moor dale
    cross gates
    """
)
"""Words after which a capitalised word names a place or body, not a person ("Hope Centre")."""

PLACE_BEFORE = frozenset({"st", "saint", "holy", "mount"})
DETERMINERS = _word_set("the a an some this that these those her his my our your their its no any")
FAMILY_AFTER = frozenset({"family", "families", "household", "twins", "children", "kids"})


def _data_file(name: str) -> Path:
    from matching.geo import data_dir, shipped_data_dir

    candidate = data_dir() / name
    if candidate.exists():
        return candidate
    shipped = shipped_data_dir() / name
    if shipped.exists():
        return shipped
    raise FileNotFoundError(
        f"The redaction word list {name} is missing from {candidate.parent} (and from "
        f"{shipped.parent}); it ships with foodmatch in data/."
    )


def _read_list(name: str) -> frozenset[str]:
    lines = _data_file(name).read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@dataclass(frozen=True)
class Lexicon:
    """The shipped word lists: ordinary English words and given names (lower case)."""

    ordinary: frozenset[str]
    given: frozenset[str]


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The word lists, read once per process."""
    ordinary = _read_list("english-words.txt")
    given = frozenset(
        name
        for name in _read_list("given-names.txt")
        if name not in NOT_GIVEN_NAMES and name not in ROLE_WORDS and name not in CALENDAR_WORDS
    )
    return Lexicon(ordinary=ordinary, given=given)


# --- folding and words ----------------------------------------------------------------------

_LETTERS = {"ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe", "ı": "i", "þ": "th",
            "ð": "d", "’": "'", "‘": "'"}  # fmt: skip
_SPECIAL_LETTERS = str.maketrans(_LETTERS)


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """A word in lower case without accents ("Łukasz" and "lukasz" fold alike)."""
    lowered = word.casefold().translate(_SPECIAL_LETTERS)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def name_tokens(name: str) -> list[str]:
    """The folded words of a name, and the parts of words joined by an apostrophe."""
    tokens: list[str] = []
    for match in _WORD.finditer(name):
        word = fold(match.group(0))
        if word.endswith("'s") and len(word) > 3:
            word = word[:-2]
        parts = [part for part in word.split("'") if part]
        tokens.append(word)
        if len(parts) > 1:
            tokens.extend(parts)
    return tokens


class NameIndex:
    """Personal names the service holds, and phrases (organisation and site names) that are
    never names where they appear.

    A name's words are sorted once: a word that is not an ordinary word ("okafor") is removed
    wherever it appears, in any case; one that is ("grace", "green"), or that has only two
    letters, only where it is written as a name. Role and product words are dropped. Names can
    be added while the index is in use (the service's directory grows as households arrive).
    """

    def __init__(self, names: Iterable[str] = (), protected: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self.distinctive: set[str] = set()
        self.common: set[str] = set()
        self._phrases: dict[str, list[tuple[str, ...]]] = {}
        self.add_names(names)
        self.add_protected(protected)

    def add_names(self, names: Iterable[str]) -> None:
        """Hold these personal names too."""
        words = lexicon().ordinary
        with self._lock:
            for name in names:
                if not name:
                    continue
                for token in name_tokens(name):
                    if len(token) < 2 or token in ROLE_WORDS:
                        continue
                    if len(token) == 2 or token in words or token in CALENDAR_WORDS:
                        self.common.add(token)
                    else:
                        self.distinctive.add(token)

    def add_protected(self, phrases: Iterable[str]) -> None:
        """Never take the words of these phrases for names where the whole phrase is written."""
        with self._lock:
            for phrase in phrases:
                words = tuple(fold(m.group(0)) for m in _WORD.finditer(phrase or ""))
                if words:
                    self._phrases.setdefault(words[0], []).append(words)
                    self._phrases[words[0]].sort(key=len, reverse=True)

    def phrases_starting(self, word: str) -> Sequence[tuple[str, ...]]:
        """Protected phrases whose first word is ``word`` (folded), longest first."""
        return self._phrases.get(word, ())

    def holds(self, token: str) -> bool:
        """Whether ``token`` (folded) is a word of a name held."""
        return token in self.distinctive or token in self.common

    def __len__(self) -> int:
        return len(self.distinctive) + len(self.common)


_EMPTY_INDEX_LOCK = threading.Lock()
_EMPTY_INDEX: list[NameIndex] = []


def _empty_index() -> NameIndex:
    with _EMPTY_INDEX_LOCK:
        if not _EMPTY_INDEX:
            _EMPTY_INDEX.append(NameIndex())
        return _EMPTY_INDEX[0]


VOCABULARY_PHRASES = (
    "Royal Mail", "Universal Credit", "Citizens Advice", "Christmas Eve", "New Year's Eve",
    "Robin Hood", "Chapel Allerton", "Hyde Park", "Belle Isle", "Temple Newsam", "Lincoln Green",
    "Richmond Hill", "Boston Spa", "Allerton Bywater", "Cross Gates", "Holy Trinity",
    "St James's", "St James", "Jobcentre Plus", "Trussell Trust", "Salvation Army", "Red Cross",
    "Food Standards Agency", "Household Support Fund", "Local Welfare", "Leeds City Council",
    "West Yorkshire", "North Yorkshire", "South Yorkshire",
)  # fmt: skip
"""Phrases whose words are never names there, whatever the service holds."""


@lru_cache(maxsize=1)
def _vocabulary_index() -> NameIndex:
    return NameIndex(protected=VOCABULARY_PHRASES)


# --- patterns ---------------------------------------------------------------------------

_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")

_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"(?:\+|00)[ ]?44[ ]?(?:\(0\)[ ]?)?\(?[1-9]\d{1,4}\)?(?:[ .\-]?\d){5,8}"
    r"|\(0[1-9]\d{1,4}\)[ ]?\d(?:[ .\-]?\d){4,8}"
    r"|0[1-9](?:[ .\-]?\d){8,9}"
    r"|(?:\+|00)(?!44)[1-9]\d{0,2}(?:[ .\-]?\(?\d{1,4}\)?){2,5}"
    r")(?![\w])"
)

# NHS number: 3-3-4 digits (Presidio's NhsRecognizer), valid by the mod-11 check, or any
# such number right after "NHS" (a typo in the check digit is still someone's number).
_NHS = re.compile(r"(?<![\w/.\-])\d{3}[ \-]?\d{3}[ \-]?\d{4}(?![\w/\-]|\.\d)")
_NHS_CUE = re.compile(r"\bNHS\b[^\d\n]{0,20}$", re.IGNORECASE)

# National Insurance number: HMRC's prefix rules (Presidio's UkNinoRecognizer). Without the
# final letter only after a cue ("NI number", "National Insurance").
_NINO = re.compile(
    r"(?<![A-Za-z0-9])(?!(?:BG|GB|KN|NK|NT|TN|ZZ))"
    r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][ ]?\d{2}[ ]?\d{2}[ ]?\d{2}(?:[ ]?(?P<suffix>[A-D]))?"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_LOOSE_NINO = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}[ ]?\d{2}[ ]?\d{2}[ ]?\d{2}(?:[ ]?[A-Z])?(?![A-Za-z0-9])", re.I
)
_NINO_CUE = re.compile(r"(?:\bN\.?I\.?\b|national\s+insurance|\bNINO\b)[^\n]{0,20}$", re.I)

# Card numbers: 13-19 digits in any grouping, valid by the Luhn check (or 16 after "card").
_CARD = re.compile(r"(?<![\w\-])[1-9](?:[ \-]?\d){12,18}(?![\w\-])")
_CARD_CUE = re.compile(r"\b(?:card|visa|mastercard|amex|debit|credit)\b[^\n]{0,20}$", re.I)

_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{1,4}){3,8}(?![A-Za-z0-9])")
_SORT_CODE = re.compile(r"(?<![\d\-])\d{2}([ \-])\d{2}\1\d{2}(?![\d\-])|(?<!\d)\d{6}(?!\d)")
_SORT_CUE = re.compile(r"\bsort(?:\s*-?\s*code)?\b[^\n\d]{0,12}$", re.I)
_ACCOUNT = re.compile(r"(?<!\d)\d{8}(?!\d)|(?<!\d)\d{4}[ ]\d{4}(?!\d)")
_ACCOUNT_CUE = re.compile(
    r"(?:\baccount(?:\s+(?:number|no\.?))?|\bacc(?:t)?\.?(?:\s*no\.?)?|\ba/c(?:\s*no\.?)?)"
    r"[^\n\d]{0,12}$",
    re.I,
)

# Full UK postcodes: outward code (area and district) then inward code (sector and unit), in
# any case. Looser than Presidio's UkPostcodeRecognizer (which applies the letter rules of
# each position): a postcode mistyped with a letter never issued is still someone's address.
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{1,2}[0-9][A-Za-z0-9]?)[ \t]{0,2}([0-9][A-Za-z]{2})(?![A-Za-z0-9])"
)
_LOOSE_POSTCODE = re.compile(r"([A-Za-z]{1,2}[0-9][A-Za-z0-9]?)[ \t]{0,2}([0-9][A-Za-z]{2})")

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH_NAME = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_DATE = re.compile(
    r"(?<![\d/.\-])(?:"
    r"(?P<d1>\d{1,2})[/.\-](?P<m1>\d{1,2})[/.\-](?P<y1>\d{4}|\d{2})"
    r"|(?P<y2>\d{4})-(?P<m2>\d{1,2})-(?P<d2>\d{1,2})"
    rf"|(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?[ ]+(?:of[ ]+)?(?P<m3>{_MONTH_NAME})\.?,?[ ]+"
    r"(?P<y3>\d{4})"
    rf"|(?P<m4>{_MONTH_NAME})\.?[ ]+(?P<d4>\d{{1,2}})(?:st|nd|rd|th)?,?[ ]+(?P<y4>\d{{4}})"
    r")(?![\d/])",
    re.IGNORECASE,
)
_BIRTH_CUE = re.compile(
    r"(?:\bd\.?\s?o\.?\s?b\b\.?|\bdate\s+of\s+birth|\bborn(?:\s+on)?|\bbirth\s?day|\bb\.)"
    r"[\s:\-–,]*(?:is\s+|was\s+|on\s+)?$",
    re.IGNORECASE,
)

_STREET_SUFFIX = (
    r"(?:Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Close|Cl|Drive|Dr|Way|Court|Ct|Crescent|Cres"
    r"|Place|Pl|Gardens|Gdns|Terrace|Tce|Grove|Gr|Hill|Park|Square|Sq|Walk|Row|Mews|Rise|Green"
    r"|Parade|Vale|View|Boulevard|Fold|Croft|Gate|Chase|Meadows?|Wharf|Yard|Heights|Estate)"
)
_ADDRESS = re.compile(
    r"(?:\b(?:Flat|Apartment|Apt|Unit|Room)\.?[ ]+\d{1,4}[A-Za-z]?\b,?[ ]*)?"
    r"\b\d{1,4}[A-Za-z]?,?[ ]+(?:[A-Z][A-Za-z'’\-]*[ ]+){1,3}" + _STREET_SUFFIX + r"\b"
    r"|\b(?:Flat|Apartment|Apt)\.?[ ]+\d{1,4}[A-Za-z]?\b"
)

_PLACEHOLDER = re.compile(r"\[(?:name|phone|email|date of birth|address|NHS number|NI number"
                          r"|bank details|card number)\]")  # fmt: skip


# --- known data ---------------------------------------------------------------------------


def _digits(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if digits.startswith("44"):
        digits = digits[2:]
        if not digits.startswith("0"):
            digits = "0" + digits
    return digits


def outward_code(postcode: str) -> str | None:
    """The district (outward code) of a full UK postcode, upper-case; None if not a postcode."""
    match = _LOOSE_POSTCODE.fullmatch(postcode.strip())
    return match.group(1).upper() if match else None


def _address_phrases(addresses: Iterable[str]) -> list[str]:
    """Whole addresses, their identifying lines and street names, longest first.

    A line identifies a household when it holds a number (house or flat) or is the first line;
    bare towns and localities are left alone so "Leeds" is not removed from every text.
    """
    phrases: set[str] = set()
    for address in addresses:
        address = address.strip()
        if not address:
            continue
        phrases.add(address)
        lines = [line.strip() for line in re.split(r"[,\n]+", address) if line.strip()]
        for index, line in enumerate(lines):
            if _LOOSE_POSTCODE.fullmatch(line):
                continue
            if index == 0 or re.search(r"\d", line):
                phrases.add(line)
                street = re.sub(r"^\d{1,4}[A-Za-z]?\s+", "", line)
                if street != line and len(street.split()) >= 2:
                    phrases.add(street)
    return sorted(phrases, key=len, reverse=True)


@dataclass(frozen=True)
class _CompiledKnown:
    addresses: re.Pattern[str] | None
    phones: re.Pattern[str] | None
    emails: re.Pattern[str] | None
    postcodes: re.Pattern[str] | None
    names: NameIndex | None
    birth_dates: frozenset[date]


@lru_cache(maxsize=64)
def _compile_known(known: KnownPersonalData) -> _CompiledKnown:
    """One pattern per kind for a bundle of known data (an export passes many households)."""
    phrases = [
        r"[\s,]+".join(re.escape(word) for word in re.findall(r"[^\s,]+", phrase))
        for phrase in _address_phrases(known.addresses)
    ]
    addresses = (
        re.compile(r"(?<![\w])(?:" + "|".join(p for p in phrases if p) + r")(?![\w])", re.I)
        if any(phrases)
        else None
    )
    loose = sorted(
        {
            r"[\s().\-]*".join(re.escape(d) for d in _digits(phone).lstrip("0"))
            for phone in known.phones
            if len(_digits(phone)) >= 6
        },
        key=len,
        reverse=True,
    )
    phones = (
        re.compile(r"(?<!\d)(?:(?:\+?44|0)[\s().\-]*)?(?:" + "|".join(loose) + r")(?!\d)")
        if loose
        else None
    )
    emails = (
        re.compile("|".join(re.escape(e) for e in sorted(set(known.emails), key=len)[::-1]), re.I)
        if known.emails
        else None
    )
    codes = sorted(
        {re.sub(r"\s+", "", code) for code in known.postcodes if code and code.strip()},
        key=len,
        reverse=True,
    )
    postcodes = (
        re.compile(
            r"(?<![A-Za-z0-9])(?:"
            + "|".join(r"[ \t]{0,2}".join(re.escape(ch) for ch in code) for code in codes)
            + r")(?![A-Za-z0-9])",
            re.I,
        )
        if codes
        else None
    )
    names = NameIndex(known.names) if known.names else None
    return _CompiledKnown(addresses, phones, emails, postcodes, names, frozenset(known.birth_dates))


# --- dates ----------------------------------------------------------------------------------


def _month(name: str) -> int:
    return _MONTHS[name.lower().rstrip(".")[: 4 if name.lower().startswith("sept") else 3]]


def _parse_date(match: re.Match[str], today: date | None) -> date | None:
    """The calendar date a ``_DATE`` match denotes (day first, as written in the UK)."""
    groups = match.groupdict()
    try:
        if groups["d1"]:
            day, month, year_text = int(groups["d1"]), int(groups["m1"]), groups["y1"]
        elif groups["y2"]:
            day, month, year_text = int(groups["d2"]), int(groups["m2"]), groups["y2"]
        elif groups["d3"]:
            day, month, year_text = int(groups["d3"]), _month(groups["m3"]), groups["y3"]
        else:
            day, month, year_text = int(groups["d4"]), _month(groups["m4"]), groups["y4"]
        year = int(year_text)
        if len(year_text) == 2:
            pivot = (today.year % 100) if today else 30
            year += 2000 if year <= pivot else 1900
        return date(year, month, day)
    except ValueError:
        return None


# --- words in context -----------------------------------------------------------------------


@dataclass(slots=True)
class _Word:
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


def _words(text: str) -> list[_Word]:
    starts = {m.end() for m in _SENTENCE_START.finditer(text)}
    words: list[_Word] = []
    for match in _WORD.finditer(text):
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
            _Word(
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


def _adjacent(text: str, left: _Word, right: _Word, joiners: str = " -") -> bool:
    gap = text[left.end if not left.possessive else left.end + 2 : right.start]
    return 0 < len(gap) <= 2 and all(ch in joiners for ch in gap) and "\n" not in gap


class Redactor:
    """Finds and removes personal data (see the module docstring for the policy).

    ``names`` is the directory of personal names the service holds; without it only the
    names passed per call (``known.names``) and the unknown-name rules apply.
    """

    def __init__(self, names: NameIndex | None = None) -> None:
        self.names = names if names is not None else _empty_index()
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
        return _apply(text, spans)

    def spans(
        self,
        text: str,
        known: KnownPersonalData = NOTHING_KNOWN,
        *,
        today: date | None = None,
        min_age_years: int = 16,
    ) -> list[Span]:
        """Every finding in ``text``, in order, none overlapping."""
        compiled = _compile_known(known)
        found: list[Span] = []
        found += _known_spans(text, compiled)
        found += _pattern_spans(text, compiled, today, min_age_years)
        found += self._name_spans(text, compiled.names, only_known=False)
        return _resolve(text, found)

    def mentions(self, text: str, known: KnownPersonalData) -> bool:
        """Whether ``text`` holds any of the ``known`` data (not merely pattern-like data)."""
        return bool(self.known_spans(text, known))

    def known_spans(self, text: str, known: KnownPersonalData) -> list[Span]:
        """Findings of the ``known`` data only (its names, phones, addresses, ...)."""
        compiled = _compile_known(known)
        found = _known_spans(text, compiled)
        if compiled.names is not None:
            found += Redactor(compiled.names)._name_spans(text, None, only_known=True)
        return _resolve(text, found)

    def redact_known(self, text: str, known: KnownPersonalData) -> Redaction:
        """Remove only the ``known`` data (someone else's record that mentions a household)."""
        return _apply(text, self.known_spans(text, known))

    # --- names -------------------------------------------------------------------------

    def _name_spans(self, text: str, extra: NameIndex | None, *, only_known: bool) -> list[Span]:
        words = _words(text)
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
            or (i > 0 and words[i - 1].folded in _ADDRESS_ENDS and w.folded not in ordinary)
        ]
        if not candidates:
            return []
        self._mark_protected(text, words)
        self._mark_cues(text, words, candidates)
        flags = [False] * len(words)
        for i in candidates:
            word = words[i]
            if word.protected or word.folded in ROLE_WORDS or word.folded in _TITLE_WORDS:
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

    def _held(self, word: _Word, extra: NameIndex | None) -> str:
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

    def _mark_protected(self, text: str, words: list[_Word]) -> None:
        for index in (self.names, _vocabulary_index()):
            i = 0
            while i < len(words):
                first = words[i]
                if not first.capitalised:
                    i += 1
                    continue
                phrases = [
                    *index.phrases_starting(first.folded + _poss(first)),
                    *index.phrases_starting(first.folded),
                ]
                length = next((n for p in phrases if (n := _phrase_at(words, i, p))), 0)
                for j in range(i, i + length):
                    words[j].protected = True
                i += max(length, 1)
        if "[" in text:
            for match in _PLACEHOLDER.finditer(text):
                for word in words:
                    if match.start() <= word.start < match.end():
                        word.protected = True

    def _mark_cues(self, text: str, words: list[_Word], candidates: list[int]) -> None:
        for i in candidates:
            best = ""
            for length in range(1, min(_LONGEST_CUE, i) + 1):
                cue = tuple(words[j].folded for j in range(i - length, i))
                kind = _CUES.get(cue)
                if length == 1 and cue == ("name",) and words[i - 1].possessive:
                    kind = "strong"  # "her name's Ana"
                if kind is None or _CUE_RANK[kind] <= _CUE_RANK.get(best, 0):
                    continue
                inner_ok = all(
                    text[words[j].end : words[j + 1].start] in (" ", "-")
                    for j in range(i - length, i - 1)
                )
                last = words[i - 1]
                gap = text[last.end + (2 if last.possessive else 0) : words[i].start]
                if inner_ok and _CUE_GAP[kind].fullmatch(gap):
                    best = kind
            words[i].cue = best

    def _is_name(self, text: str, words: list[_Word], i: int, held: str, only_known: bool) -> bool:
        word = words[i]
        lex = self.lexicon
        nxt = words[i + 1] if i + 1 < len(words) else None
        prev = words[i - 1] if i > 0 else None
        next_adjacent = nxt is not None and _adjacent(text, word, nxt, " ")
        verb_next = next_adjacent and nxt is not None and nxt.folded in SUBJECT_VERBS
        institution_next = (
            next_adjacent and nxt is not None and nxt.capitalised
            and nxt.folded in INSTITUTION_WORDS
        )  # fmt: skip
        place_before = (
            prev is not None and prev.folded in PLACE_BEFORE and _adjacent(text, prev, word, " .")
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
            if word.cue in ("title", "strong") or _addressed(words, i):
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
                return given or _addressed(words, i)
        if given and word.capitalised:
            if not ordinary or not word.sentence_start:
                return True
            return verb_next or vocative or word.possessive
        if word.capitalised and not ordinary:
            family = next_adjacent and nxt is not None and nxt.folded in FAMILY_AFTER
            return verb_next or family or (next_adjacent and _name_like(nxt, lex))
        return False

    def _extend(
        self, text: str, words: list[_Word], flags: list[bool], held: list[str], only_known: bool
    ) -> None:
        """Surnames and initials next to a name; a second name after "and"."""
        if only_known:
            return
        lex = self.lexicon
        for _round in range(2):
            for i in range(len(words) - 1):
                left, right = words[i], words[i + 1]
                joiners = " -." if len(left.text) == 1 else " -"
                joins = _joinable(right) and _adjacent(text, left, right, joiners)
                if flags[i] and not flags[i + 1] and joins:
                    flags[i + 1] = True
                if (
                    flags[i + 1]
                    and not flags[i]
                    and _joinable(left)
                    and _adjacent(text, left, right, " .-")
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
                    if _joinable(right) and right.folded not in lex.ordinary:
                        flags[i + 2] = True


_ADDRESSING = frozenset(
    {("ask", "for"), ("asked", "for"), ("asking", "for"), ("speak", "to"), ("spoke", "to"),
     ("talk", "to"), ("hi",), ("hello",), ("dear",), ("thanks",)}
)  # fmt: skip


_ADDRESS_ENDS = frozenset(cue[-1] for cue in _ADDRESSING)


def _addressed(words: list[_Word], i: int) -> bool:
    """Whether the cue before word ``i`` addresses or asks for a person ("ask for donatas")."""
    one = (words[i - 1].folded,) if i >= 1 else ()
    two = (words[i - 2].folded, words[i - 1].folded) if i >= 2 else ()
    return one in _ADDRESSING or two in _ADDRESSING


def _poss(word: _Word) -> str:
    return "'s" if word.possessive else ""


def _phrase_at(words: list[_Word], i: int, phrase: tuple[str, ...]) -> int:
    if i + len(phrase) > len(words):
        return 0
    for offset, part in enumerate(phrase):
        word = words[i + offset]
        if part not in (word.folded, word.folded + _poss(word)):
            return 0
    return len(phrase)


def _held_next(redactor: Redactor, text: str, words: list[_Word], i: int) -> bool:
    if i + 1 >= len(words) or not _adjacent(text, words[i], words[i + 1]):
        return False
    right = words[i + 1]
    return (
        right.capitalised
        and not right.protected
        and (right.folded not in redactor.lexicon.ordinary or bool(redactor._held(right, None)))
    )


def _name_like(word: _Word | None, lex: Lexicon) -> bool:
    """A capitalised word that is no ordinary, role, place or calendar word: with another
    such word before it, the two make a full name ("Watika Trivedi")."""
    return (
        word is not None
        and _joinable(word)
        and word.folded not in lex.ordinary
        and not (word.parts and any(part in lex.ordinary for part in word.parts))
    )


def _joinable(word: _Word) -> bool:
    """Whether a word can continue a name (a surname), given the word before is one."""
    return (
        word.capitalised
        and not word.protected
        and not word.all_caps
        and word.folded not in ROLE_WORDS
        and word.folded not in _TITLE_WORDS
        and word.folded not in CALENDAR_WORDS
        and word.folded not in INSTITUTION_WORDS
        and word.folded not in SUBJECT_VERBS
        and (len(word.folded) >= 2 or word.text.isupper())
    )


# --- patterns to spans ----------------------------------------------------------------------


def _span(match: re.Match[str], category: Category, replacement: str | None = None) -> Span:
    return Span(match.start(), match.end(), category, replacement or PLACEHOLDER.get(category, ""))


def _known_spans(text: str, compiled: _CompiledKnown) -> list[Span]:
    found: list[Span] = []
    if compiled.emails is not None:
        found += [_span(m, Category.EMAIL) for m in compiled.emails.finditer(text)]
    if compiled.addresses is not None:
        found += [_span(m, Category.ADDRESS) for m in compiled.addresses.finditer(text)]
    if compiled.phones is not None:
        found += [_span(m, Category.PHONE) for m in compiled.phones.finditer(text)]
    if compiled.postcodes is not None:
        for m in compiled.postcodes.finditer(text):
            district = outward_code(m.group(0)) or ""
            found.append(_span(m, Category.POSTCODE, district))
    if compiled.birth_dates:
        for m in _DATE.finditer(text):
            if _parse_date(m, None) in compiled.birth_dates:
                found.append(_span(m, Category.DATE_OF_BIRTH))
    return found


def _before(text: str, match: re.Match[str], width: int = 30) -> str:
    return text[max(0, match.start() - width) : match.start()]


def _pattern_spans(
    text: str, compiled: _CompiledKnown, today: date | None, min_age: int
) -> list[Span]:
    found: list[Span] = [_span(m, Category.EMAIL) for m in _EMAIL.finditer(text)]
    for m in _IBAN.finditer(text):
        compact = m.group(0).replace(" ", "")
        for length in range(len(compact), 14, -1):
            if stdnum_iban.is_valid(compact[:length]):
                end = m.start() + _consumed(m.group(0), compact[:length])
                found.append(Span(m.start(), end, Category.BANK_DETAILS, "[bank details]"))
                break
    for m in _CARD.finditer(text):
        if _COUNTRY_CODE_BEFORE.search(_before(text, m, 6)):
            continue  # "+44 020 1234 5678" is a phone number
        digits = re.sub(r"\D", "", m.group(0))
        cued = _CARD_CUE.search(_before(text, m)) is not None and len(digits) >= 15
        if cued or (13 <= len(digits) <= 19 and stdnum_luhn.is_valid(digits)):
            found.append(_span(m, Category.CARD_NUMBER))
    for m in _NHS.finditer(text):
        if _COUNTRY_CODE_BEFORE.search(_before(text, m, 6)):
            continue  # "+44 113 2696291" is a phone number
        digits = re.sub(r"\D", "", m.group(0))
        if stdnum_nhs.is_valid(digits) or _NHS_CUE.search(_before(text, m)):
            found.append(_span(m, Category.NHS_NUMBER))
    for m in _LOOSE_NINO.finditer(text):
        if _NINO_CUE.search(_before(text, m)):
            found.append(_span(m, Category.NI_NUMBER))
    for m in _NINO.finditer(text):
        cued = _NINO_CUE.search(_before(text, m)) is not None
        if cued or (m.group("suffix") and m.group(0).isupper()):
            found.append(_span(m, Category.NI_NUMBER))
    for m in _SORT_CODE.finditer(text):
        cued = _SORT_CUE.search(_before(text, m, 20)) is not None
        dashed = m.group(1) == "-"
        if cued or (dashed and not _is_date(m.group(0))):
            found.append(_span(m, Category.BANK_DETAILS))
    for m in _ACCOUNT.finditer(text):
        if _ACCOUNT_CUE.search(_before(text, m, 24)):
            found.append(_span(m, Category.BANK_DETAILS))
    found += [
        _span(m, Category.PHONE)
        for m in _PHONE.finditer(text)
        if sum(ch.isdigit() for ch in m.group(0)) >= 9
    ]
    found += _date_spans(text, compiled.birth_dates, today, min_age)
    for m in _POSTCODE.finditer(text):
        inward = m.group(2)
        if m.group(0).islower() and inward[1:].lower() in ("st", "nd", "rd", "th"):
            continue
        found.append(_span(m, Category.POSTCODE, m.group(1).upper()))
    found += [_span(m, Category.ADDRESS) for m in _ADDRESS.finditer(text)]
    return found


_COUNTRY_CODE_BEFORE = re.compile(r"(?:\+|(?<!\d)00)\d{0,3}[ ]?(?:\(0\)[ ]?)?$|\+$")


def _consumed(raw: str, compact: str) -> int:
    """How many characters of ``raw`` (with spaces) spell ``compact``."""
    seen = 0
    for index, ch in enumerate(raw):
        if ch != " ":
            seen += 1
        if seen == len(compact):
            return index + 1
    return len(raw)


def _is_date(value: str) -> bool:
    day, month, _year = (int(part) for part in re.split(r"[ \-]", value))
    return 1 <= day <= 31 and 1 <= month <= 12


def _date_spans(
    text: str, birth_dates: frozenset[date], today: date | None, min_age: int
) -> list[Span]:
    cutoff = date(today.year - min_age, today.month, min(today.day, 28)) if today else None
    found = []
    for match in _DATE.finditer(text):
        when = _parse_date(match, today)
        is_birth = (
            (when is not None and when in birth_dates)
            or (cutoff is not None and when is not None and when <= cutoff)
            or _BIRTH_CUE.search(_before(text, match)) is not None
        )
        if is_birth:
            found.append(_span(match, Category.DATE_OF_BIRTH))
    return found


def _resolve(text: str, spans: list[Span]) -> list[Span]:
    """Keep the best of overlapping findings; merge a run of names into one."""
    ordered = sorted(spans, key=lambda s: (-_PRIORITY[s.category], -(s.end - s.start), s.start))
    kept: list[Span] = []
    for span in ordered:
        if span.end <= span.start:
            continue
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    kept.sort(key=lambda s: s.start)
    merged: list[Span] = []
    for span in kept:
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.category is Category.NAME
            and span.category is Category.NAME
            and re.fullmatch(r"[ \-.]{1,3}", text[last.end : span.start])
        ):
            merged[-1] = Span(last.start, span.end, Category.NAME, last.replacement)
        else:
            merged.append(span)
    return merged


def _apply(text: str, spans: list[Span]) -> Redaction:
    counts: Counter[str] = Counter()
    pieces: list[str] = []
    position = 0
    for span in spans:
        pieces.append(text[position : span.start])
        pieces.append(span.replacement)
        counts[span.category.value] += 1
        position = span.end
    pieces.append(text[position:])
    return Redaction(text="".join(pieces), counts=dict(counts))


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


def distinctive_tokens(names: Iterable[str]) -> set[str]:
    """The words of ``names`` that a :class:`NameIndex` removes in any case, in lower case,
    both as written and folded ("zięcik", "ziecik"): what a full-text index would hold."""
    words = lexicon().ordinary
    found: set[str] = set()
    for name in names:
        for match in _WORD.finditer(name or ""):
            raw = match.group(0).casefold().replace("’", "'")
            for variant in {raw, fold(raw)}:
                for token in (variant, *variant.split("'")):
                    if token.endswith("'s"):
                        token = token[:-2]
                    plain = "'" not in token and token not in CALENDAR_WORDS
                    if plain and len(token) > 2 and token not in words and token not in ROLE_WORDS:
                        found.add(token)
    return found
