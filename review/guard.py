"""What stands in front of every route, before sign-in and before any body is parsed.

* **Body limits on the stream**: a request body is counted as it arrives (chunked bodies
  included) and refused with 413 the moment it passes its route's limit — small for forms,
  the upload limit for uploads. Nothing is buffered here.
* **Cross-origin refusal**: an unsafe request a browser marks as cross-site
  (``Sec-Fetch-Site``) or whose ``Origin`` is not this host gets 403, as Go's
  ``CrossOriginProtection`` and Django do. The per-session token each form carries is
  checked by the handler, after the limit (``review.views.common.checked_form``).
* **Headers** on every response: a strict Content-Security-Policy (no inline script, no
  framing), ``nosniff``, ``Referrer-Policy``, HSTS behind HTTPS.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_LIMIT = 64 * 1024
"""Every form but an upload is a few fields: 64 KB is generous."""
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class RequestGuard:
    """ASGI middleware: body limits, cross-origin refusal and security headers."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int], https: bool) -> None:
        self.app, self.limit_for, self.https = app, limit_for, https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        secured_send = self._with_headers(send)
        if scope["method"] in UNSAFE and _cross_origin(headers):
            await PlainTextResponse("cross-origin request refused", 403)(
                scope, receive, secured_send
            )
            return
        limit = self.limit_for(scope["path"])
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, secured_send)
            return
        received = 0
        started = refused = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Answer now and tell the app the client is gone: nothing more is read.
                    refused = True
                    if not started:
                        await _too_large(limit)(scope, receive, secured_send)
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await secured_send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except ClientDisconnect:
            if not refused:
                raise

    def _with_headers(self, send: Send) -> Send:
        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
                headers["X-Frame-Options"] = "DENY"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                if self.https:
                    headers["Strict-Transport-Security"] = "max-age=31536000"
            await send(message)

        return secured


def _too_large(limit: int) -> PlainTextResponse:
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    return PlainTextResponse(
        f"the request body is larger than the {size} limit", 413, headers={"Connection": "close"}
    )


def _cross_origin(headers: Headers) -> bool:
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site not in {"same-origin", "none"}
    origin = headers.get("origin")
    if origin is None or origin == "null":
        return origin == "null"
    return urlsplit(origin).netloc != headers.get("host", "")
