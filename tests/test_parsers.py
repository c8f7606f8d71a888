"""Parsers on real documents: exact records checked against the shared gold answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parsers import parse_file
from tests.conftest import CORPUS, SAMPLES


def gold(name: str) -> list[dict]:
    return json.loads((CORPUS / f"{Path(name).stem}.gold.json").read_text())["records"]


def essentials(record: dict) -> tuple:
    return (record["kind"], record["code"], record["title"], record["page"])


@pytest.mark.parametrize(
    "name",
    [
        "south-cambs-policy-performance-portfolio-holder-2010-03-11.pdf",  # agenda pack, ruled
        "wyvern-vale-service-plans-2016-17.pdf",  # borderless, header lost on later pages
        "kestrel-downs-service-planning-report-2015-16-h1.pdf",  # borderless continuation
        "sp-2021-22-finance-property-ab.docx",  # Word, merged section rows
        "mereford-operational-plan-2012-13-policy-performance.odt",  # LibreOffice conversion
    ],
)
def test_documents_match_gold_closely(name: str) -> None:
    parsed = parse_file(CORPUS / name)
    predicted = {essentials(r.to_eval()) for r in parsed.records}
    expected = [essentials(r) for r in gold(name)]
    found = sum(e in predicted for e in expected)
    assert found / len(expected) >= 0.8, (name, found, len(expected))
    assert len(predicted - set(expected)) <= 2


def test_agenda_pack_reads_only_the_appendix_table() -> None:
    parsed = parse_file(SAMPLES / "south-cambs-policy-performance-portfolio-holder-2010-03-11.pdf")
    first = parsed.records[0]
    assert (first.code, first.title, first.page, first.kind) == (
        "C4",
        "Monthly Corporate Brief",
        3,
        "indicator",
    )
    assert [o.text for o in first.officers] == ["Georgina Hayward"]
    assert first.section[-2:] == [
        "Aim : Communications",
        "Approach : Internal communication systems",
    ]
    assert {r.page for r in parsed.records} <= {3, 4, 5, 6, 7}
    assert len(parsed.records) == 77
