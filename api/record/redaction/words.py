"""The redaction's word lists and the directory of personal names the service holds.

Role, place, calendar and cue words; the shipped lists of ordinary English words and given
names (:func:`lexicon`, read once); folding of words (:func:`fold`); and :class:`NameIndex`,
the names held and the phrases (organisation and site names) that are never names.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


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

TITLE_WORDS = frozenset(title.casefold() for title in TITLES)

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

CUE_RANK = {"soft": 1, "person": 2, "strong": 3, "title": 4}
CUES: dict[tuple[str, ...], str] = {
    **{tuple(cue.split()): "soft" for cue in SOFT_CUES},
    **{tuple(cue.split()): "person" for cue in PERSON_CUES},
    **{tuple(cue.split()): "strong" for cue in STRONG_CUES},
    **{(title.casefold(),): "title" for title in TITLES},
}
LONGEST_CUE = max(len(cue) for cue in CUES)
CUE_GAP = {
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


WORD_PATTERN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def name_tokens(name: str) -> list[str]:
    """The folded words of a name, and the parts of words joined by an apostrophe."""
    tokens: list[str] = []
    for match in WORD_PATTERN.finditer(name):
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
                words = tuple(fold(m.group(0)) for m in WORD_PATTERN.finditer(phrase or ""))
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


def empty_index() -> NameIndex:
    """The one empty name directory of the process (a redactor that holds no names)."""
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
def vocabulary_index() -> NameIndex:
    """The phrases of :data:`VOCABULARY_PHRASES`, protected."""
    return NameIndex(protected=VOCABULARY_PHRASES)


def distinctive_tokens(names: Iterable[str]) -> set[str]:
    """The words of ``names`` that a :class:`NameIndex` removes in any case, in lower case,
    both as written and folded ("zięcik", "ziecik"): what a full-text index would hold."""
    words = lexicon().ordinary
    found: set[str] = set()
    for name in names:
        for match in WORD_PATTERN.finditer(name or ""):
            raw = match.group(0).casefold().replace("’", "'")
            for variant in {raw, fold(raw)}:
                for token in (variant, *variant.split("'")):
                    if token.endswith("'s"):
                        token = token[:-2]
                    plain = "'" not in token and token not in CALENDAR_WORDS
                    if plain and len(token) > 2 and token not in words and token not in ROLE_WORDS:
                        found.add(token)
    return found
