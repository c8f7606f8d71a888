"""Legacy .doc, .odt and .rtf: converted to .docx by LibreOffice headless, then parsed as Word."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from parsers.model import ParsedDocument, ParseError
from parsers.ocr import GARBAGE, garbage_share
from parsers.word import parse_docx

CONVERSION_SECONDS = 120
INSTALL_HINT = (
    "LibreOffice is needed to read .doc, .odt and .rtf files but `soffice` was not found; "
    "install it with `apt-get install libreoffice-writer-nogui`"
)


def find_soffice() -> str:
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    raise ParseError(INSTALL_HINT)


def convert_to_docx(path: Path, workdir: Path, timeout: float = CONVERSION_SECONDS) -> Path:
    """Convert with a private LibreOffice profile so parallel workers never share one."""
    soffice = find_soffice()
    profile = workdir / "profile"
    source = workdir / f"source{path.suffix.lower()}"
    shutil.copyfile(path, source)
    command = [
        soffice,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        "docx:MS Word 2007 XML",
        "--outdir",
        str(workdir / "out"),
        str(source),
    ]
    try:
        subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:
        raise ParseError(f"LibreOffice did not convert the file within {timeout:.0f} s") from error
    converted = workdir / "out" / "source.docx"
    if not converted.exists() or converted.stat().st_size == 0:
        raise ParseError("LibreOffice could not open this file (damaged or not a document)")
    return converted


def parse_legacy(path: Path) -> ParsedDocument:
    with tempfile.TemporaryDirectory(prefix="councilreg-lo-") as tmp:
        converted = convert_to_docx(path, Path(tmp))
        parsed = parse_docx(converted)
    if garbage_share(parsed.facts.first_text) > GARBAGE:
        raise ParseError(
            "it has a Word header but no readable text; the file is damaged or not a Word document"
        )
    parsed.parser = f"{path.suffix.lower().lstrip('.') or 'legacy'}+docx"
    return parsed
