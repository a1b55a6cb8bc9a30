"""What personal data the record holds about whom, for the redaction component.

- :func:`redactor_for` gives the :class:`~api.record.redaction.Redactor` of a database: it
  knows every personal name the service holds (the households' names, the staff's display
  names and e-mail local parts) and the organisation and site names that are never names.
  Every path that lets text out (search indexing, exports, erasure) redacts through it.
- ``known_for_referrals`` collects the households' other details (phones, addresses,
  postcodes) for the texts about those households.

The names are kept in memory per database and brought up to date at each use by two cheap
queries: the newest households (by id, with a window for transactions that commit out of
order) and a stamp of the small tables (users, organisations, sites, erasures). An erasure
anywhere makes every process reload, so an erased name does not stay in memory. Households'
and users' names are never edited in place by the service; a change made through this
process is seen at once (:func:`note_names`), one made by another process to an old row only
at that process's next reload.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from api.core.tables import Organisation, Provider, ReferralPersonal, User
from api.record.redaction import KnownPersonalData, NameIndex, Redactor
from api.record.tables import Erasure

_PERSONAL = ReferralPersonal.__table__

WINDOW = 128
"""How far below the newest household id each refresh looks again, so a household whose
transaction committed after a later one's is still found."""


def household(
    name: str | None, phone: str | None, address: str | None, postcode: str | None
) -> KnownPersonalData:
    """One household's known personal data."""
    return KnownPersonalData(
        names=(name,) if name else (),
        phones=(phone,) if phone else (),
        addresses=(address,) if address else (),
        postcodes=(postcode,) if postcode else (),
    )


def known_for_referrals(
    bind: Session | Connection, referral_ids: Iterable[int]
) -> KnownPersonalData:
    """Everything personal held about the households of ``referral_ids``, in one bundle."""
    names: list[str] = []
    phones: list[str] = []
    addresses: list[str] = []
    postcodes: list[str] = []
    ids = sorted(set(referral_ids))
    for start in range(0, len(ids), 500):
        rows = bind.execute(
            select(
                _PERSONAL.c.name, _PERSONAL.c.phone, _PERSONAL.c.address, _PERSONAL.c.postcode
            ).where(_PERSONAL.c.referral_id.in_(ids[start : start + 500]))
        ).all()
        for name, phone, address, postcode in rows:
            names += [name] if name else []
            phones += [phone] if phone else []
            addresses += [address] if address else []
            postcodes += [postcode] if postcode else []
    return KnownPersonalData(
        names=tuple(names),
        phones=tuple(phones),
        addresses=tuple(addresses),
        postcodes=tuple(postcodes),
    )


def staff_name(display_name: str | None, email: str | None) -> list[str]:
    """The names a member of staff is known by: display name and e-mail local part."""
    local = (email or "").split("@")[0].replace(".", " ").replace("_", " ").replace("-", " ")
    return [value for value in (display_name, local) if value]


# --- the directory of names ---------------------------------------------------------------


@dataclass
class _Directory:
    index: NameIndex = field(default_factory=NameIndex)
    stamp: tuple[Any, ...] | None = None
    households: dict[int, str] = field(default_factory=dict)
    newest: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


_DIRECTORIES: OrderedDict[str, _Directory] = OrderedDict()
_DIRECTORIES_LOCK = threading.Lock()
_KEEP = 16


def _connection(bind: Session | Connection) -> Connection:
    return bind.connection() if isinstance(bind, Session) else bind


def _directory(connection: Connection) -> _Directory:
    key = connection.engine.url.render_as_string(hide_password=True)
    with _DIRECTORIES_LOCK:
        found = _DIRECTORIES.get(key)
        if found is None:
            found = _DIRECTORIES[key] = _Directory()
            while len(_DIRECTORIES) > _KEEP:
                _DIRECTORIES.popitem(last=False)
        _DIRECTORIES.move_to_end(key)
        return found


_STAMP = select(
    select(func.count()).select_from(User).scalar_subquery(),
    select(func.max(User.id)).scalar_subquery(),
    select(func.count()).select_from(Organisation).scalar_subquery(),
    select(func.max(Organisation.id)).scalar_subquery(),
    select(func.count()).select_from(Provider).scalar_subquery(),
    select(func.max(Provider.id)).scalar_subquery(),
    select(func.max(Erasure.id)).scalar_subquery(),
    select(func.count()).select_from(Erasure).scalar_subquery(),
)


def _load_small_tables(connection: Connection, index: NameIndex) -> None:
    for display_name, email in connection.execute(select(User.display_name, User.email)):
        index.add_names(staff_name(display_name, email))
    index.add_protected(connection.scalars(select(Organisation.name)))
    index.add_protected(connection.scalars(select(Provider.name)))


def _refresh(connection: Connection, directory: _Directory) -> None:
    stamp = tuple(connection.execute(_STAMP).one())
    with directory.lock:
        if stamp != directory.stamp:
            # Staff, organisations, sites or an erasure changed: rebuild from scratch.
            index = NameIndex()
            _load_small_tables(connection, index)
            households: dict[int, str] = {
                ident: name
                for ident, name in connection.execute(
                    select(_PERSONAL.c.referral_id, _PERSONAL.c.name)
                )
            }
            index.add_names(name for name in households.values() if name)
            directory.index = index
            directory.households = {k: v for k, v in households.items() if v}
            directory.newest = max(households, default=0)
            directory.stamp = stamp
            return
        rows = connection.execute(
            select(_PERSONAL.c.referral_id, _PERSONAL.c.name).where(
                _PERSONAL.c.referral_id > directory.newest - WINDOW
            )
        )
        fresh = [
            (ident, name)
            for ident, name in rows
            if name and directory.households.get(ident) != name
        ]
        if fresh:
            directory.index.add_names(name for _, name in fresh)
            directory.households.update(fresh)
            directory.newest = max(directory.newest, *(ident for ident, _ in fresh))


def names_held(bind: Session | Connection) -> NameIndex:
    """Every personal name the service holds (and the organisation and site names that are
    not), current as of this transaction."""
    connection = _connection(bind)
    directory = _directory(connection)
    _refresh(connection, directory)
    return directory.index


def redactor_for(bind: Session | Connection) -> Redactor:
    """The redaction component, knowing every name this database holds."""
    return Redactor(names_held(bind))


def known_redactor(bind: Session | Connection) -> Redactor:
    """The redaction component with the names this process already knows, for hot paths.

    The directory is loaded from the database once; after that it is kept current by this
    process's own writes (:func:`note_names`) and by every full refresh, with no query here.
    A name another process wrote since the last refresh may be missed: exports and search
    re-redact with :func:`redactor_for`, so this only narrows what a search document holds.
    """
    connection = _connection(bind)
    directory = _directory(connection)
    if directory.stamp is None:
        _refresh(connection, directory)
    return Redactor(directory.index)


def note_names(connection: Connection, names: Iterable[str]) -> None:
    """Names this process just wrote (a household added or renamed, a user added): known to
    the redaction at once, before the next refresh."""
    values = [name for name in names if name]
    if values:
        _directory(connection).index.add_names(values)


def forget_directories() -> None:
    """Drop every process-wide directory (tests; the next use reloads from the database)."""
    with _DIRECTORIES_LOCK:
        _DIRECTORIES.clear()
