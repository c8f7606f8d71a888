"""Thin views: read the request, call ``corpus`` or ``ingest``, shape HTML or its JSON twin."""

from __future__ import annotations

import datetime as dt
import difflib
import hmac
import re
import secrets
from collections.abc import Callable, Coroutine
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from corpus.export import (
    OCCURRENCE_COLUMNS,
    REGISTER_COLUMNS,
    canonical_id,
    csv_chunks,
    occurrence_rows,
    parse_canonical_id,
    register_rows,
)
from corpus.normalise import normalise_text
from corpus.queries import (
    ItemFilter,
    count_items,
    facets,
    item_history,
    matching_item_ids,
    search_items,
)
from corpus.review import (
    PendingReview,
    ReviewError,
    apply_decision,
    claim,
    decided_since,
    flagged_records,
    held_review,
    last_decision,
    pending_count,
    pending_reviews,
    release,
    settle_flag,
    undo,
)
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
from models import Document, IngestJob, Link, Record, User
from parsers import ParseError
from parsers.periods import parse_period_label
from parsers.render import render_region
from review.auth import (
    ROLES,
    UserError,
    add_user,
    authenticate,
    end_sign_in,
    may,
    set_disabled,
    set_password,
    set_role,
    signed_in_user,
    start_sign_in,
    user_rows,
)
from review.settings import WebSettings
from review.throttle import SignInThrottle

View = Callable[[Request], Coroutine[Any, Any, Response]]


def _sessions(request: Request) -> sessionmaker[Session]:
    return request.app.state.sessions


def _settings(request: Request) -> WebSettings:
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
            user = await run_in_threadpool(_current_user, request)
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


def _current_user(request: Request) -> User | None:
    token = request.session.get("sign_in")
    if not isinstance(token, str):
        return None
    with _sessions(request).begin() as session:
        return signed_in_user(session, token)


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
                with _sessions(request).begin() as session:
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
            with _sessions(request).begin() as session:
                end_sign_in(session, token)

        await run_in_threadpool(end)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@requires("review")
async def home(request: Request) -> Response:
    return RedirectResponse("/queue", status_code=303)


def _record_json(record: Record | None, document: Document | None) -> dict[str, Any] | None:
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


def diff_words(left: str, right: str) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """Words of each text marked True where they differ from the other."""
    a, b = left.split(), right.split()
    marks_a, marks_b = [True] * len(a), [True] * len(b)
    keys_a, keys_b = [normalise_text(w) for w in a], [normalise_text(w) for w in b]
    for block in difflib.SequenceMatcher(None, keys_a, keys_b).get_matching_blocks():
        for i in range(block.size):
            marks_a[block.a + i] = marks_b[block.b + i] = False
    return list(zip(a, marks_a, strict=True)), list(zip(b, marks_b, strict=True))


def _review_json(review: PendingReview) -> dict[str, Any]:
    return {
        "link_id": review.link_id,
        "score": review.score,
        "breakdown": review.breakdown,
        "record": _record_json(review.record, review.document),
        "item": {
            "id": canonical_id(review.item.id),
            "title": review.item.title,
            "latest": _record_json(review.item_record, review.item_document),
        },
    }


FIELD_WORDS = {
    "title": "title",
    "containment": "title words kept",
    "code": "code",
    "indicators": "indicators cited",
    "officers": "lead officer",
    "swapped_words": "a key word swapped",
    "section": "section",
    "period_gap": "years between",
}
"""The comparisons of `corpus.comparisons`, as a reviewer reads them."""


