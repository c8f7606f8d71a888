"""Broken and hostile files, made fresh for the batch tests: ``python -m tests.hostile OUT``.

Each kind is a way a real backfill goes wrong (a download that stopped, a file saved under
the wrong name, a password, a pack of scans) or a way an attacker would try to hurt the
server (a zip bomb, external entities, a page the size of a field, a file named with
control characters). Every file differs from every other by a salt, so none is skipped
as a copy of another, and every kind has several. The test holds what each must give.
"""

from __future__ import annotations

import io
import random
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import msoffcrypto
import pikepdf
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from tests.conftest import SAMPLES

GOOD_DOCX = SAMPLES / "sp-2021-22-finance-property-ab.docx"
Maker = Callable[[random.Random, int], bytes]


def pdf_with_text(lines: list[str], pages: int = 1, size: tuple[float, float] = A4) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=size)
    for number in range(pages):
        for row, line in enumerate(lines):
            pdf.drawString(72, size[1] - 72 - 14 * row, f"{line} {number + 1}")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def salted_pdf(salt: int) -> bytes:
    return pdf_with_text([f"Committee report {salt}", "Minutes of the meeting"])


def docx_with(parts: dict[str, bytes], base: Path = GOOD_DOCX) -> bytes:
    """The good document with some parts replaced (or added)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            if item.filename not in parts:
                target.writestr(item, source.read(item.filename))
        for name, data in parts.items():
            target.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def document_xml(body: str, doctype: str = "") -> bytes:
    namespace = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}'
        f'<w:document xmlns:w="{namespace}"><w:body>{body}</w:body></w:document>'
    ).encode()


def truncated_pdf(rng: random.Random, salt: int) -> bytes:
    good = salted_pdf(salt)
    return good[: rng.randrange(64, len(good) // 2)]


def truncated_docx(rng: random.Random, salt: int) -> bytes:
    good = docx_with({"docProps/custom.xml": str(salt).encode()})
    return good[: rng.randrange(200, len(good) // 2)]


def encrypted_pdf(rng: random.Random, salt: int) -> bytes:
    source, target = io.BytesIO(salted_pdf(salt)), io.BytesIO()
    with pikepdf.open(source) as pdf:
        pdf.save(target, encryption=pikepdf.Encryption(owner="o", user=f"secret{salt}"))
    return target.getvalue()


def encrypted_docx(rng: random.Random, salt: int) -> bytes:
    source, target = io.BytesIO(GOOD_DOCX.read_bytes()), io.BytesIO()
    msoffcrypto.OfficeFile(source).encrypt(f"secret{salt}", target)
    return target.getvalue()


def html_as_pdf(rng: random.Random, salt: int) -> bytes:
    return f"<!DOCTYPE html><html><body>Session expired {salt}</body></html>".encode()


def exe_as_pdf(rng: random.Random, salt: int) -> bytes:
    return b"MZ\x90\x00" + rng.randbytes(4096)


def exe_as_docx(rng: random.Random, salt: int) -> bytes:
    return b"MZ\x90\x00\x03\x00" + rng.randbytes(4096)


def text_as_docx(rng: random.Random, salt: int) -> bytes:
    return f"Saved as plain text {salt}.\n".encode() * 40


def noise_as_pdf(rng: random.Random, salt: int) -> bytes:
    return rng.randbytes(8192)


def header_then_noise_pdf(rng: random.Random, salt: int) -> bytes:
    return b"%PDF-1.7\n" + rng.randbytes(20_000)


def garbage_ole_doc(rng: random.Random, salt: int) -> bytes:
    return bytes.fromhex("D0CF11E0A1B11AE1") + rng.randbytes(20_000)


def zip_bomb_docx(rng: random.Random, salt: int) -> bytes:
    """A document part of a gigabyte of one letter, a megabyte on disk."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        bomb.writestr("[Content_Types].xml", f"<Types salt='{salt}'/>")
        with bomb.open("word/document.xml", "w", force_zip64=True) as part:
            block = b"A" * (1 << 20)
            for _ in range(1024):
                part.write(block)
    return buffer.getvalue()


def xxe_docx(rng: random.Random, salt: int) -> bytes:
    doctype = '<!DOCTYPE w:document [<!ENTITY leak SYSTEM "file:///etc/passwd">]>'
    body = f"<w:p><w:r><w:t>&leak; {salt}</w:t></w:r></w:p>"
    return docx_with({"word/document.xml": document_xml(body, doctype)})


def entity_expansion_docx(rng: random.Random, salt: int) -> bytes:
    """The billion laughs: ten levels of ten references each."""
    entities = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10)
    )
    body = f"<w:p><w:r><w:t>&l9; {salt}</w:t></w:r></w:p>"
    return docx_with(
        {"word/document.xml": document_xml(body, f"<!DOCTYPE w:document [{entities}]>")}
    )


def malformed_xml_docx(rng: random.Random, salt: int) -> bytes:
    return docx_with({"word/document.xml": f"<w:document><w:body salt='{salt}'>".encode()})


