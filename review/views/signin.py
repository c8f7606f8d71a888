"""Signing in and out, and the admin page of users."""

from __future__ import annotations

import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from models import User
from review.auth import (
    ROLES,
    UserError,
    add_user,
    authenticate,
    end_sign_in,
    set_disabled,
    set_password,
    set_role,
    start_sign_in,
    user_rows,
)
from review.throttle import SignInThrottle
from review.views.common import (
    checked_form,
    render,
    requires,
    store,
)


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def safe_next(target: str) -> str:
    """Where to go after signing in: a path on this server, never another host
    (``//evil``, ``/\\evil`` and ``/%5Cevil`` all leave it in some browser)."""
    if re.fullmatch(r"/(?:[A-Za-z0-9][A-Za-z0-9/_.\-]*)?", target) and "//" not in target:
        return target
    return "/queue"


async def login(request: Request) -> Response:
    request.state.user = None
    error = None
    if request.method == "POST":
        form = await checked_form(request)
        name, password = str(form.get("name", "")), str(form.get("password", ""))
        throttle: SignInThrottle = request.app.state.throttle
        address = _address(request)
        wait = throttle.retry_after(name, address)
        if wait is not None:
            return _too_many(request, wait, "Too many wrong passwords; try again later.")

        def check() -> str | None:
            with throttle.hashing() as turn:
                if not turn:
                    raise _Busy
                with store(request).begin() as session:
                    user = authenticate(session, name, password)
                    return start_sign_in(session, user, address) if user else None

        try:
            token = await run_in_threadpool(check)
        except _Busy:
            return _too_many(request, 5, "The server is busy signing people in; try again.")
        if token is not None:
            request.session.clear()
            request.session["sign_in"] = token
            return RedirectResponse(
                safe_next(str(request.query_params.get("next", "/queue"))), status_code=303
            )
        throttle.failed(name, address)
        error = "That name and password do not match."
    status = 400 if error else 200
    return render(request, "login.html", {"error": error}, {"error": error}, status)


class _Busy(Exception):
    """Every password-hashing turn was taken for longer than a sign-in waits."""


def _too_many(request: Request, seconds: int, message: str) -> Response:
    response = render(request, "login.html", {"error": message}, {"error": message}, 429)
    response.headers["Retry-After"] = str(seconds)
    return response


async def logout(request: Request) -> Response:
    await checked_form(request)
    token = request.session.get("sign_in")
    if isinstance(token, str):

        def end() -> None:
            with store(request).begin() as session:
                end_sign_in(session, token)

        await run_in_threadpool(end)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@requires("review")
async def home(request: Request) -> Response:
    return RedirectResponse("/queue", status_code=303)


USER_ACTIONS = ("add", "disable", "enable", "set-role", "reset-password")


@requires("administer")
async def users(request: Request) -> Response:
    """Who may sign in: the same changes as ``councilreg users``, each ending the user's
    sign-ins where it should. An admin cannot disable or demote themselves."""
    me: User = request.state.user
    notice = error = None
    status = 200
    if request.method == "POST":
        form = await checked_form(request)
        action, name = str(form.get("action", "")), str(form.get("name", "")).strip()
        role, password = str(form.get("role", "")), str(form.get("password", ""))
        if action not in USER_ACTIONS:
            raise HTTPException(400, f"action must be one of {', '.join(USER_ACTIONS)}")

        def change() -> str:
            with store(request).begin() as session:
                if name == me.name and action in {"disable", "set-role"} and role != me.role:
                    raise UserError("you cannot disable or demote yourself; ask another admin")
                if action == "add":
                    add_user(session, name, password, role)
                    return f"added {role} {name}"
                if action in {"disable", "enable"}:
                    set_disabled(session, name, action == "disable")
                    return f"{action}d {name}"
                if action == "set-role":
                    set_role(session, name, role)
                    return f"{name} is now {role}; their sign-ins have ended"
                set_password(session, name, password)
                return f"set the password of {name}; their sign-ins have ended"

        try:
            notice = await run_in_threadpool(change)
        except UserError as failure:
            error, status = str(failure), 400

    def load() -> list[dict[str, Any]]:
        with store(request)() as session:
            return user_rows(session)

    rows = await run_in_threadpool(load)
    context = {"users": rows, "roles": ROLES, "notice": notice, "error": error}
    return render(
        request, "users.html", context, {"users": rows, "notice": notice, "error": error}, status
    )
