"""The field recognisers as one spaCy pipeline, built from rules and shipped in the package.

Cell text goes in with the record and field it came from (``nlp.pipe(..., as_tuples=True)``)
and comes out as labelled spans plus normalised values:

==============  ======================  =====================================
component       spans                   value
==============  ======================  =====================================
span_ruler      ``vocabulary``          status phrases, non-date deadline words
indicator_codes ``indicators``          ``doc._.indicators`` (printed + key)
deadline_dates  ``deadlines``           ``doc._.deadlines`` (dates, in order)
officer_posts   ``officers``            ``doc._.officers`` (person or role)
rag_status      ``status``              ``doc._.status`` (red … complete)
==============  ======================  =====================================

The pipeline is ``spacy.blank("en")`` plus these components; nothing is downloaded.
``scripts/build_pipeline.py`` writes it to `PIPELINE_DIR` (kept in the package),
and `load_pipeline` reads it from there. Two-digit years are read against the document's
period, which travels on each doc as ``doc._.period_start``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import cast

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

from parsers.fields.codes import IndicatorCode, code_key, indicator_mentions
from parsers.fields.deadlines import DeadlineParser
from parsers.fields.officers import split_officers
from parsers.fields.vocabulary import (
    COLOUR_WORDS,
    LETTERS,
    NON_DATES,
    STATUS_PHRASES,
    STATUS_PRIORITY,
)
from parsers.model import Officer, Record, Status

PIPELINE_DIR = Path(__file__).with_name("recogniser")

FIELDS = ("indicators", "deadline", "officer", "status")
"""The texts of a record that the pipeline reads, named as in `Record.sources`."""


def _doc_extensions() -> None:
    """Set by the caller (period_start) or by the components; None until then."""
    for name in ("period_start", "indicators", "deadlines", "officers", "status"):
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)


_doc_extensions()


def _spans(doc: Doc, bounds: Iterable[tuple[int, int, str, str]]) -> list[Span]:
    """Character ranges → spans snapped to token edges; ranges that cannot snap are dropped."""
    spans = []
    for start, end, label, key in bounds:
        span = doc.char_span(start, end, label=label, span_id=key, alignment_mode="expand")
        if span is not None:
            spans.append(span)
    return spans


@Language.component("indicator_codes")
def indicator_codes(doc: Doc) -> Doc:
    mentions = list(indicator_mentions(doc.text))
    doc._.indicators = [code for _, _, code in mentions]
    doc.spans["indicators"] = _spans(
        doc, ((start, end, "INDICATOR", code.key) for start, end, code in mentions)
    )
    return doc


@Language.component("deadline_dates")
def deadline_dates(doc: Doc) -> Doc:
    parser = DeadlineParser(period_start=doc._.period_start)
    matches = list(parser.matches(doc.text))
    doc._.deadlines = list(dict.fromkeys(day for _, _, day in matches))
    doc.spans["deadlines"] = _spans(
        doc, ((start, end, "DATE", day.isoformat()) for start, end, day in matches)
    )
    return doc


@Language.component("officer_posts")
def officer_posts(doc: Doc) -> Doc:
    officers = split_officers(doc.text)
    doc._.officers = officers
    bounds = []
    for officer in officers:
        at = doc.text.find(officer.text)
        if at >= 0:
            label = "ROLE" if officer.is_role else "PERSON"
            bounds.append((at, at + len(officer.text), label, officer.text))
    doc.spans["officers"] = _spans(doc, bounds)
    return doc


@Language.component("rag_status")
def rag_status(doc: Doc) -> Doc:
    """Only explicit words count: 'Revised Completion Date' or 'n/a' give no status."""
    phrases = [s for s in doc.spans.get("vocabulary", []) if s.label_ == "STATUS"]
    words = [t for t in doc if not t.is_punct and not t.is_space]
    status: Status | None = None
    if doc.text.strip().upper() in LETTERS:
        status = LETTERS[doc.text.strip().upper()]
    elif not any(s.id_ == "unknown" for s in phrases):
        at_an_end = {words[0].i, words[-1].i} if words else set()
        usable = [s for s in phrases if s.text.lower() not in COLOUR_WORDS or s.start in at_an_end]
        ranked = sorted(usable, key=lambda s: STATUS_PRIORITY.index(s.id_))
        status = cast(Status, ranked[0].id_) if ranked else None
    doc._.status = status
    doc.spans["status"] = [s for s in phrases if s.id_ == status]
    return doc


def build_pipeline() -> Language:
    """The pipeline from its rules: the vocabularies above and the grammars in parsers.fields."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe(
        "span_ruler",
        config={"spans_key": "vocabulary", "phrase_matcher_attr": "LOWER", "overwrite": True},
    )
    patterns = [
        {"label": "STATUS", "pattern": phrase, "id": status}
        for status, phrases in STATUS_PHRASES.items()
        for phrase in phrases
    ]
    patterns += [{"label": "NON_DATE", "pattern": phrase, "id": "non-date"} for phrase in NON_DATES]
    ruler.add_patterns(patterns)  # type: ignore[attr-defined]
    for name in ("indicator_codes", "deadline_dates", "officer_posts", "rag_status"):
        nlp.add_pipe(name)
    nlp.meta.update(
        {
            "name": "councilreg_fields",
            "version": "1.0.0",
            "description": "Rule-based recognisers for council plan cells: codes, deadlines, "
            "officers, status. Rebuilt with scripts/build_pipeline.py.",
        }
    )
    return nlp


@cache
def load_pipeline() -> Language:
    """The shipped pipeline, once per process."""
    return spacy.load(PIPELINE_DIR)


def _docs(
    nlp: Language, records: list[Record], period_start: dt.date | None
) -> Iterator[tuple[Doc, tuple[int, str]]]:
    for index, record in enumerate(records):
        for name in FIELDS:
            text = record.sources.get(name)
            if text and text.strip():
                doc = nlp.make_doc(text)
                doc._.period_start = period_start
                yield doc, (index, name)


def recognise(
    records: list[Record], period_start: dt.date | None = None, nlp: Language | None = None
) -> list[Record]:
    """Fill each record's indicators, deadlines, officers and status from its source texts."""
    nlp = nlp or load_pipeline()
    for doc, (index, name) in nlp.pipe(_docs(nlp, records, period_start), as_tuples=True):
        record = records[index]
        if name == "indicators":
            own = code_key(record.code)
            codes: list[IndicatorCode] = [c for c in doc._.indicators if c.key != own]
            record.indicators = [c.text for c in codes]
            record.indicator_keys = [c.key for c in codes]
        elif name == "deadline":
            record.deadlines = list(doc._.deadlines)
        elif name == "officer":
            record.officers = [Officer(o.text, o.is_role) for o in doc._.officers]
        elif name == "status":
            record.status = doc._.status
    return records
