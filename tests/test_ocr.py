"""The pieces of OCR that need no image: what a text layer of garbage is, and code repair."""

from __future__ import annotations

from parsers.ocr import GARBAGE, garbage_share, is_speck, repair_codes


def test_a_text_layer_of_the_wrong_letters_is_garbage_and_a_real_one_is_not() -> None:
    assert garbage_share("Kqz Xwrtplm Bhnkgr Qxwvl Zmrtk Plkwr Dfgh Jklmnb") > GARBAGE
    assert garbage_share("\ue000\ue001\ue002 \ue003\ue004 KA.1") > GARBAGE
    real = "KA.12 Review the CCTV partnership with the police by March 2016 (CCTV, ICT, HR)"
    assert garbage_share(real) == 0.0


def test_codes_read_with_the_letter_o_take_the_documents_own_prefixes() -> None:
    known = {"SFP01", "SFPO3", "HROD04", "HRODO2", "13-HH01", "13-HHO5", "13-O01", "PO1"}
    assert repair_codes(["SFPO3", "HRODO2", "13-HHO5", "13-O01", "PO1", None], known) == [
        "SFP03",
        "HROD02",
        "13-HH05",
        "13-O01",  # no "13-" prefix is written before a digit: the O may be a letter
        "PO1",  # no "P" prefix elsewhere
        None,
    ]


def test_specks_are_doubtful_scraps_and_stray_marks_not_short_words() -> None:
    assert is_speck("ae", 54.0) and is_speck("PG", 30.0) and is_speck("|", 96.0)
    assert not is_speck("to", 93.0) and not is_speck("KA.1", 45.0) and not is_speck("—", 85.0)
