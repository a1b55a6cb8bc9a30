"""Reading what a council hands over: an ORUK 3.0 JSON feed, its API, or a spreadsheet.

A JSON file may hold one service, a page of services (``contents``) or a list of pages (or of
services). An ORUK API base URL is paged through ``/services``; a listed service without its
``service_at_locations`` is fetched whole from ``/services/{id}``. CSV and XLSX files carry
the providers columns of the matching contract and are checked by the contract's own reader.
Whatever is wrong is collected, never only the first thing: :class:`DirectoryInputError`.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal

import httpx

from matching.io import InputError, parse_providers
from matching.models import Provider

MAX_SHEET_ROWS = 20_000
API_PAGE_SIZE = 100
MAX_API_PAGES = 1_000
HTTP_TIMEOUT_S = 30.0

Format = Literal["oruk", "csv", "xlsx"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input: which service or row, which field, what was expected."""

    source: str
    message: str
    service_id: str | None = None
    row: int | None = None
    field: str | None = None

    def where(self) -> str:
        """The service or row (or the whole file) the problem is in."""
        if self.service_id is not None:
            return f"service {self.service_id}"
        if self.row is not None:
            return f"row {self.row}"
        return self.source

    def __str__(self) -> str:
        place = self.where() if self.field is None else f"{self.where()}: {self.field}"
        return f"{place}: {self.message}"


class DirectoryInputError(ValueError):
    """The input is refused whole; ``problems`` lists everything found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the input; nothing was imported:"
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))


@dataclass(slots=True)
class Feed:
    """ORUK services read from a file or an API, and whether they are the whole directory.

    ``complete`` is true when every page of the directory is here (an API paged to the end,
    or pages 1..total_pages with total_items services): only then do sites missing from it
    close.
    """

    source: str
    services: list[Any] = field(default_factory=list)
    complete: bool = False
    format: Format = "oruk"


@dataclass(slots=True)
class Sheet:
    """Sites from a spreadsheet in the contract's providers columns (always the whole list)."""

    source: str
    format: Format
    providers: list[Provider] = field(default_factory=list)


Source = Feed | Sheet


