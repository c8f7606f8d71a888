"""What a file really is, from its first bytes and (for zips) its member names.

File names lie: a ``.pdf`` saved from a browser is often HTML, and an encrypted
``.docx`` is an OLE compound file, not a zip.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from parsers.model import ParseError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
    "doc": "application/msword",
    "rtf": "application/rtf",
    "zip": "application/zip",
}


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "word/document.xml" in names:
                return "docx"
            if "mimetype" in names and archive.read("mimetype").startswith(
                b"application/vnd.oasis.opendocument.text"
            ):
                return "odt"
    except (zipfile.BadZipFile, OSError, KeyError) as error:
        raise ParseError(f"damaged zip container ({error})") from error
    return "zip"


def _ole_kind(path: Path) -> str:
    """Word 97 documents and password-protected OOXML files are both OLE containers."""
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    if (
        "EncryptionInfo".encode("utf-16-le") in head
        or "EncryptedPackage".encode("utf-16-le") in head
    ):
        raise ParseError("password-protected Office document; save an unprotected copy")
    return "doc"


def sniff(path: Path) -> str:
    """Return ``pdf``, ``docx``, ``odt``, ``doc``, ``rtf`` or ``zip``; raise for anything else."""
    with path.open("rb") as handle:
        head = handle.read(2048)
    if not head:
        raise ParseError("empty file (0 bytes)")
    stripped = head.lstrip()
    # Containers first: a zip holding a small PDF has "%PDF-" in its first kilobyte too.
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    if head.startswith(OLE_MAGIC):
        return _ole_kind(path)
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if stripped.startswith(b"{\\rtf"):
        return "rtf"
    lowered = stripped[:200].lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered:
        raise ParseError("this is an HTML page, not a document; download the file itself")
    raise ParseError(f"not a PDF or Word document (starts with {head[:8]!r})")
