"""The postcode directory's table, on the service's :class:`api.core.tables.Base`.

One row per postcode, keyed by its compact upper-case form (``LS11AA``). A terminated
postcode keeps its row with the month it ended, so it can be refused with that reason
rather than as unknown. Coordinates are WGS84 degrees; a postcode the directory publishes
without a grid reference has none and is placed at its district's centre.
"""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from api.core.tables import Base


class PostcodeEntry(Base):
    """One postcode of the imported directory."""

    __tablename__ = "postcodes"

    postcode: Mapped[str] = mapped_column(String(8), primary_key=True)
    outcode: Mapped[str] = mapped_column(String(4), index=True)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    terminated: Mapped[str | None] = mapped_column(String(7), default=None)
    """``YYYY-MM`` the postcode ended, or ``None`` while it is live."""
