"""CORS for the public ORUK API only: ``Access-Control-Allow-Origin: *`` under ``/oruk``.

ORUK asks every response of a feed to carry the header, so browser pages anywhere can read
it. Starlette's ``CORSMiddleware`` answers preflight requests and requests with an ``Origin``;
responses to requests without one get the header added here. Nothing outside ``/oruk`` is
touched: the signed-in API stays same-origin.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIX = "/oruk"
ALLOW_ORIGIN = (b"access-control-allow-origin", b"*")


class OrukCorsMiddleware:
    """Apply open CORS to ``/oruk`` and ``/oruk/...`` (GET and HEAD, no credentials)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "HEAD"],
            allow_headers=["*"],
            max_age=86400,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == ALLOW_ORIGIN[0] for name, _ in headers):
                    headers.append(ALLOW_ORIGIN)
                message = {**message, "headers": headers}
            await send(message)

        await self.cors(scope, receive, send_with_header)
