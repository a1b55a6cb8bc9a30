"""The published taxonomy: food support and dietary needs (``data/food-support-taxonomy.json``).

Its dietary terms are exactly the engine's dietary tags (``matching.models.DIETARY_TAGS``); an
imported taxonomy term names one when its id is one of ours, or when its ``term`` or ``name``
spells the tag (``gluten_free``, ``Gluten free``, ``gluten-free``, or a listed alias).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from matching.models import DIETARY_TAGS

DATA_DIR = Path(__file__).with_name("data")
VOCABULARY_FILE = DATA_DIR / "food-support-taxonomy.json"
FOOD_PARCEL = "food_parcel"
FOOD_DELIVERY = "food_delivery"


@dataclass(frozen=True, slots=True)
class Term:
    """One term of the vocabulary."""

    id: str
    term: str
    name: str
    description: str
    parent_id: str | None


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The taxonomy, its terms in published order, the capacity unit and the tag aliases."""

    taxonomy_id: str
    name: str
    description: str
    version: str
    terms: tuple[Term, ...]
    unit_id: str
    unit_name: str
    unit_identifier: str
    aliases: dict[str, str]

    def by_code(self, code: str) -> Term:
        """The term whose code is ``code`` (a dietary tag, ``food_parcel``, ...)."""
        return next(t for t in self.terms if t.term == code)

    def by_id(self, term_id: str) -> Term | None:
        """The term with this id, or ``None``."""
        return next((t for t in self.terms if t.id == term_id.lower()), None)

    def dietary_tag(self, term: dict[str, Any] | None, term_id: str | None) -> str | None:
        """The dietary tag an imported taxonomy term (or bare term id) names, if any."""
        for candidate in (term_id, (term or {}).get("id")):
            if isinstance(candidate, str):
                ours = self.by_id(candidate)
                if ours is not None and ours.term in DIETARY_TAGS:
                    return ours.term
        for key in ("term", "name"):
            value = (term or {}).get(key)
            if isinstance(value, str):
                tag = self._spelled(value)
                if tag is not None:
                    return tag
        return None

    def _spelled(self, text: str) -> str | None:
        words = re.sub(r"\s+", " ", text.strip().lower())
        if words in self.aliases:
            return self.aliases[words]
        code = re.sub(r"[\s-]+", "_", words)
        return code if code in DIETARY_TAGS else None


@cache
def vocabulary() -> Vocabulary:
    """The shipped vocabulary (read once)."""
    data = json.loads(VOCABULARY_FILE.read_text(encoding="utf-8"))
    taxonomy, unit = data["taxonomy"], data["unit"]
    return Vocabulary(
        taxonomy_id=taxonomy["id"],
        name=taxonomy["name"],
        description=taxonomy["description"],
        version=taxonomy["version"],
        terms=tuple(
            Term(
                id=t["id"],
                term=t["term"],
                name=t["name"],
                description=t["description"],
                parent_id=t.get("parent_id"),
            )
            for t in data["terms"]
        ),
        unit_id=unit["id"],
        unit_name=unit["name"],
        unit_identifier=unit["identifier"],
        aliases=dict(data["aliases"]),
    )
