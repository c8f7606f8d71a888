"""What every page shares: the store and settings of the app, pages and their JSON twins,
signed-in users and their roles, checked forms and ids."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from models import Document, Record, User
from review.auth import (
    may,
    signed_in_user,
)
from review.settings import WebSettings

View = Callable[[Request], Coroutine[Any, Any, Response]]


def store(request: Request) -> sessionmaker[Session]:
    return request.app.state.sessions


def web_settings(request: Request) -> WebSettings:
    return request.app.state.settings


def wants_json(request: Request) -> bool:
    return request.url.path.endswith(".json") or "application/json" in request.headers.get(
        "accept", ""
    )


def render(
    request: Request, template: str, context: dict[str, Any], data: Any, status: int = 200
) -> Response:
    """The page, or its JSON twin when the path ends in ``.json``."""
    if wants_json(request):
        return JSONResponse(data, status_code=status)
    templates = request.app.state.templates
    context = {**context, "user": request.state.user, "csrftoken": csrf_token(request)}
    return templates.TemplateResponse(request, template, context, status_code=status)


def csrf_token(request: Request) -> str:
    """The session's form token, made on first use; every form posts it back."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


async def checked_form(request: Request, **limits: int) -> FormData:
    """The posted form, once its token matches the session's (the body limit has already
    been enforced on the stream by ``review.guard``)."""
    form = await request.form(**limits)
    sent, expected = form.get("csrftoken"), request.session.get("csrf")
    if not (
        isinstance(sent, str)
        and isinstance(expected, str)
        and hmac.compare_digest(sent.encode(), expected.encode())
    ):
        await form.close()
        raise HTTPException(403, "the form has expired; reload the page and try again")
    return form


def requires(action: str) -> Callable[[View], View]:
    """Every page but login needs a signed-in user allowed to ``action``."""

    def decorate(view: View) -> View:
        @wraps(view)
        async def guarded(request: Request) -> Response:
            user = await run_in_threadpool(current_user, request)
            request.state.user = user
            if user is None:
                if wants_json(request):
                    return JSONResponse({"error": "sign in first"}, status_code=401)
                return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
            if not may(user, action):
                raise HTTPException(403, f"your role ({user.role}) may not {action}")
            return await view(request)

        return guarded

    return decorate


def current_user(request: Request) -> User | None:
    token = request.session.get("sign_in")
    if not isinstance(token, str):
        return None
    with store(request).begin() as session:
        return signed_in_user(session, token)


LARGEST_ID = 2**63 - 1
"""The largest id either store can hold: a bigger number names nothing."""


def form_number(form: FormData, name: str) -> int:
    """A whole-number form field, or a 400 that names it."""
    try:
        number = int(str(form.get(name, "")))
    except ValueError:
        raise HTTPException(400, f"{name} must be a number") from None
    if not 0 < number <= LARGEST_ID:
        raise HTTPException(400, f"{name} is not an id this register could hold")
    return number


def path_id(request: Request, name: str) -> int:
    """An id from the path; one too large for the store is a page that does not exist."""
    number = int(request.path_params[name])
    if not 0 < number <= LARGEST_ID:
        raise HTTPException(404, "there is no such page")
    return number


def record_json(record: Record | None, document: Document | None) -> dict[str, Any] | None:
    """A record as the JSON twins show it: its fields, where it came from, how it was read."""
    if record is None:
        return None
    return {
        "record_id": record.id,
        "kind": record.kind,
        "code": record.code,
        "title": record.title,
        "deadline_text": record.deadline_text,
        "deadlines": record.deadlines,
        "officers": [o["text"] for o in record.officers],
        "status": record.status,
        "status_text": record.status_text,
        "page": record.page,
        "section": record.section,
        "file": document.shown_name if document else None,
        "period": document.period_label if document else None,
        "council": document.council if document else None,
        "source": f"/records/{record.id}/source.png" if record.page and record.bbox else None,
        "cells": record.cells,
        "flag_reason": record.flag_reason,
        "source_kind": record.source,
        "ocr_confidence": record.ocr_confidence,
    }