def read_path(path: str) -> Source:
    """Read a file, or page through an ORUK API when ``path`` is an http(s) URL."""
    if path.startswith(("http://", "https://")):
        return read_api(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise DirectoryInputError(
            [Problem(path, f"cannot be read: {exc.strerror or exc}")]
        ) from None
    return read_bytes(data, path)


def read_bytes(data: bytes, name: str) -> Source:
    """Read an uploaded or local file, choosing the format by its extension (or its content)."""
    kind = _format_of(data, name)
    if kind == "xlsx":
        return Sheet(name, "xlsx", _sheet_providers(_xlsx_text(data, name), name))
    if kind == "csv":
        return Sheet(name, "csv", _sheet_providers(_decode(data, name), name))
    return feed_from_json(_json(data, name), name)


def _format_of(data: bytes, name: str) -> Format:
    suffix = Path(name).suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        return "xlsx"
    if suffix == ".csv":
        return "csv"
    if suffix == ".json":
        return "oruk"
    if suffix == ".xls":
        raise DirectoryInputError(
            [Problem(name, "is an old-style .xls workbook: save it as .xlsx or .csv")]
        )
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.lstrip()[:1] in {b"{", b"["}:
        return "oruk"
    return "csv"


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DirectoryInputError(
            [
                Problem(
                    name,
                    f"is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                    "save the file as UTF-8",
                )
            ]
        ) from None


def _json(data: bytes, name: str) -> Any:
    text = _decode(data, name)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DirectoryInputError(
            [Problem(name, f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")]
        ) from None
    except RecursionError:
        raise DirectoryInputError([Problem(name, "is not valid JSON: nested too deeply")]) from None


# --- ORUK JSON -----------------------------------------------------------------------------


def _is_page(value: Any) -> bool:
    return isinstance(value, dict) and "contents" in value


def feed_from_json(document: Any, source: str) -> Feed:
    """The services of a JSON document: one service, a page, or a list of pages or services."""
    if _is_page(document):
        pages = [document]
    elif isinstance(document, dict):
        return Feed(source, [document], complete=False)
    elif isinstance(document, list) and document and all(_is_page(p) for p in document):
        pages = document
    elif isinstance(document, list) and all(
        isinstance(s, dict) and not _is_page(s) for s in document
    ):
        return Feed(source, list(document), complete=False)
    else:
        raise DirectoryInputError(
            [
                Problem(
                    source,
                    "expected an ORUK 3.0 service, a page of services (an object with "
                    "'contents'), or a list of such pages",
                )
            ]
        )
    problems: list[Problem] = []
    services: list[Any] = []
    for number, page in enumerate(pages, start=1):
        contents = page.get("contents")
        if not isinstance(contents, list):
            where = "contents" if len(pages) == 1 else f"[{number - 1}].contents"
            problems.append(Problem(source, "expected a list of services", field=where))
            continue
        services.extend(contents)
    if problems:
        raise DirectoryInputError(problems)
    return Feed(source, services, complete=_pages_complete(pages, len(services)))


def _pages_complete(pages: list[dict[str, Any]], count: int) -> bool:
    """Whether the pages are the whole directory: 1..total_pages once each, total_items in all."""
    numbers = [p.get("page_number") for p in pages]
    totals = {p.get("total_pages") for p in pages}
    items = {p.get("total_items") for p in pages}
    if len(totals) != 1 or len(items) != 1:
        return False
    total_pages, total_items = totals.pop(), items.pop()
    if not isinstance(total_pages, int) or not isinstance(total_items, int):
        return False
    whole = [n for n in numbers if isinstance(n, int)]
    return sorted(whole) == list(range(1, total_pages + 1)) and total_items == count


def read_api(base_url: str, client: httpx.Client | None = None) -> Feed:
    """Every service of an ORUK 3.0 API: ``/services`` page by page, then whole services."""
    base = base_url.rstrip("/")
    own = client is None
    http = client or httpx.Client(timeout=HTTP_TIMEOUT_S, follow_redirects=True)
    try:
        services: list[Any] = []
        page, total_pages = 1, 1
        while page <= total_pages:
            url = f"{base}/services"
            body = _get_json(http, url, {"page": page, "per_page": API_PAGE_SIZE})
            if not _is_page(body) or not isinstance(body["contents"], list):
                raise DirectoryInputError(
                    [Problem(url, f"page {page}: expected an ORUK page of services (contents)")]
                )
            reported = body.get("total_pages")
            total_pages = reported if isinstance(reported, int) else page
            if total_pages > MAX_API_PAGES:
                raise DirectoryInputError(
                    [Problem(url, f"reports {total_pages} pages; at most {MAX_API_PAGES} are read")]
                )
            services.extend(body["contents"])
            if not body["contents"]:
                break
            page += 1
        whole = []
        for service in services:
            if isinstance(service, dict) and "service_at_locations" not in service:
                ident = service.get("id")
                if isinstance(ident, str) and ident:
                    service = _get_json(http, f"{base}/services/{ident}", None)
            whole.append(service)
        return Feed(base_url, whole, complete=True)
    finally:
        if own:
            http.close()


def _get_json(http: httpx.Client, url: str, params: dict[str, int] | None) -> Any:
    try:
        response = http.get(url, params=params)
    except httpx.HTTPError as exc:
        raise DirectoryInputError([Problem(url, f"could not be fetched: {exc}")]) from None
    if response.status_code != 200:
        raise DirectoryInputError(
            [Problem(str(response.url), f"answered HTTP {response.status_code}, expected 200")]
        )
    try:
        return response.json()
    except ValueError:
        raise DirectoryInputError([Problem(str(response.url), "did not answer JSON")]) from None


# --- spreadsheets --------------------------------------------------------------------------


def _sheet_providers(text: str, name: str) -> list[Provider]:
    try:
        return parse_providers(text, name)
    except InputError as exc:
        raise DirectoryInputError(
            [Problem(p.file, p.message, row=p.row, field=p.column) for p in exc.problems]
        ) from None


def _cell(value: Any) -> str:
    """A worksheet cell as the text a CSV file would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _xlsx_text(data: bytes, name: str) -> str:
    """The first worksheet as CSV text, row for row (so row numbers stay the sheet's)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file; all mean "unreadable"
        raise DirectoryInputError(
            [Problem(name, f"is not a readable .xlsx workbook ({type(exc).__name__})")]
        ) from None
    try:
        if not workbook.worksheets:
            raise DirectoryInputError([Problem(name, "has no worksheet")])
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for number, row in enumerate(workbook.worksheets[0].iter_rows(values_only=True), 1):
            if number > MAX_SHEET_ROWS:
                raise DirectoryInputError([Problem(name, f"has more than {MAX_SHEET_ROWS} rows")])
            cells = [_cell(v) for v in row]
            while cells and cells[-1] == "":
                cells.pop()
            writer.writerow(cells)
        return _pad_rows(out.getvalue())
    except DirectoryInputError:
        raise
    except Exception as exc:  # a damaged sheet part fails while streaming, not at open
        raise DirectoryInputError(
            [Problem(name, f"is not a readable .xlsx workbook ({type(exc).__name__})")]
        ) from None
    finally:
        workbook.close()


def _pad_rows(text: str) -> str:
    """Give every non-empty row as many cells as the header (trailing empty cells were cut)."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return ""
    width = len(rows[0])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        if any(cell.strip() for cell in row) and len(row) < width:
            row = row + [""] * (width - len(row))
        writer.writerow(row)
    return out.getvalue()
