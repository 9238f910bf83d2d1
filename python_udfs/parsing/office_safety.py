"""Checks every Office Open XML file (.docx, .pptx, .xlsx) passes before a library opens it.

An OOXML file is a ZIP package. ``open_package`` rejects, from the bytes and the ZIP central
directory alone (nothing is decompressed):

* a password-protected file (an OLE2/CFB container, magic ``D0 CF 11 E0``, holding an
  ``EncryptedPackage`` stream) as ``encrypted``; another OLE2 file (a legacy .doc/.xls/.ppt under
  a new extension) as ``unsupported_type``; encrypted ZIP members as ``encrypted``;
* bytes that are not a ZIP package, a truncated or corrupt ZIP directory, or a package without
  ``[Content_Types].xml`` as ``parse_error``;
* a decompression bomb as ``too_large``: more than ``MAX_ZIP_MEMBERS`` members, a member larger
  than ``MAX_ZIP_MEMBER_BYTES`` or a package larger than ``MAX_ZIP_TOTAL_BYTES`` uncompressed, or
  a member over ``RATIO_GRACE_BYTES`` that expands more than ``MAX_COMPRESSION_RATIO`` times.

The declared sizes are a hard bound: Python's ``zipfile`` (which python-docx, python-pptx and
openpyxl read with) never yields more than a member's declared size, and a member whose data
does not match fails its CRC check (``parse_error``). The limits are module constants, read when
a file is checked, so tests and deployments can change them (like ``limits``).
"""

from __future__ import annotations

import io
import zipfile

from .common import describe
from .results import Rejected

__all__ = [
    "CFB_MAGIC",
    "MAX_COMPRESSION_RATIO",
    "MAX_OFFICE_TEXT_CHARS",
    "MAX_SPREADSHEET_CELLS",
    "MAX_SPREADSHEET_ROWS",
    "MAX_SPREADSHEET_SCANNED_ROWS",
    "MAX_ZIP_MEMBERS",
    "MAX_ZIP_MEMBER_BYTES",
    "MAX_ZIP_TOTAL_BYTES",
    "RATIO_GRACE_BYTES",
    "check_text_size",
    "open_package",
]

MAX_ZIP_MEMBERS = 10_000  # parts in one package
MAX_ZIP_MEMBER_BYTES = 100 * 1024 * 1024  # uncompressed size of one part
MAX_ZIP_TOTAL_BYTES = 400 * 1024 * 1024  # uncompressed size of all parts together
MAX_COMPRESSION_RATIO = 200  # uncompressed / compressed size of a part larger than RATIO_GRACE_BYTES
RATIO_GRACE_BYTES = 1024 * 1024  # parts up to this size may compress any amount (tiny XML parts do)
MAX_OFFICE_TEXT_CHARS = 20_000_000  # text extracted from one Office or CSV file (as MAX_PDF_TOTAL_CHARS)
MAX_SPREADSHEET_ROWS = 100_000  # non-empty data rows of one workbook or CSV file, all sheets together
MAX_SPREADSHEET_SCANNED_ROWS = 1_048_576  # rows (empty ones too) read from one sheet: Excel's own maximum
MAX_SPREADSHEET_CELLS = 5_000_000  # cells read (row widths summed) from one workbook or CSV file

# The OLE2 / Compound File Binary signature: legacy Office files and encrypted OOXML files.
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# The stream an encrypted OOXML file keeps its package in; CFB directory names are UTF-16LE.
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_CONTENT_TYPES = "[Content_Types].xml"
_ENCRYPTED_MEMBER_FLAG = 0x1


def _check_container(content: bytes, kind: str) -> None:
    """Reject OLE2 containers (encrypted OOXML, legacy binary Office) and bytes that are no ZIP."""
    if content.startswith(CFB_MAGIC):
        if _ENCRYPTED_PACKAGE in content:
            raise Rejected("encrypted", f"encrypted Office file: the {kind} is password-protected (EncryptedPackage)")
        raise Rejected(
            "unsupported_type",
            f"legacy binary Office file (OLE2/CFB container) with a .{kind} extension; save it as .{kind}",
        )
    if not content.startswith(_ZIP_MAGICS):
        raise Rejected("parse_error", f"not a .{kind} file: no ZIP package signature (starts with {content[:8]!r})")


def _open_zip(content: bytes, kind: str) -> zipfile.ZipFile:
    """The ZIP directory of ``content``, or ``parse_error`` for a truncated or corrupt one."""
    try:
        return zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise Rejected("parse_error", f"corrupt or truncated .{kind} file (ZIP directory): {describe(exc)}") from exc


def _check_members(archive: zipfile.ZipFile, kind: str) -> None:
    """Reject encrypted members and decompression bombs from the declared sizes."""
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise Rejected("too_large", f".{kind} package has {len(members)} parts; the limit is {MAX_ZIP_MEMBERS}")
    total = 0
    for member in members:
        if member.flag_bits & _ENCRYPTED_MEMBER_FLAG:
            raise Rejected("encrypted", f"encrypted Office file: ZIP member {member.filename!r} is encrypted")
        size = member.file_size
        if size > MAX_ZIP_MEMBER_BYTES:
            raise Rejected(
                "too_large",
                f"possible zip bomb: part {member.filename!r} expands to {size} bytes; "
                f"the limit is {MAX_ZIP_MEMBER_BYTES} bytes per part",
            )
        ratio = size / max(member.compress_size, 1)
        if size > RATIO_GRACE_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise Rejected(
                "too_large",
                f"possible zip bomb: part {member.filename!r} expands {ratio:.0f} times "
                f"({member.compress_size} -> {size} bytes); the limit is {MAX_COMPRESSION_RATIO}",
            )
        total += size
        if total > MAX_ZIP_TOTAL_BYTES:
            raise Rejected(
                "too_large",
                f"possible zip bomb: the .{kind} package expands to more than {MAX_ZIP_TOTAL_BYTES} bytes",
            )
    if _CONTENT_TYPES not in archive.NameToInfo:
        raise Rejected("parse_error", f"not a .{kind} file: the ZIP package has no {_CONTENT_TYPES}")


def open_package(content: bytes, kind: str) -> zipfile.ZipFile:
    """The checked ZIP package of an OOXML file of extension ``kind`` ("docx", "pptx", "xlsx")."""
    _check_container(content, kind)
    archive = _open_zip(content, kind)
    try:
        _check_members(archive, kind)
    except BaseException:
        archive.close()
        raise
    return archive


def check_text_size(size: int, kind: str) -> None:
    """Reject as ``too_large`` once the text extracted so far (``size`` characters) is over the limit."""
    if size > MAX_OFFICE_TEXT_CHARS:
        raise Rejected("too_large", f".{kind} text exceeds {MAX_OFFICE_TEXT_CHARS} characters")
