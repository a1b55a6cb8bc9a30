"""The schema's pattern of the postcodes the service can place (its districts, any case).

Built once from the shipped outcode table as a prefix tree, so the OpenAPI document can
list every district in a pattern a client checks before it sends a referral.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from matching.geo import Gazetteer


def _letter(char: str) -> str:
    return f"[{char.upper()}{char.lower()}]" if char.isalpha() else char


def _trie_pattern(words: Iterable[str]) -> str:
    """A regular expression matching exactly ``words`` (any case), sharing their prefixes."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        children = sorted((c, child) for c, child in node.items() if c)
        if not children:
            return ""
        leaves = [c for c, child in children if set(child) == {""}]
        if len(leaves) == len(children) and len(leaves) > 1 and all(c.isdigit() for c in leaves):
            body = "[" + "".join(leaves) + "]"
        else:
            branches = [_letter(c) + emit(child) for c, child in children]
            body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:
            body = f"(?:{body})?"
        return body

    return emit(trie)


@lru_cache(maxsize=4)
def _district_pattern(outcodes: tuple[str, ...]) -> str:
    return r"^(?:" + _trie_pattern(outcodes) + r")(?: ?[0-9][A-Za-z]{2})?$"


def known_postcode_pattern() -> str:
    """The pattern of a postcode whose district is in the offline table, as the schema says.

    A full postcode (``LS9 7AB``, one space or none) or a bare outward code (``LS9``), any
    case, of a district the service can place; the server checks the same thing (a
    well-formed postcode of an unknown district is a 422).
    """
    return _district_pattern(tuple(sorted(Gazetteer.default().centroids)))
