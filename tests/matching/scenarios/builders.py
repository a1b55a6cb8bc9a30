"""Small hand-made households and sites for the scenario tests (all in LS9 unless told)."""

from __future__ import annotations

from pathlib import Path

from matching.models import Provider, Referral, Urgency

REPO = Path(__file__).resolve().parents[3]
LS9 = (53.796771, -1.50574)  # the LS9 district centroid in the shipped postcode table


def referral(rid: str, **kw: object) -> Referral:
    fields: dict[str, object] = {
        "referral_id": rid,
        "latitude": LS9[0],
        "longitude": LS9[1],
        "household_size": 1,
        "urgency": Urgency.STANDARD,
        "outcode": "LS9",
    }
    fields.update(kw)
    return Referral(**fields)  # type: ignore[arg-type]


def provider(pid: str, capacity: int = 1, **kw: object) -> Provider:
    fields: dict[str, object] = {
        "provider_id": pid,
        "name": f"Site {pid}",
        "latitude": LS9[0],
        "longitude": LS9[1],
        "capacity": capacity,
        "outcode": "LS9",
    }
    fields.update(kw)
    return Provider(**fields)  # type: ignore[arg-type]


def write(tmp_path: Path, text: str) -> Path:
    """A scenario file (with empty base CSVs beside it) holding ``[base]`` and ``text``."""
    (tmp_path / "referrals.csv").write_text("referral_id\n")
    (tmp_path / "providers.csv").write_text("provider_id\n")
    path = tmp_path / "scenarios.toml"
    path.write_text('[base]\nreferrals = "referrals.csv"\nproviders = "providers.csv"\n' + text)
    return path
