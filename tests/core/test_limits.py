"""The body-size middleware on its own, driven with raw ASGI messages."""

import asyncio
import json
from typing import Any

import pytest
from starlette.exceptions import HTTPException

from app.core.limits import BodySizeLimitMiddleware

Message = dict[str, Any]


def run(
    middleware: BodySizeLimitMiddleware, scope: dict[str, Any], chunks: list[bytes]
) -> list[Message]:
    sent: list[Message] = []
    incoming: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(middleware(scope, receive, send))  # type: ignore[arg-type]
    return sent


def http_scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "method": "POST", "path": "/", "headers": headers}


async def reading_app(scope: Any, receive: Any, send: Any) -> None:
    """Reads the whole body, then answers 200 with its length."""
    total = 0
    while True:
        message = await receive()
        total += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(total).encode()})


def test_declared_length_over_the_limit_is_refused_without_calling_the_app() -> None:
    called: list[bool] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover - not called
        called.append(True)

    sent = run(
        BodySizeLimitMiddleware(app, max_bytes=10), http_scope([(b"content-length", b"11")]), [b""]
    )
    assert called == []
    start, body = sent
    assert start["status"] == 413
    headers = dict(start["headers"])
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"connection"] == b"close"
    assert int(headers[b"content-length"]) == len(body["body"])
    assert json.loads(body["body"]) == {"detail": "Request body too large (limit 10 bytes)"}


def test_declared_length_at_the_limit_is_let_through() -> None:
    sent = run(
        BodySizeLimitMiddleware(reading_app, max_bytes=10),
        http_scope([(b"content-length", b"10")]),
        [b"0123456789"],
    )
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == b"10"


def test_streamed_body_over_the_limit_raises_413_while_read() -> None:
    middleware = BodySizeLimitMiddleware(reading_app, max_bytes=10)
    with pytest.raises(HTTPException) as raised:
        run(middleware, http_scope([]), [b"012345", b"6789", b"X"])
    assert raised.value.status_code == 413
    assert raised.value.detail == "Request body too large (limit 10 bytes)"


def test_streamed_body_within_the_limit_is_passed_on() -> None:
    sent = run(
        BodySizeLimitMiddleware(reading_app, max_bytes=10),
        http_scope([]),
        [b"0123", b"4567", b"89"],
    )
    assert sent[1]["body"] == b"10"


def test_unparseable_content_length_falls_back_to_counting() -> None:
    middleware = BodySizeLimitMiddleware(reading_app, max_bytes=10)
    sent = run(middleware, http_scope([(b"content-length", b"lots")]), [b"0123"])
    assert sent[1]["body"] == b"4"
    with pytest.raises(HTTPException):
        run(middleware, http_scope([(b"content-length", b"lots")]), [b"0123456789AB"])


def test_lying_content_length_is_still_counted() -> None:
    middleware = BodySizeLimitMiddleware(reading_app, max_bytes=10)
    with pytest.raises(HTTPException):
        run(middleware, http_scope([(b"content-length", b"2")]), [b"0123456789", b"AB"])


def test_non_http_scopes_pass_straight_through() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])
        await send({"type": "lifespan.startup.complete"})

    sent = run(BodySizeLimitMiddleware(app, max_bytes=10), {"type": "lifespan"}, [])
    assert seen == ["lifespan"]
    assert sent == [{"type": "lifespan.startup.complete"}]


def test_other_messages_are_passed_on_without_counting() -> None:
    received: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        received.append((await receive())["type"])
        await send({"type": "http.response.start", "status": 204, "headers": []})

    sent = run(BodySizeLimitMiddleware(app, max_bytes=10), http_scope([]), [])
    assert received == ["http.disconnect"]
    assert sent[0]["status"] == 204
