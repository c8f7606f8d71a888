"""The review queue: the next pending match, decisions, undo, and extractions to check."""

from __future__ import annotations

import datetime as dt
import difflib
from typing import Any

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from corpus.export import (
    canonical_id,
    parse_canonical_id,
)
from corpus.normalise import normalise_text
from corpus.queries import facets
from corpus.review import (
    PendingReview,
    QueueFilter,
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
from models import Document, Link, Record, User
from review.views.common import (
    checked_form,
    form_number,
    record_json,
    render,
    requires,
    store,
    wants_json,
    web_settings,
)


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
        "record": record_json(review.record, review.document),
        "item": {
            "id": canonical_id(review.item.id),
            "title": review.item.title,
            "latest": record_json(review.item_record, review.item_document),
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

    wanted = _queue_filter(request)

    def load() -> tuple[PendingReview | None, int, bool, int, dict[str, list[str]]]:
        with store(request)() as session:
            return (
                held_review(session, user),
                pending_count(session, wanted),
                last_decision(session, user) is not None,
                decided_since(session, user, today),
                facets(session),
            )

    review, remaining, can_undo, decided, menus = await run_in_threadpool(load)
    matching = web_settings(request).matching
    notice = request.session.pop("notice", None)
    data = {
        "pending": remaining,
        "decided_today": decided,
        "notice": notice,
        "review": _review_json(review) if review else None,
        "can_undo": can_undo,
        "thresholds": {"auto": matching.auto, "review": matching.review},
        "filter": {k: v for k, v in vars(wanted).items() if v},
    }
    context: dict[str, Any] = {
        "review": review,
        "pending": remaining,
        "decided_today": decided,
        "notice": notice,
        "can_undo": can_undo,
        "matching": matching,
        "wanted": wanted,
        "menus": menus,
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


QUEUE_FILTER = ("council", "period", "kind")


def _queue_filter(request: Request) -> QueueFilter:
    """The queue's filter: from the page's form when it sends one (then kept in the session
    for the decisions that follow), else the one kept."""
    params = request.query_params
    if any(name in params for name in QUEUE_FILTER):
        request.session["queue_filter"] = {
            name: params.get(name, "")[:200] for name in QUEUE_FILTER if params.get(name)
        }
    return _saved_filter(request)


def _saved_filter(request: Request) -> QueueFilter:
    saved = request.session.get("queue_filter")
    saved = saved if isinstance(saved, dict) else {}
    return QueueFilter(**{name: str(saved[name]) for name in QUEUE_FILTER if saved.get(name)})


@requires("review")
async def decide(request: Request) -> Response:
    user: User = request.state.user
    form = await checked_form(request)
    link_id = form_number(form, "link_id")
    verdict = str(form.get("verdict", ""))
    if verdict == "skip":
        request.session["skipped"] = [*request.session.get("skipped", [])[-200:], link_id]

        def give_back() -> None:
            with store(request).begin() as session:
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
        with store(request).begin() as session:
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


async def _claim_next(request: Request, user: User) -> PendingReview | None:
    """Hold the next pending link for ``user`` unless they hold one (an undone decision's):
    claims are made by POSTs, so showing the queue changes nothing."""
    skipped = [int(i) for i in request.session.get("skipped", []) if isinstance(i, int)]

    def claim_next() -> PendingReview | None:
        with store(request).begin() as session:
            held = held_review(session, user)
            if held is not None:
                return held
            found = pending_reviews(
                session, user, limit=1, skip=skipped, wanted=_saved_filter(request)
            )
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
        with store(request).begin() as session:
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
        with store(request)() as session:
            return flagged_records(session)

    found = await run_in_threadpool(load)
    data = {"flagged": [record_json(record, document) for record, document in found]}
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
        with store(request).begin() as session:
            decision = settle_flag(session, record_id, user, title=title, code=code)
            return {"decision": decision.id, "verdict": decision.verdict}

    try:
        data = await run_in_threadpool(apply)
    except ReviewError as error:
        raise HTTPException(409, str(error)) from error
    if wants_json(request):
        return JSONResponse(data)
    return RedirectResponse("/flags", status_code=303)
