"""One small real document per tricky layout (tests/fixtures/make_layouts.py), exact records.

Each row is (page, code, title, deadlines, officers, status, row index).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from ingest.cli import main
from models import Document, Record, open_store
from parsers import ParseError, parse_file
from tests.conftest import FIXTURES

LAYOUTS = FIXTURES / "layouts"
D = dt.date


def rows(name: str) -> list[tuple]:
    return [
        (
            r.page,
            r.code,
            r.title,
            r.deadlines,
            [o.text for o in r.officers],
            r.status,
            r.row_index,
        )
        for r in parse_file(LAYOUTS / name).records
    ]


def test_a_row_cut_by_the_page_break_is_one_record_on_its_first_page() -> None:
    assert rows("cross-page-row.pdf") == [
        (1, "KA.1", "Set up a shared service Home Improvement Agency.", [D(2016, 4, 30)],
         ["Head of Housing and Health"], "green", 0),
        (1, "KA.2", "Align Various Grant Programmes to Health and Wellbeing Priorities",
         [D(2016, 8, 31)], ["Richard May", "Paul Knight"], "amber", 1),
        (1, "KA.3", "Review of temporary accommodation provision across the district",
         [D(2016, 9, 30)], ["Service Manager – Housing"], "green", 2),
        (2, "KA.4", "Publish Register of Electors", [D(2016, 12, 1)],
         ["Electoral Services Manager"], "complete", 3),
    ]  # fmt: skip


def test_a_two_row_header_gives_indicator_rows() -> None:
    parsed = parse_file(LAYOUTS / "two-row-header.pdf")
    assert rows("two-row-header.pdf") == [
        (1, "NI014", "Avoidable contact: proportion of customer contact that is avoidable", [],
         ["Customer Services Manager"], None, 0),
        (1, "BVPI 12", "Working days lost due to sickness absence", [], ["Head of HR"], None, 1),
    ]  # fmt: skip
    first = parsed.records[0]
    assert first.kind == "indicator"
    assert first.cells["Target 2011/12"] == "20%"
    assert first.cells["Target 2012/13"] == "18%"
    assert first.section == ["Scorecard: Customer Services"]


def test_a_borderless_table_carries_its_columns_onto_the_next_page() -> None:
    assert rows("borderless.pdf") == [
        (1, "KA.10", "Kingsmere Theatre – Develop business models", [D(2016, 9, 30)],
         ["Theatre Director"], None, 0),
        (1, "KA.11", "Deliver the leisure strategy", [D(2017, 3, 31)], ["Head of Leisure"],
         None, 1),
        (2, "KA.12", "Dispose of surplus land at the depot", [D(2017, 3, 31)],
         ["Estates Manager"], None, 2),
        (2, "KA.13", "Publish Register of Members' Interests", [], ["Monitoring Officer"],
         None, 3),
    ]  # fmt: skip
    records = parse_file(LAYOUTS / "borderless.pdf").records
    assert {r.section[-1] for r in records} == {"Outcome: Communities engaged in local issues"}
    assert all(0.6 <= r.confidence < 1.0 for r in records)
    assert records[2].confidence < records[0].confidence  # no header on page 2
    assert records[3].cells["Service Ref"] == "LD1.1"


def test_budget_and_staffing_tables_give_no_records() -> None:
    assert rows("distractors.pdf") == [
        (2, "KA.20", "Introduce a garden waste subscription", [D(2013, 3, 31)],
         ["Waste Services Manager"], "green", 0),
    ]  # fmt: skip


def test_a_page_without_text_is_read_by_ocr_or_reported_when_ocr_is_off() -> None:
    parsed = parse_file(LAYOUTS / "scanned-page.pdf")
    assert parsed.problems == []  # page 2 is a blank picture: read, and nothing on it
    assert [r.code for r in parsed.records] == ["KA.30"]
    never = parse_file(LAYOUTS / "scanned-page.pdf", ocr="never")
    assert [p.describe() for p in never.problems] == [
        "page 2: no usable text layer; not read (--ocr never)"
    ]
    assert [r.code for r in never.records] == ["KA.30"]


SHADED_BOXES = [
    (1, None, "Grow apprenticeships across the council", [], ["Head of Human Resources"], None, 1),
    (1, None, "Offer health checks to all staff", [], ["Head of Human Resources"], None, 2),
    (1, None, "Support carers to stay in work", [], ["Head of Human Resources"], None, 3),
]  # fmt: skip
"""What the slide of grey boxes gives, born-digital or scanned."""

SCANNED = [
    (1, "KA.1", "Set up a shared service Home Improvement Agency", [D(2015, 4, 30)],
     ["Head of Housing and Health"], "green", 0),
    (1, "KA.2", "Review the CCTV partnership with the police", [D(2016, 3, 31)],
     ["Community Safety Manager"], "amber", 1),
    (1, "KA.3", "Publish the annual air quality report", [D(2015, 6, 30)],
     ["Environmental Health Manager"], "red", 2),
]  # fmt: skip


@pytest.mark.parametrize("name", ["scanned-table.pdf", "garbage-text-layer.pdf"])
def test_a_scanned_table_is_read_from_its_image(name: str) -> None:
    """No text layer, or one of the wrong letters: Tesseract reads the words, the rules
    come from the image, and the same table reading gives the same records."""
    assert rows(name) == SCANNED
    records = parse_file(LAYOUTS / name).records
    assert {r.source for r in records} == {"ocr"}
    assert all(r.ocr_confidence is not None and r.ocr_confidence > 85 for r in records)
    assert not any(r.flagged for r in records)


def test_a_scanned_list_in_a_cell_is_split_at_its_bullets() -> None:
    """Tesseract drops a bullet or reads it as a letter; the image shows a solid dot, and
    the list gives one record per item, as the born-digital page does."""
    records = parse_file(LAYOUTS / "scanned-indicator-list.pdf").records
    assert [(r.kind, r.title, r.cells.get("target")) for r in records] == [
        ("indicator", "Net additional dwellings completed each year", "target 500 a year"),
        ("indicator", "Adoption of the site allocations plan", None),
        ("indicator", "Number of affordable homes completed", "Target to increase"),
    ]
    assert [r.code for r in records][1:] == ["LOI DEL2a", None]


def test_scanned_grey_boxes_parted_by_white_gaps_are_cells() -> None:
    """No rule on the page: the cells' sides are where the shading steps."""
    assert rows("scanned-shaded-boxes.pdf") == SHADED_BOXES