def docx_without_body(rng: random.Random, salt: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        target.writestr("[Content_Types].xml", f"<Types salt='{salt}'/>")
    return buffer.getvalue()


def zip_named_odt(rng: random.Random, salt: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        target.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        target.writestr("content.xml", f"<office:document-content salt='{salt}'>")
    return buffer.getvalue()


def garbage_rtf(rng: random.Random, salt: int) -> bytes:
    return b"{\\rtf1\\ansi " + rng.randbytes(4000)


def many_pages_pdf(rng: random.Random, salt: int) -> bytes:
    return pdf_with_text([f"Appendix {salt}", "Background papers"], pages=2000)


def many_rows_docx(rng: random.Random, salt: int) -> bytes:
    """A plan table of 10,000 rows: large, but a plan all the same."""
    from docx import Document

    document = Document()
    table = document.add_table(rows=1, cols=4)
    for cell, text in zip(
        table.rows[0].cells, ["Ref", "Action", "Deadline", "Lead Officer"], strict=True
    ):
        cell.text = text
    for number in range(10_000):
        cells = table.add_row().cells
        cells[0].text = f"KA.{number + 1}"
        cells[1].text = f"Review service {number} {salt}"
        cells[2].text = "31-Mar-25"
        cells[3].text = "Head of Service"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def giant_page_pdf(rng: random.Random, salt: int) -> bytes:
    """An image-only page 14,400 points (200 inches) square: rendered for OCR at 300 dpi it
    would need 60,000 pixels a side."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(14_400, 14_400))
    pdf.rect(100, 100, 50 + salt, 50, fill=1)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def javascript_pdf(rng: random.Random, salt: int) -> bytes:
    source, target = io.BytesIO(salted_pdf(salt)), io.BytesIO()
    with pikepdf.open(source) as pdf:
        action = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
        pdf.Root.OpenAction = pdf.make_indirect(action)
        pdf.save(target)
    return target.getvalue()


def page_tree_loop_pdf(rng: random.Random, salt: int) -> bytes:
    """A page tree whose Kids point back at itself."""
    source, target = io.BytesIO(salted_pdf(salt)), io.BytesIO()
    with pikepdf.open(source) as pdf:
        pages = pdf.Root.Pages
        pages.Kids.append(pages)
        pages.Count = 2
        pdf.save(target, fix_metadata_version=False)
    return target.getvalue()


KINDS: dict[str, tuple[str, Maker, int]] = {
    # kind: (suffix, maker, how many)
    "empty": (".pdf", lambda rng, salt: b"", 12),
    "empty-docx": (".docx", lambda rng, salt: b"", 5),
    "truncated-pdf": (".pdf", truncated_pdf, 12),
    "truncated-docx": (".docx", truncated_docx, 12),
    "encrypted-pdf": (".pdf", encrypted_pdf, 10),
    "encrypted-docx": (".docx", encrypted_docx, 6),
    "html-as-pdf": (".pdf", html_as_pdf, 12),
    "exe-as-pdf": (".pdf", exe_as_pdf, 10),
    "exe-as-docx": (".docx", exe_as_docx, 10),
    "text-as-docx": (".docx", text_as_docx, 10),
    "noise-as-pdf": (".pdf", noise_as_pdf, 12),
    "pdf-header-then-noise": (".pdf", header_then_noise_pdf, 12),
    "garbage-ole": (".doc", garbage_ole_doc, 10),
    "zip-bomb": (".docx", zip_bomb_docx, 3),
    "xxe": (".docx", xxe_docx, 8),
    "entity-expansion": (".docx", entity_expansion_docx, 8),
    "malformed-xml": (".docx", malformed_xml_docx, 10),
    "docx-without-body": (".docx", docx_without_body, 8),
    "zip-named-odt": (".odt", zip_named_odt, 6),
    "garbage-rtf": (".rtf", garbage_rtf, 6),
    "javascript-pdf": (".pdf", javascript_pdf, 8),
    "page-tree-loop": (".pdf", page_tree_loop_pdf, 8),
    "giant-page": (".pdf", giant_page_pdf, 2),
    "2000-pages": (".pdf", many_pages_pdf, 1),
    "10000-rows": (".docx", many_rows_docx, 1),
}
"""Each kind, its file suffix, the maker, and how many to make."""

CONTROL_NAMES = ["tab\there", "bell\x07", "newline\nname", "escape\x1b[31mred"]
"""Names with control characters (a name cannot hold NUL on disk; uploads test that)."""


def hostile_files(folder: Path, seed: int = 15) -> Iterator[tuple[str, Path]]:
    """Write every kind into `folder`; yield (kind, path) for each file."""
    rng = random.Random(seed)
    salt = 0
    for kind, (suffix, make, count) in KINDS.items():
        for number in range(count):
            salt += 1
            stem = f"{kind}-{number:02d}"
            if number < len(CONTROL_NAMES) and kind in ("html-as-pdf", "noise-as-pdf"):
                stem = f"{CONTROL_NAMES[number]}-{stem}"
            path = folder / f"{stem}{suffix}"
            path.write_bytes(make(rng, salt))
            yield kind, path


def main() -> None:
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    made = list(hostile_files(folder))
    print(f"{len(made)} files of {len({kind for kind, _ in made})} kinds in {folder}")


if __name__ == "__main__":
    main()
