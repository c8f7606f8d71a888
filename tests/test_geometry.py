"""Table geometry and cell lists as data: rivers between columns, list items, headers."""

from __future__ import annotations

import pytest

from parsers.geometry import band_cells, rivers
from parsers.lists import cell_list, split_target
from parsers.roles import checked_roles, header_line_roles, is_money_table, roles_from_cells
from parsers.tables import GridRow, GridTable, find_header


def word(text: str, x0: float, top: float = 0.0) -> dict[str, object]:
    return {"text": text, "x0": x0, "x1": x0 + 5.5 * len(text), "top": top, "bottom": top + 9}


def band(*cells: tuple[str, float]) -> list[dict[str, object]]:
    return [word(text, x) for text, x in cells]


def test_a_river_of_white_between_columns_is_a_boundary_and_group_rows_do_not_block_it() -> None:
    bands = [
        band(("ID", 40), ("Action", 90), ("Impact", 400)),
        band(("Transport - Reduce the number of car trips by", 40)),  # a group row
        band(("T1", 40), ("Reviewing", 90), ("High", 400)),
        band(("T2", 40), ("Increasing", 90), ("Low", 400)),
    ]
    bounds = rivers(bands, 36, 500)
    assert len(bounds) == 2
    assert 51 < bounds[0] < 90 and 145 < bounds[1] < 400
    assert band_cells(bands[1], bounds, 6.0) is None
    cells = band_cells(bands[2], bounds, 6.0)
    assert cells is not None and [[w["text"] for w in c] for c in cells] == [
        ["T1"],
        ["Reviewing"],
        ["High"],
    ]


def test_prose_has_no_rivers() -> None:
    lines = [band(("The council will continue to work with partners across the area", 40))] * 4
    assert rivers(lines, 36, 500) == []


@pytest.mark.parametrize(
    ("text", "lead_in", "items"),
    [
        ("By using the following indicators:\n• Homes built\n• Jobs created", "By using the following indicators:", ["Homes built", "Jobs created"]),
        ("\uf0b7 Homes built each\nyear \uf0b7 Jobs created", "", ["Homes built each year", "Jobs created"]),
        ("1) Adopt the plan\n2) Review the plan", "", ["Adopt the plan", "Review the plan"]),
    ],
)  # fmt: skip
def test_cell_lists(text: str, lead_in: str, items: list[str]) -> None:
    found = cell_list(text)
    assert found is not None and (found.lead_in, found.items) == (lead_in, items)


@pytest.mark.parametrize(
    "text",
    [
        "Family Hubs Workforce Development\n• Trauma training\n• Infant massage",  # details a title
        "1) Adopt the plan",  # one numbered line is not a list
        "Review the housing strategy",
    ],
)
def test_not_a_list_of_records(text: str) -> None:
    assert cell_list(text) is None


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Proportion of applications refused. Target to minimise", ("Proportion of applications refused", "Target to minimise")),
        ("Net additional dwellings – target 500 a year", ("Net additional dwellings", "target 500 a year")),
        ("Number of homes brought back into use", ("Number of homes brought back into use", None)),
    ],
)  # fmt: skip
def test_split_target(title: str, expected: tuple[str, str | None]) -> None:
    assert split_target(title) == expected


@pytest.mark.parametrize(
    ("line", "roles"),
    [
        ("ID Action Update: March 2024 Impact Control", {"code", "title", "comments"}),
        ("Actions Supporting Information Completion by", {"comments", "deadline"}),
        ("The council will update the action plan.", set()),
        ("Up to date data for the Borough will be used to update the action when", set()),
        ("Project Description Total Cost of Scheme Prior Years Spend Lead Officer", set()),
        ("Project Ref Lead Officer 2025-26 2026-27 2027-28 2028-29", set()),
    ],
)
def test_header_lines_in_page_text(line: str, roles: set[str]) -> None:
    assert header_line_roles(line) == roles


def test_a_first_row_of_headings_that_name_the_rows_is_a_header() -> None:
    table = GridTable(
        [
            GridRow(["What we have committed to", "Strategies / plans in place to deliver"]),
            GridRow(["Improve transition to adult services", "Mental health transition"]),
        ]
    )
    found = find_header(table)
    assert found is not None and found[1].roles == ["title", None]
    assert found[1].is_record_table


def test_money_tables_are_not_plans_whatever_the_header() -> None:
    columns = [["1", "2"], ["Roofing", "Drainage"], ["Replace roofs", "Gullies"], ["250", "1,200"], ["0", "900"]]  # fmt: skip
    assert is_money_table(["code", None, "fallback_title", "target", "target"], columns)
    assert not is_money_table(["code", "title", None, "target", "target"], columns)


def test_roles_from_cells_when_no_header_word_is_known() -> None:
    columns = [
        ["P1", "P2", "P3"],
        ["Open the new leisure centre", "Replace every street light", "Publish a parking plan"],
        ["June 2025", "March 2026", "Ongoing"],
        ["Head of Leisure", "Street Lighting Manager", "Jane Smith"],
        ["Green", "Amber", "Complete"],
    ]
    assert roles_from_cells(columns) == ["code", "title", "deadline", "officer", "status"]


def test_roles_from_cells_give_amounts_and_labels_no_role() -> None:
    assert roles_from_cells([["250", "1,200"], ["High", "Low"], ["Direct", "Influence"]]) == [
        None,
        None,
        None,
    ]


def test_cells_that_contradict_a_header_role_make_it_comments() -> None:
    thresholds = [">800m 400-800m <400m", "Top 10%", ">400m <400m"]
    strategies = [
        "Support Move Together Active Kent and Medway Strategy for schools",
        "Inequalities Prevention and Public Health Committee Prevention Subcommittee Action Plan",
        "Establish a Relationship with Food programme across the county",
    ]
    owners = ["Head of Housing", "Sarah Gilchrist / Andrew Oakes / Graham Norcott", "HR"]
    statuses = ["Green", "AMBER", "Complete"]
    assert checked_roles(
        ["status", "officer", "officer", "status"], [thresholds, strategies, owners, statuses]
    ) == ["comments", "comments", "officer", "status"]
    # Too few cells to overrule the header.
    assert checked_roles(["officer"], [strategies[:2]]) == ["officer"]


def test_a_column_a_stray_line_split_off_a_merged_cell_is_dropped_and_an_empty_real_one_kept() -> (
    None
):
    """A fill's edge in one banner row splits the Measure column in the grid: empty, and
    merged over from the left in the rows below, it goes. An icon column whose cells are
    empty but its own stays, so the next page's part keeps the table's width."""
    from parsers.pdf import without_phantom_columns
    from parsers.tables import GridRow

    split = [
        GridRow(["CORPORATE PRIORITY", None, None, "", None]),
        GridRow(["Key Action No", "Action", "Measure", None, "Deadline"]),
        GridRow(
            ["KA.14", "Review of temporary accommodation", "Finalise review", None, "Mar 2018"]
        ),
    ]
    assert [r.cells for r in without_phantom_columns(split)] == [
        ["CORPORATE PRIORITY", None, None, None],
        ["Key Action No", "Action", "Measure", "Deadline"],
        ["KA.14", "Review of temporary accommodation", "Finalise review", "Mar 2018"],
    ]
    icons = [
        GridRow(["People", None, None, None]),
        GridRow(["CSHS08", "Implement e-billing", "", "Action Off Target"]),
        GridRow(["SFP06", "Review the corporate property", "", "Action On Target"]),
    ]
    assert without_phantom_columns(icons) == icons