def test_scanned_rag_cells_are_read_on_dark_and_mid_grey_fills() -> None:
    """White capitals on a dark fill are turned; black ones on a grey fill are not (the
    fill is no ink either); two dark cells one above the other stay two rows."""
    records = parse_file(LAYOUTS / "scanned-rag-cells.pdf").records
    assert [(r.code, r.status) for r in records] == [
        ("KA.5", "red"),
        ("KA.6", "red"),
        ("KA.7", "amber"),
        ("KA.8", "green"),
    ]


def test_records_ocr_is_unsure_of_are_flagged_with_the_reason() -> None:
    from parsers.ocr import OcrSettings
    from parsers.pdf import parse_pdf

    records = parse_pdf(LAYOUTS / "scanned-table.pdf", "auto", OcrSettings(low_confidence=99.5))
    assert [r.flagged for r in records.records] == [True, True, True]
    assert all(
        r.flag_reason == f"read by OCR, {r.ocr_confidence:.0f}% sure of its words"
        for r in records.records
    )


def test_a_missing_tesseract_is_a_problem_that_says_how_to_install_it(tmp_path: Path) -> None:
    from parsers.ocr import MISSING_TESSERACT

    councilreg = Path(sys.executable).with_name("councilreg")
    result = subprocess.run(
        [str(councilreg), "extract", "--json", str(LAYOUTS / "scanned-table.pdf")],
        env={**os.environ, "PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    payload = json.loads(result.stdout)
    assert payload["records"] == []
    assert payload["problems"] == [
        f"pages 1 have no usable text layer; {MISSING_TESSERACT}",
        "no action or indicator tables found",
    ]


def test_horizontal_merges_and_a_section_row_across_the_table() -> None:
    assert rows("merged-horizontal.docx") == [
        (None, "1.1", "Review the street cleansing rounds", [D(2013, 3, 31)],
         ["Street Scene Manager"], None, 1),
        (None, "1.2", "Extend kerbside recycling", [D(2012, 9, 30)],
         ["Waste Services Manager"], None, 2),
    ]  # fmt: skip
    first, second = parse_file(LAYOUTS / "merged-horizontal.docx").records
    assert first.section == second.section == ["CORPORATE PRIORITY: A CLEAN DISTRICT"]
    assert "Measure" not in first.cells  # the merged title is read once, not twice
    assert second.cells["Measure"] == "Number of homes served"


def test_a_vertical_merge_gives_every_row_its_officer_and_deadline() -> None:
    assert rows("merged-vertical.docx") == [
        (None, "2.1", "Adopt the Local Plan", [D(2013, 12, 31)], ["Head of Planning"], None, 0),
        (None, "2.2", "Publish the housing land supply", [D(2013, 12, 31)],
         ["Head of Planning"], None, 1),
        (None, "2.3", "Consult on the design guide", [D(2013, 12, 31)], ["Head of Planning"],
         None, 2),
    ]  # fmt: skip


def test_a_block_merged_both_ways_is_read_once_per_row() -> None:
    assert rows("merged-both.docx") == [
        (None, "3.1", "Launch the business grants scheme", [D(2014, 3, 31)],
         ["Economic Development Manager"], "green", 0),
        (None, "3.2", "Review the town centre markets", [D(2014, 6, 30)],
         ["Economic Development Manager"], "amber", 1),
    ]  # fmt: skip


def test_a_nested_table_is_lines_of_its_cell() -> None:
    (record,) = parse_file(LAYOUTS / "nested.docx").records
    assert record.cells["Milestones"] == "Consult on the draft strategy\nLaunch the strategy"
    assert record.deadlines == [D(2010, 4, 30), D(2010, 6, 30)]
    assert record.paragraph_index is None and record.table_index == 0


@pytest.mark.parametrize("name", ["legacy.doc", "legacy.rtf"])
def test_legacy_files_read_like_the_word_original(name: str) -> None:
    parsed = parse_file(LAYOUTS / name)
    assert parsed.parser == f"{name.rsplit('.', 1)[1]}+docx"
    assert rows(name) == rows("merged-horizontal.docx")


def test_a_legacy_doc_is_ingested_end_to_end(tmp_path: Path) -> None:
    folder = tmp_path / "packs"
    folder.mkdir()
    shutil.copy(LAYOUTS / "legacy.doc", folder / "street-scene-plan-2012-13.doc")
    url = f"sqlite:///{tmp_path / 'register.db'}"
    result = CliRunner().invoke(main, ["--database-url", url, "ingest", "--json", str(folder)])
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.output)["files"]
    assert (entry["status"], entry["records"]) == ("new", 2)
    with open_store(url)() as session:
        document = session.scalars(select(Document)).one()
        titles = session.scalars(select(Record.title).order_by(Record.ordinal)).all()
    assert (document.parser, document.period_label) == ("doc+docx", "2012/13")
    assert titles == ["Review the street cleansing rounds", "Extend kerbside recycling"]


@pytest.mark.parametrize(("ocr", "records"), [("auto", 3), ("never", 0)])
def test_a_scanned_pack_is_stored_with_what_ocr_read(
    tmp_path: Path, ocr: str, records: int
) -> None:
    url = f"sqlite:///{tmp_path / 'register.db'}"
    result = CliRunner().invoke(
        main,
        [
            "--database-url",
            url,
            "ingest",
            "--json",
            "--ocr",
            ocr,
            str(LAYOUTS / "scanned-table.pdf"),
        ],
    )
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.output)["files"]
    assert (entry["status"], entry["records"]) == ("new", records)
    with open_store(url)() as session:
        stored = session.execute(select(Record.code, Record.source, Record.ocr_confidence)).all()
    assert [code for code, _, _ in stored] == ["KA.1", "KA.2", "KA.3"][:records]
    assert all(source == "ocr" and confidence > 85 for _, source, confidence in stored)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("zip-bomb.docx", "expands to 60 MB; refusing a possible zip bomb"),
        ("external-entity.docx", "declares XML entities; refusing it"),
    ],
)
def test_hostile_word_files_are_refused_by_name(name: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse_file(LAYOUTS / name)


def test_horizontal_rules_only_take_columns_from_the_words_across_two_pages() -> None:
    """An HTML table printed to PDF: no vertical rules, group rows across the table, the
    header repeated on page 2, and T1 cut by the page break."""
    assert rows("rules-only.pdf") == [
        (1, "B1", "Retrofitting council homes with insulation and heat pumps", [], [], None, 1),
        (1, "B2", "Offering free energy advice to residents in fuel poverty", [], [], None, 2),
        (1, "T1", "Building new walking and cycling routes between the market towns and the "
         "railway stations", [], [], None, 4),
        (2, "T2", "Trialling an on-demand bus service", [], [], None, 5),
    ]  # fmt: skip
    records = parse_file(LAYOUTS / "rules-only.pdf").records
    # Each group row takes the place of the one before it.
    assert records[0].section == ["Buildings - Cut emissions from homes and public buildings by:"]
    assert records[3].section == ["Transport - Reduce car trips by:"]
    # Impact (High/Low) is not a status and Control (Direct/Influence) is not an officer.
    assert {r.status for r in records} == {None}
    assert records[0].cells["Impact"] == "High"


def test_filled_boxes_without_rules_are_cells_and_a_box_merged_down_is_shared() -> None:
    assert rows("shaded-boxes.pdf") == SHADED_BOXES
    first = parse_file(LAYOUTS / "shaded-boxes.pdf").records[0]
    assert first.section == ["Support people into good work"]


def test_an_indicator_list_inside_one_cell_gives_one_record_per_item() -> None:
    records = parse_file(LAYOUTS / "indicator-list.pdf").records
    assert [(r.kind, r.code, r.title, r.cells.get("target")) for r in records] == [
        ("indicator", "COI HOU1a", "Net additional dwellings completed each year",
         "target 500 a year"),
        ("indicator", "LOI DEL2a", "Adoption of the site allocations plan", None),
        ("indicator", None, "Number of affordable homes completed", "Target to increase"),
    ]  # fmt: skip
    assert {r.cells["lead-in"] for r in records} == {"By using the following indicators:"}


def test_a_capital_programme_with_a_description_column_gives_nothing() -> None:
    parsed = parse_file(LAYOUTS / "capital-programme.pdf")
    assert parsed.records == []
    assert [p.reason for p in parsed.problems] == ["no action or indicator tables found"]


def test_a_header_no_vocabulary_knows_takes_its_roles_from_the_cells() -> None:
    """'Item | Promise to residents | Month | Contact person': codes, prose, dates, owners."""
    assert rows("unknown-header.pdf") == [
        (1, "P1", "Open the new leisure centre at the town park", [D(2025, 6, 30)],
         ["Head of Leisure"], None, 0),
        (1, "P2", "Replace every street light with an LED lamp", [D(2026, 3, 31)],
         ["Street Lighting Manager"], None, 1),
        (1, "P3", "Publish a new parking strategy for the town centre", [], ["Jane Smith"],
         None, 2),
    ]  # fmt: skip


def test_a_table_that_stops_mid_page_carries_on_past_a_lone_row_and_a_repeated_header() -> None:
    assert rows("table-ends-early.pdf") == [
        (1, "KA.1", "Adopt the housing strategy", [D(2017, 6, 30)], ["Head of Housing"], "green", 0),
        (1, "KA.2", "Review the allocations policy", [D(2017, 9, 30)], ["Housing Manager"],
         "amber", 1),
        (2, "KA.3", "Return empty homes to use", [D(2018, 3, 31)], ["Housing Manager"], "red", 2),
        (2, "KA.4", "Open the new hostel", [], ["Head of Housing"], "green", 3),
        (2, "KA.5", "Publish the tenancy strategy", [D(2017, 12, 31)], ["Policy Officer"],
         "green", 4),
        (2, "HPI 12", "Number of households in temporary accommodation", [], [], None, None),
        (2, "HPI 13", "Homeless applications decided within 33 days", [], [], None, None),
        (3, "HPI 14", "Affordable homes delivered", [], [], None, None),
    ]  # fmt: skip


def test_codes_beside_sentences_under_unknown_headings_are_reported_not_read() -> None:
    parsed = parse_file(LAYOUTS / "coded-appraisal.pdf")
    assert parsed.records == []
    assert parsed.problems[0].describe() == (
        "page 1: table 1: 3 rows with codes were not read, because no column names a plan's "
        "title beside a deadline, owner or status"
    )