@requires("review")
async def queue(request: Request) -> Response:
    user: User = request.state.user
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)

    def load() -> tuple[PendingReview | None, int, bool, int]:
        with _sessions(request)() as session:
            return (
                held_review(session, user),
                pending_count(session),
                last_decision(session, user) is not None,
                decided_since(session, user, today),
            )

    review, remaining, can_undo, decided = await run_in_threadpool(load)
    matching = _settings(request).matching
    notice = request.session.pop("notice", None)
    data = {
        "pending": remaining,
        "decided_today": decided,
        "notice": notice,
        "review": _review_json(review) if review else None,
        "can_undo": can_undo,
        "thresholds": {"auto": matching.auto, "review": matching.review},
    }
    context: dict[str, Any] = {
        "review": review,
        "pending": remaining,
        "decided_today": decided,
        "notice": notice,
        "can_undo": can_undo,
        "matching": matching,
    }
    if review is not None:
        left, right = diff_words(
            review.record.title, review.item_record.title if review.item_record else ""
        )
        fields = review.breakdown.get("fields")
        fields = fields if isinstance(fields, dict) else {}
        context.update(
            left_title=left,
            right_title=right,
            fields=[(FIELD_WORDS.get(name, name), part) for name, part in fields.items()],
            rival_item=review.breakdown.get("rival_item"),
        )
    return render(request, "queue.html", context, data)


@requires("review")
async def decide(request: Request) -> Response:
    user: User = request.state.user
    form = await checked_form(request)
    link_id = form_number(form, "link_id")
    verdict = str(form.get("verdict", ""))
    if verdict == "skip":
        request.session["skipped"] = [*request.session.get("skipped", [])[-200:], link_id]

        def give_back() -> None:
            with _sessions(request).begin() as session:
                release(session, link_id, user)

        await run_in_threadpool(give_back)
        return await _after_decision(request, {"skipped": link_id})
    target_text = str(form.get("target", "")).strip()
    target = parse_canonical_id(target_text) if target_text else None
    if verdict == "move" and target is None:
        raise HTTPException(400, "say which item to link to, e.g. CR-000042")
    if verdict != "move" and target_text:
        raise HTTPException(400, f"an item was typed ({target_text}); use Link to item for it")

    def apply() -> tuple[int, int | None]:
        with _sessions(request).begin() as session:
            decision = apply_decision(session, link_id, verdict, user, target_item_id=target)
            link = session.scalars(select(Link).where(Link.record_id == decision.record_id)).one()
            return decision.id, link.canonical_item_id

    try:
        decision_id, item_id = await run_in_threadpool(apply)
    except ReviewError as error:
        raise HTTPException(409, str(error)) from error
    request.session["notice"] = _saved_notice(verdict, item_id)
    return await _after_decision(
        request, {"decision": decision_id, "verdict": verdict, "item": item_id}
    )


def _saved_notice(verdict: str, item_id: int | None) -> str:
    where = canonical_id(item_id) if item_id is not None else "an item of its own"
    said = {"same": "same item", "different": "different item", "move": "linked"}[verdict]
    return f"Saved ({said}): the record is now in {where}."


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


async def _claim_next(request: Request, user: User) -> PendingReview | None:
    """Hold the next pending link for ``user`` unless they hold one (an undone decision's):
    claims are made by POSTs, so showing the queue changes nothing."""
    skipped = [int(i) for i in request.session.get("skipped", []) if isinstance(i, int)]

    def claim_next() -> PendingReview | None:
        with _sessions(request).begin() as session:
            held = held_review(session, user)
            if held is not None:
                return held
            found = pending_reviews(session, user, limit=1, skip=skipped)
            return found[0] if found else None

    return await run_in_threadpool(claim_next)


async def _after_decision(request: Request, data: dict[str, Any]) -> Response:
    following = await _claim_next(request, request.state.user)
    if wants_json(request):
        return JSONResponse({**data, "next": _review_json(following) if following else None})
    return RedirectResponse("/queue", status_code=303)


@requires("review")
async def next_review(request: Request) -> Response:
    """Start (or go on) reviewing: hold the next pending link, then show the queue."""
    await checked_form(request)
    return await _after_decision(request, {})


