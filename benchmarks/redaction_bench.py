"""Measure the redaction component on the labelled corpus (``benchmarks/redaction_corpus.json``).

The redaction is set up as the service sets it up: its directory holds the corpus's households
and staff (display names and e-mail local parts, role accounts such as "foi-officer"
included) and the sites' names as phrases that are never names; a message about a household
is redacted with that household's phone, address and postcode too, as search indexing does.

For each kind of planted item, recall is the share of items whose every letter and digit the
redaction removed (a postcode counts as removed when its inward code is; the district stays
by policy). Over-redaction is the share of the plain text's words (runs of letters, in the
text that must stay) that the redaction touched. Unknown names are also split by whether the
gazetteer (``data/given-names.txt``) holds their given name, to show how much the cues carry.

Usage::

    python -m benchmarks.redaction_bench              # the table
    python -m benchmarks.redaction_bench --misses     # and every miss and false alarm
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from api.record.people import staff_name
from api.record.redaction import KnownPersonalData, NameIndex, Redactor, fold, lexicon
from benchmarks.redaction_corpus import CHECKSUM_KINDS, CORPUS, KINDS

TARGETS = {"known_name": 1.0, "unknown_name": 0.90, **{k: 1.0 for k in CHECKSUM_KINDS}}
"""Recall targets; every other structured kind must reach 0.99."""
OTHER_TARGET = 0.99
OVER_REDACTION_LIMIT = 0.01

_LETTERS = re.compile(r"[^\W\d_]+")


@dataclass
class Result:
    """What the measurement found."""

    planted: Counter[str] = field(default_factory=Counter)
    caught: Counter[str] = field(default_factory=Counter)
    plain_words: int = 0
    plain_redacted: int = 0
    unknown_in_gazetteer: Counter[str] = field(default_factory=Counter)
    messages: int = 0
    seconds: float = 0.0
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    def recall(self, kind: str) -> float:
        """Share of planted items of ``kind`` removed (1.0 when none were planted)."""
        return self.caught[kind] / self.planted[kind] if self.planted[kind] else 1.0

    @property
    def over_redaction(self) -> float:
        """Share of plain words touched by the redaction."""
        return self.plain_redacted / self.plain_words if self.plain_words else 0.0

    def failures(self) -> list[str]:
        """Targets not met, in words (empty when all are met)."""
        problems = []
        for kind in KINDS:
            target = TARGETS.get(kind, OTHER_TARGET)
            if self.recall(kind) < target:
                problems.append(f"{kind}: recall {self.recall(kind):.3f} < {target}")
        if self.over_redaction >= OVER_REDACTION_LIMIT:
            problems.append(f"over-redaction {self.over_redaction:.4f} >= {OVER_REDACTION_LIMIT}")
        return problems


def load(path: Path = CORPUS) -> dict[str, Any]:
    """The committed corpus."""
    corpus: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return corpus


def directory(corpus: dict[str, Any]) -> NameIndex:
    """The service's directory for the corpus: households, staff, role accounts and sites."""
    names: list[str] = [h["name"] for h in corpus["households"]]
    for person in corpus["staff"]:
        first, last = person.split(" ", 1)
        names += staff_name(person, f"{first}.{last}@leeds.gov.uk".lower().replace(" ", ""))
    for account in corpus["staff_accounts"]:
        names += staff_name(account, f"{account}@leeds.demo")
    return NameIndex(names, protected=corpus["sites"])


def measure(corpus: dict[str, Any], split: str | None = None) -> Result:
    """Redact every message (of ``split``, or all) and score it against its labels."""
    redactor = Redactor(directory(corpus))
    today = date.fromisoformat(corpus["today"])
    given = lexicon().given
    result = Result()
    started = time.perf_counter()
    for message in corpus["messages"]:
        if split is not None and message["split"] != split:
            continue
        text: str = message["text"]
        known = KnownPersonalData()
        if message["household"] is not None:
            household = corpus["households"][message["household"]]
            known = KnownPersonalData(
                phones=(household["phone"],),
                addresses=(household["address"],),
                postcodes=(household["postcode"],),
            )
        spans = redactor.spans(text, known, today=today)
        covered = [False] * len(text)
        for span in spans:
            for index in range(span.start, span.end):
                covered[index] = True
        result.messages += 1
        planted = [False] * len(text)
        for start, end, kind in message["items"]:
            for index in range(start, end):
                planted[index] = True
            value = text[start:end]
            must_go = [
                i
                for i in range(start, end)
                if text[i].isalnum()
                and not (kind == "postcode" and i < _inward_start(value, start))
            ]
            result.planted[kind] += 1
            if all(covered[i] for i in must_go):
                result.caught[kind] += 1
            else:
                result.misses.append(f"{kind}: {value!r} in {text!r}")
            if kind == "unknown_name":
                first = fold(value.split()[0]) if value.split() else ""
                result.unknown_in_gazetteer["held" if first in given else "not held"] += 1
                if not all(covered[i] for i in must_go):
                    result.unknown_in_gazetteer[
                        "missed, held" if first in given else "missed, not held"
                    ] += 1
        for match in _LETTERS.finditer(text):
            if any(planted[i] for i in range(match.start(), match.end())):
                continue
            result.plain_words += 1
            if any(covered[i] for i in range(match.start(), match.end())):
                result.plain_redacted += 1
                result.false_alarms.append(f"{match.group(0)!r} in {text!r}")
    result.seconds = time.perf_counter() - started
    return result


def _inward_start(value: str, start: int) -> int:
    """Index (in the message) where a planted postcode's inward code begins."""
    compact = value.rstrip()
    return start + len(compact) - 3


def report(result: Result) -> str:
    """The figures as a Markdown table."""
    lines = [
        "| kind | planted | removed | recall | target |",
        "|---|---|---|---|---|",
    ]
    for kind in KINDS:
        target = TARGETS.get(kind, OTHER_TARGET)
        lines.append(
            f"| {kind.replace('_', ' ')} | {result.planted[kind]} | {result.caught[kind]} | "
            f"{result.recall(kind):.1%} | {target:.0%} |"
        )
    held = result.unknown_in_gazetteer
    lines += [
        "",
        f"Plain words touched: {result.plain_redacted} of {result.plain_words} "
        f"({result.over_redaction:.2%}; limit {OVER_REDACTION_LIMIT:.0%}).",
        f"Unknown names whose given name the gazetteer holds: {held['held']} (missed "
        f"{held['missed, held']}); not held: {held['not held']} (missed "
        f"{held['missed, not held']}).",
        f"{result.messages} messages in {result.seconds:.2f} s "
        f"({result.seconds / max(result.messages, 1) * 1000:.2f} ms each), Python "
        f"{platform.python_version()}.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the table; exit 1 if a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--misses", action="store_true", help="print every miss and false alarm")
    args = parser.parse_args(argv)
    corpus = load()
    result = measure(corpus)
    for split in ("development", "held_out", "second_held_out"):
        print(f"\n### {split.replace('_', '-')} messages\n")
        print(report(measure(corpus, split)))
    print("\n### all messages\n")
    print(report(result))
    if args.misses:
        print("\nMisses:")
        print("\n".join(result.misses) or "none")
        print("\nPlain words redacted:")
        print("\n".join(result.false_alarms) or "none")
    problems = result.failures()
    if problems:
        print("\nTargets missed: " + "; ".join(problems))
        return 1
    print("\nAll targets met.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
