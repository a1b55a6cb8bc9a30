"""Small postcode directories made here in the two published formats councils hold.

- :func:`onspd_csv`: an ONS Postcode Directory CSV with the published header (``pcd``,
  ``pcd2``, ``pcds``, ... ``doterm``, ... ``lat``, ``long``, ...), 7-character ``pcd``,
  ``YYYYMM`` termination dates and ``99.999999``/``0.000000`` for "no grid reference";
  :func:`onspd_zip` puts it in a zip as ``Data/ONSPD_<month>_UK.csv`` beside a user guide.
- :func:`code_point_zip`: an OS Code-Point Open zip: ``Doc/`` column headers and one
  header-less ``Data/CSV/<area>.csv`` per postcode area, with British National Grid eastings
  and northings.

The positions are made up near real district centres; no real directory data is copied.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

ONSPD_HEADER = [
    "pcd",
    "pcd2",
    "pcds",
    "dointr",
    "doterm",
    "oscty",
    "ced",
    "oslaua",
    "osward",
    "parish",
    "usertype",
    "oseast1m",
    "osnrth1m",
    "osgrdind",
    "oshlthau",
    "nhser",
    "ctry",
    "rgn",
    "streg",
    "pcon",
    "eer",
    "teclec",
    "ttwa",
    "pct",
    "itl",
    "statsward",
    "oa01",
    "casward",
    "npark",
    "lsoa01",
    "msoa01",
    "ur01ind",
    "oac01",
    "oa11",
    "lsoa11",
    "msoa11",
    "wz11",
    "sicbl",
    "bua24",
    "ru11ind",
    "oac11",
    "lat",
    "long",
    "lep1",
    "lep2",
    "pfa",
    "imd",
    "calncv",
    "icb",
    "oa21",
    "lsoa21",
    "msoa21",
]

LIVE = {
    "LS8 1AA": (53.8201, -1.5120),  # about 1 km from LS8's district centre
    "LS8 1AB": (53.8215, -1.5101),
    "LS9 7AB": (53.7990, -1.5220),
    "LS9 6NP": (53.7984, -1.5031),
    "EH1 1AA": (55.9500, -3.1900),
}
TERMINATED = {"LS8 2ZZ": ("201505", 53.8260, -1.5000)}
NO_POSITION = ["LS1 1ZZ"]


def _row(postcode: str, lat: float, lon: float, end: str = "") -> list[str]:
    values = dict.fromkeys(ONSPD_HEADER, "")
    outward, inward = postcode.split()
    values.update(
        pcd=f"{outward:<4}{inward}"[:7] if len(outward) < 4 else outward + inward,
        pcd2=f"{outward:<5}{inward}",
        pcds=postcode,
        dointr="198001",
        doterm=end,
        ctry="E92000001" if not postcode.startswith("EH") else "S92000003",
        lat=f"{lat:.6f}",
        long=f"{lon:.6f}",
    )
    return [values[c] for c in ONSPD_HEADER]


def onspd_text(extra_rows: list[list[str]] | None = None) -> str:
    """The CSV text of the small ONSPD."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ONSPD_HEADER)
    for postcode, (lat, lon) in LIVE.items():
        writer.writerow(_row(postcode, lat, lon))
    for postcode, (end, lat, lon) in TERMINATED.items():
        writer.writerow(_row(postcode, lat, lon, end))
    for postcode in NO_POSITION:
        writer.writerow(_row(postcode, 99.999999, 0.0))
    for row in extra_rows or []:
        writer.writerow(row)
    return out.getvalue()


def onspd_csv(folder: Path) -> Path:
    """The small ONSPD as a CSV file."""
    path = folder / "ONSPD_NOV_2026_UK.csv"
    path.write_text(onspd_text(), encoding="utf-8")
    return path


def onspd_zip(folder: Path) -> Path:
    """The small ONSPD as published: a zip with the CSV under ``Data/``."""
    path = folder / "ONSPD_NOV_2026.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Data/ONSPD_NOV_2026_UK.csv", onspd_text())
        archive.writestr("Documents/ONSPD User Guide.txt", "User guide\n")
        archive.writestr("Documents/LA_UA names and codes UK as at 04_25.csv", "LAD25CD,NM\n")
    return path


CODE_POINT_HEADERS = (
    "Postcode,Positional_quality_indicator,Eastings,Northings,Country_code,NHS_regional_HA_code,"
    "NHS_HA_code,Admin_county_code,Admin_district_code,Admin_ward_code\n"
)
CODE_POINT = {
    "ls": [
        ("LS8 1AA", 432224, 436091),  # the position of LS8 1AA above, on the National Grid
        ("LS8 1AB", 432350, 436250),
        ("LS9 7AB", 431600, 433600),
    ],
    "eh": [("EH1 1AA", 325900, 673800)],
}


def code_point_zip(folder: Path) -> Path:
    """The small Code-Point Open as published (``codepo_gb.zip``)."""
    path = folder / "codepo_gb.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Doc/Code-Point_Open_Column_Headers.csv", CODE_POINT_HEADERS)
        archive.writestr("Doc/licence.txt", "Open Government Licence\n")
        for area, rows in CODE_POINT.items():
            text = "".join(
                f'"{pc}",10,{east},{north},"E92000001","E19000001","E18000003","","E08000035",'
                '"E05011412"\r\n'
                for pc, east, north in rows
            )
            archive.writestr(f"Data/CSV/{area}.csv", text)
    return path
