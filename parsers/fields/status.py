"""RAG status: single letters. The phrases live in the pipeline's span ruler (`pipeline.py`)."""

from __future__ import annotations

from parsers.model import Status

LETTERS: dict[str, Status] = {"R": "red", "A": "amber", "G": "green"}