@requires("review")
async def undo_last(request: Request) -> Response:
    user: User = request.state.user
    await checked_form(request)

    def revert() -> dict[str, Any]:
        with _sessions(request).begin() as session:
            decision = last_decision(session, user)
            if decision is None:
                raise ReviewError("there is no decision of yours to undo")
            link = undo(session, decision.id, user)
            if link is None or link.state != "pending":
                return {"undone": decision.id, "link_id": None}
            claim(link, user)
            return {"undone": decision.id, "link_id": link.id}

    try:
        data = await run_in_threadpool(revert)
    except ReviewError as error:
        raise HTTPException(409, str(error)) from error
    request.session["skipped"] = [
        i for i in request.session.get("skipped", []) if i != data["link_id"]
    ]
    request.session["notice"] = (
        "Undone: the match is back in the queue." if data["link_id"] else "Undone."
    )
    return await _after_decision(request, data)


@requires("review")
async def flags(request: Request) -> Response:
    def load() -> list[tuple[Record, Document]]:
        with _sessions(request)() as session:
            return flagged_records(session)

    found = await run_in_threadpool(load)
    data = {"flagged": [_record_json(record, document) for record, document in found]}
    return render(request, "flags.html", {"found": found}, data)


@requires("review")
async def settle(request: Request) -> Response:
    user: User = request.state.user
    form = await checked_form(request)
    record_id = form_number(form, "record_id")
    action = str(form.get("action", ""))
    if action not in {"dismiss", "correct"}:
        raise HTTPException(400, "action must be dismiss or correct")
    title = str(form.get("title", "")) if action == "correct" else None
    code = str(form.get("code", "")) if action == "correct" else None

    def apply() -> dict[str, Any]:
        with _sessions(request).begin() as session:
            decision = settle_flag(session, record_id, user, title=title, code=code)
            return {"decision": decision.id, "verdict": decision.verdict}

    try:
        data = await run_in_threadpool(apply)
    except ReviewError as error:
        raise HTTPException(409, str(error)) from error
    if wants_json(request):
        return JSONResponse(data)
    return RedirectResponse("/flags", status_code=303)


def _item_filter(request: Request) -> ItemFilter:
    params = request.query_params
    return ItemFilter(
        text=params.get("q", "")[:200],
        council=params.get("council", "")[:200],
        period=params.get("period", "")[:20],
        status=params.get("status", "")[:20],
        officer=params.get("officer", "")[:200],
        code=params.get("code", "")[:100],
    )


PAGE_SIZE = 100


