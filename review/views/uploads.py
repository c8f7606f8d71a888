"""Uploading committee packs, each upload's progress, and past uploads."""

from __future__ import annotations

import datetime as dt

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from ingest.engine import submit_files
from ingest.jobs import (
    job_history,
    job_progress,
    run_job_here,
    submit_job,
    waiting_largest_first,
)
from ingest.unit import IngestOptions
from ingest.uploads import StagedUpload, UploadRejected, stage_upload
from models import IngestJob, User
from parsers.periods import parse_period_label
from review.settings import WebSettings
from review.views.common import (
    checked_form,
    render,
    requires,
    store,
    wants_json,
    web_settings,
)

UPLOAD_FIELDS = ("council", "committee", "meeting_date", "period")


def _upload_options(form: dict[str, str], settings: WebSettings) -> IngestOptions:
    """The form's fields as ingest options; a wrong field is a 400 that names it."""
    period = parse_period_label(form["period"]) if form["period"] else None
    if form["period"] and period is None:
        raise UploadRejected(
            f"period {form['period']!r} is not a financial year; write it like 2017/18"
        )
    meeting: dt.date | None = None
    if form["meeting_date"]:
        try:
            meeting = dt.date.fromisoformat(form["meeting_date"])
        except ValueError:
            raise UploadRejected(
                f"meeting date {form['meeting_date']!r} is not a date like 2012-03-31"
            ) from None
    for name in ("council", "committee"):
        if len(form[name]) > 200:
            raise UploadRejected(f"{name} is longer than 200 characters")
    return IngestOptions(
        council=form["council"] or None,
        committee=form["committee"] or None,
        period=period,
        meeting_date=meeting,
        max_file_bytes=settings.limits.max_file_bytes,
    )


@requires("upload")
async def upload(request: Request) -> Response:
    settings = web_settings(request)
    if request.method == "GET":
        return render(
            request, "upload.html", {"error": None, "form": {}}, {"fields": UPLOAD_FIELDS}
        )
    form = await checked_form(request, max_files=settings.limits.max_zip_entries, max_fields=20)
    fields = {name: str(form.get(name, "")).strip() for name in UPLOAD_FIELDS}
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    try:
        options = _upload_options(fields, settings)
        if not files:
            raise UploadRejected("choose one or more files, or a .zip of a committee pack")
        staged: StagedUpload = await run_in_threadpool(
            stage_upload,
            [(f.filename or "upload", f.file) for f in files],
            settings.upload_dir,
            settings.limits,
        )
    except UploadRejected as error:
        return render(
            request,
            "upload.html",
            {"error": str(error), "form": fields},
            {"error": str(error)},
            400,
        )
    finally:
        await form.close()
    user: User = request.state.user

    def submit() -> tuple[dict[str, object], list[int]]:
        with store(request).begin() as session:
            job = submit_job(session, staged.accepted, options, "upload", user.id, staged.refused)
            return job_progress(job), waiting_largest_first(job)

    progress, waiting = await run_in_threadpool(submit)
    job_id = str(progress["id"])
    task = None
    if request.app.state.engine is not None:
        await run_in_threadpool(submit_files, request.app.state.engine, waiting)
    else:
        task = BackgroundTask(
            run_job_here, store(request), job_id, settings.batch, settings.matching
        )
    if wants_json(request):
        return JSONResponse(progress, status_code=202, background=task)
    return RedirectResponse(f"/uploads/{job_id}", status_code=303, background=task)


@requires("upload")
async def upload_status(request: Request) -> Response:
    def load() -> dict[str, object] | None:
        with store(request)() as session:
            job = session.get(IngestJob, str(request.path_params["job_id"])[:32])
            return job_progress(job) if job is not None else None

    progress = await run_in_threadpool(load)
    if progress is None:
        raise HTTPException(404, "there is no such upload")
    return render(request, "upload_status.html", {"job": progress}, progress)


@requires("upload")
async def upload_history(request: Request) -> Response:
    """Past uploads and queued batches: who, when, which files, what came of them."""

    def load() -> list[dict[str, object]]:
        with store(request)() as session:
            return job_history(session)

    jobs = await run_in_threadpool(load)
    return render(request, "uploads.html", {"jobs": jobs}, {"jobs": jobs})
