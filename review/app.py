"""The review web app: routes, sessions, the request guard, plain error pages.

``create_app`` builds it from resolved settings; ``councilreg review`` serves it with uvicorn.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp

from ingest.engine import make_engine
from ingest.jobs import run_job_here, unfinished_jobs
from models import open_store
from review import views
from review.guard import FORM_LIMIT, RequestGuard
from review.settings import WebSettings
from review.throttle import SignInThrottle

HERE = Path(__file__).parent
log = logging.getLogger(__name__)

ROUTES = [
    Route("/login", views.login, methods=["GET", "POST"]),
    Route("/logout", views.logout, methods=["POST"]),
    Route("/", views.home),
    Route("/queue", views.queue),
    Route("/queue.json", views.queue),
    Route("/queue/next", views.next_review, methods=["POST"]),
    Route("/users", views.users, methods=["GET", "POST"]),
    Route("/users.json", views.users),
    Route("/queue/decide", views.decide, methods=["POST"]),
    Route("/queue/undo", views.undo_last, methods=["POST"]),
    Route("/flags", views.flags),
    Route("/flags.json", views.flags),
    Route("/flags/settle", views.settle, methods=["POST"]),
    Route("/items", views.items),
    Route("/items.json", views.items),
    Route("/items/{item_id:int}", views.item),
    Route("/items/{item_id:int}.json", views.item),
    Route("/records/{record_id:int}/source.png", views.record_source),
    Route("/records/{record_id:int}/page.png", views.record_page),
    Route("/export/register.csv", views.export_register),
    Route("/export/occurrences.csv", views.export_occurrences),
    Route("/upload", views.upload, methods=["GET", "POST"]),
    Route("/upload.json", views.upload, methods=["GET", "POST"]),
    Route("/uploads", views.upload_history),
    Route("/uploads.json", views.upload_history),
    Route("/uploads/{job_id}.json", views.upload_status),
    Route("/uploads/{job_id}", views.upload_status),
    Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
]


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    return _plain(request, error.status_code, error.detail)


async def _server_error(request: Request, error: Exception) -> Response:
    log.exception("unexpected error on %s", request.url.path, exc_info=error)
    return _plain(
        request, 500, "Something went wrong on the server; it has been logged. Try again."
    )


def _plain(request: Request, status: int, message: str) -> Response:
    if views.wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "status": status,
            "message": message,
            "user": getattr(request.state, "user", None),
            "csrftoken": views.csrf_token(request),
        },
        status_code=status,
    )


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    """Jobs a previous run of the server left unfinished are finished here, when no task
    engine holds them; the store's connections close with the server."""
    if app.state.engine is None:
        with app.state.sessions() as session:
            waiting = unfinished_jobs(session)
        if waiting:
            threading.Thread(target=_finish_jobs, args=(app.state, waiting), daemon=True).start()
    yield
    app.state.sessions.kw["bind"].dispose()


def _finish_jobs(state: State, job_ids: list[str]) -> None:
    settings: WebSettings = state.settings
    for job_id in job_ids:
        run_job_here(state.sessions, job_id, settings.batch, settings.matching)


def create_app(settings: WebSettings) -> ASGIApp:
    app = Starlette(
        lifespan=_lifespan,
        routes=ROUTES,
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=settings.secret_key,
                session_cookie="councilreg_session",
                max_age=12 * 3600,
                same_site="lax",
                https_only=settings.https_only,
            )
        ],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    app.state.settings = settings
    app.state.sessions = open_store(settings.database_url)
    app.state.templates = Jinja2Templates(directory=HERE / "templates")
    app.state.engine = (
        make_engine(settings.broker_url, settings.database_url, settings.batch.time_limit)
        if settings.broker_url
        else None
    )
    app.state.throttle = SignInThrottle(settings.throttle)
    settings.upload_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    uploads = {"/upload", "/upload.json"}

    def limit_for(path: str) -> int:
        return settings.limits.max_upload_bytes if path in uploads else FORM_LIMIT

    return RequestGuard(app, limit_for, https=settings.https_only)
