"""The register: search, an item's history, a record's source, CSV downloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from corpus.export import (
    OCCURRENCE_COLUMNS,
    REGISTER_COLUMNS,
    canonical_id,
    csv_chunks,
    occurrence_rows,
    register_rows,
)
from corpus.queries import (
    ItemFilter,
    count_items,
    facets,
    item_history,
    matching_item_ids,
    search_items,
)
from models import Document, Record
from parsers import ParseError
from parsers.render import render_region
from review.views.common import (
    path_id,
    record_json,
    render,
    requires,
    store,
)


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
        with store(request)() as session:
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
        with store(request)() as session:
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
                **(record_json(o.record, o.document) or {}),
                "link_state": o.link.state,
                "score": o.link.score,
            }
            for o in history.occurrences
        ],
        "pending": [record_json(o.record, o.document) for o in history.pending],
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
    with store(request)() as session:
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
    session = store(request)()
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
