"""The caseworker's notes for the food bank, as the accepting charity may read them.

The notes are free text written at the council ("Call after 3pm please, her son Tom
answers"). The charity that accepted a consenting household already sees that household's
name, phone, address and postcode, so those stay; every other identifier the redaction
component recognises (other people's names, other phone numbers, e-mail addresses, NHS and
National Insurance numbers, bank and card details, dates of birth, other addresses and
postcodes) is replaced by its placeholder. The recognisers are the record's own
(``api.record.redaction``), so notes and FOI exports follow one policy.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.core.minimise import NotesRedaction
from api.core.tables import ReferralPersonal
from api.record.people import household, redactor_for
from api.record.redaction import Redactor
from api.record.redaction.spans import apply_spans


def redact_for_charity(redactor: Redactor, text: str, personal: ReferralPersonal) -> str:
    """``text`` with every identifier removed except the household's own contact details."""
    own = household(personal.name, personal.phone, personal.address, personal.postcode)
    keep = redactor.known_spans(text, own)
    found = redactor.spans(text, own)
    removed = [
        span for span in found if not any(k.start <= span.start and span.end <= k.end for k in keep)
    ]
    return apply_spans(text, removed).text.strip()


def notes_redaction(session: Session) -> NotesRedaction:
    """The redaction of notes for this database (it knows every name the service holds)."""
    redactor = redactor_for(session)

    def redact(text: str, personal: ReferralPersonal) -> str:
        return redact_for_charity(redactor, text, personal)

    return redact
