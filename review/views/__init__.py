"""Thin views, one module per page family: read the request, call ``corpus`` or ``ingest``,
shape HTML or its JSON twin."""

from review.views.common import csrf_token, wants_json
from review.views.queue import decide, flags, next_review, queue, settle, undo_last
from review.views.register import (
    export_occurrences,
    export_register,
    item,
    items,
    record_page,
    record_source,
)
from review.views.signin import home, login, logout, safe_next, users
from review.views.uploads import upload, upload_history, upload_status

__all__ = [
    "csrf_token",
    "decide",
    "export_occurrences",
    "export_register",
    "flags",
    "home",
    "item",
    "items",
    "login",
    "logout",
    "next_review",
    "queue",
    "record_page",
    "record_source",
    "safe_next",
    "settle",
    "undo_last",
    "upload",
    "upload_history",
    "upload_status",
    "users",
    "wants_json",
]
