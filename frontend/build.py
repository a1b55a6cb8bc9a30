"""Copy the published GOV.UK Frontend files the pages use into ``api/web/static/govuk``.

Run by ``make`` after ``npm ci`` (in this folder) has installed the version that
``package-lock.json`` pins; the copies ship in the wheel with the rest of the pages' files.
Only two files are taken: the compiled stylesheet and the compiled script. One change is made
to the stylesheet: its ``@font-face`` rules for GDS Transport are left out, because that
typeface may be used only by services on GOV.UK itself; the stylesheet's own fallback (Arial,
then the system sans-serif) is used instead, as the Design System asks of other services.
GOV.UK Frontend is MIT-licensed (Crown copyright); see ``api/web/static/govuk/NOTICE.md``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "node_modules" / "govuk-frontend"
TARGET = HERE.parent / "api" / "web" / "static" / "govuk"
FONT_FACE = re.compile(r"@font-face\{font-family:GDS Transport;[^}]*\}")


def main() -> int:
    """Copy and check; a missing install is one clear line and exit status 1."""
    if not (SOURCE / "package.json").exists():
        print("error: GOV.UK Frontend is not installed; run `npm ci` in frontend/ (or `make`)",
              file=sys.stderr)  # fmt: skip
        return 1
    version = json.loads((SOURCE / "package.json").read_text())["version"]
    pinned = json.loads((HERE / "package.json").read_text())["dependencies"]["govuk-frontend"]
    if version != pinned:
        print(f"error: frontend/node_modules has govuk-frontend {version}, package.json pins "
              f"{pinned}; run `npm ci` in frontend/", file=sys.stderr)  # fmt: skip
        return 1
    dist = SOURCE / "dist" / "govuk"
    css = (dist / "govuk-frontend.min.css").read_text(encoding="utf-8")
    css, faces = FONT_FACE.subn("", css)
    if faces == 0 or "GDS Transport;" in css.replace("font-family:GDS Transport,", ""):
        print("error: the stylesheet's font rules were not found as expected", file=sys.stderr)
        return 1
    css = re.sub(r"/\*# sourceMappingURL=[^*]*\*/\s*$", "", css)
    script = (dist / "govuk-frontend.min.js").read_text(encoding="utf-8")
    script = re.sub(r"//# sourceMappingURL=\S*\s*$", "", script)
    TARGET.mkdir(parents=True, exist_ok=True)
    (TARGET / "govuk-frontend.min.css").write_text(css, encoding="utf-8")
    (TARGET / "govuk-frontend.min.js").write_text(script, encoding="utf-8")
    (TARGET / "VERSION").write_text(version + "\n", encoding="utf-8")
    print(f"GOV.UK Frontend {version} copied to {TARGET.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