@requires("review")
async def items(request: Request) -> Response:
    wanted = _item_filter(request)
    try:
        page = max(1, min(int(request.query_params.get("page", "1")), 1_000_000))
    except ValueError:
        raise HTTPException(400, "page must be a number") from None

    def load() -> tuple[list[Any], int, dict[str, list[str]]]:
        with _sessions(request)() as session:
            rows = search_items(session, wanted, PAGE_SIZE, (page - 1) * PAGE_SIZE)
            return rows, count_items(session, wanted), facets(session)

    rows, total, menus = await run_in_threadpool(load)
    pages = max(1, -(-total // PAGE_SIZE))
    query = urlencode(_filter_params(wanted))
    data = {
        "filter": wanted.as_dict(),
        "total": total,
        "page": page,
        "pages": pages,
        "items": [
            {
                "id": canonical_id(row.item.id),
                "council": row.item.council,
                "kind": row.item.kind,
                "code": row.latest.code if row.latest else row.item.code,
                "title": row.latest.title if row.latest else row.item.title,
                "periods": row.periods,
                "status": row.latest.status if row.latest else None,
                "occurrences": row.count,
            }
            for row in rows
        ],
    }
    context = {
        "rows": rows,
        "wanted": wanted,
        "menus": menus,
        "total": total,
        "page": page,
        "pages": pages,
        "query": query,
    }
    return render(request, "items.html", context, data)


def _filter_params(wanted: ItemFilter) -> dict[str, str]:
    """The filter as the register page's query string names it."""
    names = {"text": "q"}
    return {names.get(key, key): value for key, value in wanted.as_dict().items()}


@requires("review")
async def item(request: Request) -> Response:
    item_id = path_id(request, "item_id")

    def load() -> Any:
        with _sessions(request)() as session:
            return item_history(session, item_id)

    history = await run_in_threadpool(load)
    if history is None:
        raise HTTPException(404, f"there is no item {canonical_id(item_id)}")
    data = {
        "id": canonical_id(history.item.id),
        "council": history.item.council,
        "kind": history.item.kind,
        "occurrences": [
            {
                **(_record_json(o.record, o.document) or {}),
                "link_state": o.link.state,
                "score": o.link.score,
            }
            for o in history.occurrences
        ],
        "pending": [_record_json(o.record, o.document) for o in history.pending],
        "decisions": [
            {
                "id": d.id,
                "verdict": d.verdict,
                "record_id": d.record_id,
                "by": u.name if u else None,
                "at": d.created_at.isoformat(),
                "undone": d.deleted_at is not None,
            }
            for d, u in history.decisions
        ],
        "audit": [
            {"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "record_id": e.entity_id}
            for e in history.audit
        ],
    }
    return render(
        request, "item.html", {"history": history, "cid": canonical_id(history.item.id)}, data
    )


def _source(request: Request, crop: bool) -> Response:
    record_id = path_id(request, "record_id")
    with _sessions(request)() as session:
        record = session.get(Record, record_id)
        document = session.get(Document, record.document_id) if record else None
    if record is None or document is None or not record.page or not document.source_path:
        raise HTTPException(404, "this record has no page to show")
    if document.media_type != "application/pdf":
        raise HTTPException(
            404, "only PDF records have a page picture; the table row is on the item page"
        )
    bbox = tuple(record.bbox) if crop and record.bbox else None
    try:
        png = render_region(Path(document.source_path), record.page, bbox)
    except ParseError as error:
        raise HTTPException(404, str(error)) from error
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@requires("review")
async def record_source(request: Request) -> Response:
    return await run_in_threadpool(_source, request, True)


@requires("review")
async def record_page(request: Request) -> Response:
    return await run_in_threadpool(_source, request, False)


def _csv(request: Request, occurrences: bool) -> Response:
    session = _sessions(request)()
    columns = OCCURRENCE_COLUMNS if occurrences else REGISTER_COLUMNS
    wanted = _item_filter(request)
    if occurrences:
        rows = occurrence_rows(session, wanted.council or None)
    else:
        only = matching_item_ids(wanted) if wanted.as_dict() else None
        rows = register_rows(session, only=only)
    name = "occurrences.csv" if occurrences else "register.csv"
    return StreamingResponse(
        csv_chunks(rows, columns, bom=request.query_params.get("excel") == "1"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
        background=BackgroundTask(session.close),
    )


@requires("review")
async def export_register(request: Request) -> Response:
    return _csv(request, occurrences=False)


@requires("review")
async def export_occurrences(request: Request) -> Response:
    return _csv(request, occurrences=True)


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
    settings = _settings(request)
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
        with _sessions(request).begin() as session:
            job = submit_job(session, staged.accepted, options, "upload", user.id, staged.refused)
            return job_progress(job), waiting_largest_first(job)

    progress, waiting = await run_in_threadpool(submit)
    job_id = str(progress["id"])
    task = None
    if request.app.state.engine is not None:
        await run_in_threadpool(submit_files, request.app.state.engine, waiting)
    else:
        task = BackgroundTask(
            run_job_here, _sessions(request), job_id, settings.batch, settings.matching
        )
    if wants_json(request):
        return JSONResponse(progress, status_code=202, background=task)
    return RedirectResponse(f"/uploads/{job_id}", status_code=303, background=task)


@requires("upload")
async def upload_status(request: Request) -> Response:
    def load() -> dict[str, object] | None:
        with _sessions(request)() as session:
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
        with _sessions(request)() as session:
            return job_history(session)

    jobs = await run_in_threadpool(load)
    return render(request, "uploads.html", {"jobs": jobs}, {"jobs": jobs})


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
            with _sessions(request).begin() as session:
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
        with _sessions(request)() as session:
            return user_rows(session)

    rows = await run_in_threadpool(load)
    context = {"users": rows, "roles": ROLES, "notice": notice, "error": error}
    return render(
        request, "users.html", context, {"users": rows, "notice": notice, "error": error}, status
    )
