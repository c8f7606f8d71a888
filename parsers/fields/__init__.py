"""Recognisers that turn cell text into normalised fields: codes, deadlines, officers, status.

`recognise` runs them as one spaCy pipeline over a document's records (see `pipeline.py`).
"""

from parsers.fields.codes import IndicatorCode, find_indicator_codes, indicator_key, split_code
from parsers.fields.deadlines import DeadlineParser
from parsers.fields.officers import split_officers
from parsers.fields.pipeline import build_pipeline, load_pipeline, recognise

__all__ = [
    "DeadlineParser",
    "IndicatorCode",
    "build_pipeline",
    "find_indicator_codes",
    "indicator_key",
    "load_pipeline",
    "recognise",
    "split_code",
    "split_officers",
]
