"""The FOI-ready record: coordination threads, tamper-evident audit, search, export, privacy.

A self-contained area of the service. Its tables live on the service's declarative ``Base``
(``tables``); its router (``router``, bodies in ``schemas``) is included by
``api.app.create_app``. ``audit`` keeps the hash-chained event log, ``checkpoints`` its
signed checkpoints and ``dbrole`` the database role that may not rewrite it; ``search`` and
``indexing`` the FOI search index; ``redaction`` (pure: no clock, no database) and ``people``
decide what personal data leaves the record; ``foi``, ``messages`` and ``retention`` hold the
requests and exports, the coordination threads, and erasure; ``workdays`` (pure) counts the
statutory deadlines; ``settings`` reads the record's environment variables.

Importing the record registers nothing. :func:`install` registers its SQLAlchemy hooks,
process-wide, once per process: the app factory and the CLI commands that open a database
call it. Without them a note or decision written through the ORM is not indexed for search,
a name written is not redacted from documents indexed before, and committed audit events
are not handed to the checkpoint writer.
"""

from __future__ import annotations


def install() -> None:
    """Register the record's hooks on SQLAlchemy's ``Session`` and ``Engine`` (idempotent).

    - search indexing of the notes and decisions an ORM flush writes, and a second redaction
      of indexed documents when a household's or user's name is written (``indexing``);
    - the hand-over of each committed transaction's newest audit event to the checkpoint
      writer (``checkpoints.writer``).
    """
    from api.record import indexing
    from api.record.checkpoints import writer

    indexing.install()
    writer.install()
