"""The FOI-ready record: coordination threads, tamper-evident audit, search, export, privacy.

A self-contained area of the service. Its tables live on the service's declarative ``Base``;
its router is included by ``api.app.create_app``. Pure helpers (``workdays``, ``redaction``,
``chain``) import nothing from the web or database stack.
"""

from api.record import indexing as _indexing

_indexing.install()
