"""Security headers on every response: a pure ASGI middleware, cheap enough for the hot path.

- `X-Content-Type-Options: nosniff`: browsers take a response for the type it declares (a JSON
  body that happens to look like HTML is not rendered as a page).
- `X-Frame-Options: DENY`: no page of the bank may be framed by another site (clickjacking).
  Swagger UI and ReDoc are pages of their own, not frames, and keep working.
- `Referrer-Policy: no-referrer`: a link followed from the docs tells nobody where it came from.

Nothing else in the app sets these headers, so they are appended without looking for them.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
_RAW_HEADERS = [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]


class SecurityHeadersMiddleware:
    """Adds `SECURITY_HEADERS` to the start of every HTTP response that passes through it.

    The one response that does not, the 500 that Starlette's outermost error middleware sends,
    gets them from the app's handler for unexpected errors.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *_RAW_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)
