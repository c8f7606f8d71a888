"""The pieces of OCR that need no image: what a text layer of garbage is, and code repair."""

from __future__ import annotations

from parsers.ocr import GARBAGE, garbage_share, is_speck, repair_codes


def test_a_text_layer_of_the_wrong_letters_is_garbage_and_a_real_one_is_not() -> None:
    assert garbage_share("Kqz Xwrtplm Bhnkgr Qxwvl Zmrtk Plkwr Dfgh Jklmnb") > GARBAGE
    assert garbage_share("\ue000\ue001\ue002 \ue003\ue004 KA.1") > GARBAGE
    real = "KA.12 Review the CCTV partnership with the police by March 2016 (CCTV, ICT, HR)"
    assert garbage_share(real) == 0.0


def test_codes_read_with_look_alike_characters_take_the_documents_own_prefixes() -> None:
    known = ["SFP01", "SFPO3", "HROD04", "HRODO2", "13-HH01", "13-HHO5", "13-O01", "PO1"]
    known += ["NI014a", "NI014b", "N1014e", "PP10", "PP12"]
    codes = ["SFPO3", "HRODO2", "13-HHO5", "13-O01", "PO1", "N1014e", "Nl014c", None]
    assert [code for code, _ in repair_codes([(c, "title") for c in codes], known)] == [
        "SFP03",
        "HROD02",
        "13-HH05",
        "13-O01",  # no "13-" prefix is written before a digit: the O may be a letter
        "PO1",  # no "P" prefix elsewhere
        "NI014e",  # "NI" is written twice; "N" only in this misreading
        "NI014c",
        None,
    ]


def test_a_code_ocr_left_at_the_start_of_the_title_is_taken_back() -> None:
    known = ["NI014a", "NI014b", "PP10", "PP12", "SX002"]
    titles = [
        "Ni014c - HWDC - Repeat notification category",
        "_PP13 - Average time waiting to be seen",
        "PP11 of completed staff learning from complaints forms",
        "SxX048 - Cambourne HQ",  # a letter too many: no reading fits
        "Bin collections on time",
        "A1 road improvements",  # no "A" prefix in the document
    ]
    assert repair_codes([(None, t) for t in titles], known) == [
        ("NI014c", "HWDC - Repeat notification category"),
        ("PP13", "Average time waiting to be seen"),
        ("PP11", "of completed staff learning from complaints forms"),
        (None, "SxX048 - Cambourne HQ"),
        (None, "Bin collections on time"),
        (None, "A1 road improvements"),
    ]


def test_specks_are_doubtful_scraps_and_stray_marks_not_short_words() -> None:
    assert is_speck("ae", 54.0) and is_speck("PG", 30.0) and is_speck("|", 96.0)
    assert not is_speck("to", 93.0) and not is_speck("KA.1", 45.0) and not is_speck("—", 85.0)


def test_a_word_read_twice_in_one_place_is_kept_once() -> None:
    """Tesseract can read one header word from two overlapping layout blocks; doubled, it
    shifts the columns the header defines (a real scan lost a page of rows to it)."""
    from parsers.ocr import distinct_words

    twice = [
        {"text": "Measure", "x0": 48.0, "x1": 76.6, "top": 44.1, "bottom": 51.4, "conf": 96.4},
        {"text": "Name", "x0": 80.0, "x1": 100.0, "top": 44.0, "bottom": 51.5, "conf": 95.0},
        {"text": "Measure", "x0": 48.0, "x1": 78.0, "top": 43.9, "bottom": 51.6, "conf": 96.5},
        {"text": "Measure", "x0": 498.2, "x1": 528.5, "top": 52.2, "bottom": 59.9, "conf": 96.7},
    ]
    kept = distinct_words(twice)
    assert [(w["text"], w["x1"]) for w in kept] == [
        ("Measure", 78.0),
        ("Name", 100.0),
        ("Measure", 528.5),
    ]
