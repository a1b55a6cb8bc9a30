"""What the product carries instead of reading the shared specification folder at run time."""

from __future__ import annotations

import tomllib
from pathlib import Path

from api.directory import schemata
from api.directory.vocabulary import VOCABULARY_FILE, vocabulary
from tests.api.directory.helpers import REPO, spec_dir


def test_the_carried_oruk_schemata_are_the_official_files_with_their_licence() -> None:
    """Every ORUK 3.0 schema the import validates against is a byte-for-byte copy of the
    official one, and the BSD-3 licence travels with them."""
    official = spec_dir() / "oruk-3.0" / "schemata"
    carried = schemata.SCHEMATA_DIR
    assert sorted(p.name for p in carried.glob("*.json")) == sorted(
        p.name for p in official.glob("*.json")
    )
    for path in official.glob("*.json"):
        assert (carried / path.name).read_bytes() == path.read_bytes(), path.name
    licence = carried.parent / "LICENSE"
    assert licence.read_bytes() == (spec_dir() / "oruk-3.0" / "LICENSE").read_bytes()
    assert "Open Referral UK" in (carried.parent.parent / "README.md").read_text(encoding="utf-8")


def test_the_package_ships_its_data_and_never_names_the_shared_folder() -> None:
    """The data folder is package data, and no product module refers to the shared folder."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "directory/data/**/*" in config["tool"]["setuptools"]["package-data"]["api"]
    assert VOCABULARY_FILE.is_file() and vocabulary().unit_name == "food parcels"
    for module in Path(schemata.__file__).parent.rglob("*.py"):
        text = module.read_text(encoding="utf-8")
        assert "/shared" not in text and "spec/oruk" not in text, module.name
