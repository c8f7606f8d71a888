"""Recognisers that turn cell text into normalised fields: codes, deadlines, officers, status."""

from parsers.fields.codes import IndicatorCode, find_indicator_codes, indicator_key, split_code
from parsers.fields.deadlines import DeadlineParser
from parsers.fields.officers import split_officers
from parsers.fields.status import normalise_status

__all__ = [
    "DeadlineParser",
    "IndicatorCode",
    "find_indicator_codes",
    "indicator_key",
    "normalise_status",
    "split_code",
    "split_officers",
]
