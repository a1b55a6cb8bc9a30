"""The interactive API reference at ``/docs`` (Swagger UI) and ``/redoc``, served by this service.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so on a council network without
internet access they are blank. The scripts here come from the ``fastapi-offline`` package
(MIT), which ships Swagger UI 5 (it reads OpenAPI 3.1, which FastAPI writes) and ReDoc 2;
they are served under ``/docs/assets/``. The pages are this module's own rather than that
package's, because its pages start Swagger UI with an inline script: these load only this
site's files, so the script policy of every other page holds (``script-src 'self'``).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response

from api.core.errors import ProblemError

ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
"""The shipped files the pages use, with their media types."""

START_SCRIPT = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
"""
"""Starts Swagger UI on this service's OpenAPI document (served as a file: no inline script).
Sign-in is by pasting a token from ``POST /auth/token`` under "Authorize"."""

SWAGGER_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - API reference</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/start.js"></script>
</body>
</html>
"""

REDOC_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - API reference</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon.png">
</head>
<body>
<redoc spec-url="/openapi.json"></redoc>
<script src="/docs/assets/redoc.standalone.js"></script>
</body>
</html>
"""

DOCS_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; worker-src 'self' blob:; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; "
    "object-src 'none'"
)
"""The docs' content policy: this site's scripts only; both tools set inline styles and ReDoc
searches in a worker it starts from a blob."""


def asset_path(name: str) -> Path | None:
    """The file of a Swagger UI asset, or None for a name that is not one of :data:`ASSETS`."""
    if name not in ASSETS:
        return None
    return Path(str(files("fastapi_offline") / "static" / name))


def install_api_docs(app: FastAPI) -> None:
    """Serve ``/docs``, ``/redoc`` and their assets from this process.

    Call on an app created with ``docs_url=None, redoc_url=None``.
    """

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        """The Swagger UI page for this service's OpenAPI document (try requests out)."""
        return _page(SWAGGER_PAGE, app.title)

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        """The ReDoc page for this service's OpenAPI document (read it as a reference)."""
        return _page(REDOC_PAGE, app.title)

    @app.get("/docs/assets/start.js", include_in_schema=False)
    def start_script() -> Response:
        """The script that starts Swagger UI on ``/openapi.json``."""
        return Response(START_SCRIPT, media_type="text/javascript")

    @app.get("/docs/assets/{name}", include_in_schema=False)
    def asset(name: str) -> Response:
        """One file of the Swagger UI release (404 for any other name)."""
        return _asset(name)


def _page(template: str, title: str) -> HTMLResponse:
    """One of the reference pages, under the docs' content policy."""
    return HTMLResponse(
        template.format(title=title), headers={"Content-Security-Policy": DOCS_POLICY}
    )


def _asset(name: str) -> Response:
    """A Swagger UI file with its media type, cacheable for a day; a 404 problem otherwise."""
    path = asset_path(name)
    if path is None or not path.is_file():
        raise ProblemError(404, f"The API reference has no file named {name!r}.")
    headers = {"Cache-Control": "public, max-age=86400"}
    return FileResponse(path, media_type=ASSETS[name], headers=headers)
