"""Reading parts of a checked OOXML package (see ``office_safety``): safe XML and core properties.

The core properties (``docProps/core.xml``: title, author, dates...) are read straight from the
package, the same way for .docx, .pptx and .xlsx. The libraries cannot be asked: python-docx and
python-pptx invent defaults (a "Word Document" title, a ``modified`` date of now) for a file
without the part.
"""

from __future__ import annotations

import posixpath
import zipfile
from typing import Any

from lxml import etree

from .common import is_blank, one_line, safe_text

__all__ = ["CORE_PROPERTY_KEYS", "core_properties", "read_xml"]

# No entities, no network, libxml2's default size limits (no huge_tree): safe for hostile XML.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
_PACKAGE_RELS = "_rels/.rels"
_CORE_RELATIONSHIP = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
_RELS_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_DCTERMS = "{http://purl.org/dc/terms/}"
_CP = "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}"
# Core property element -> metadata key (the names python-docx and python-pptx give them).
CORE_PROPERTY_KEYS: dict[str, str] = {
    f"{_DC}title": "title",
    f"{_DC}creator": "author",
    f"{_DC}subject": "subject",
    f"{_DC}description": "comments",
    f"{_DC}language": "language",
    f"{_DC}identifier": "identifier",
    f"{_CP}keywords": "keywords",
    f"{_CP}category": "category",
    f"{_CP}contentStatus": "content_status",
    f"{_CP}lastModifiedBy": "last_modified_by",
    f"{_CP}revision": "revision",
    f"{_CP}version": "version",
    f"{_CP}lastPrinted": "last_printed",
    f"{_DCTERMS}created": "created",
    f"{_DCTERMS}modified": "modified",
}
MAX_PROPERTY_CHARS = 10_000


def read_xml(archive: zipfile.ZipFile, name: str) -> Any:
    """The root element of the XML part ``name``, or None when the part is missing."""
    if name not in archive.NameToInfo:
        return None
    return etree.fromstring(archive.read(name), _PARSER)


def _core_part_name(archive: zipfile.ZipFile) -> str | None:
    """The core-properties part the package relationships name (usually ``docProps/core.xml``)."""
    rels = read_xml(archive, _PACKAGE_RELS)
    if rels is None:
        return None
    for rel in rels.iter(f"{_RELS_NS}Relationship"):
        target = rel.get("Target")
        if rel.get("Type") == _CORE_RELATIONSHIP and target and rel.get("TargetMode") != "External":
            return posixpath.normpath(target.lstrip("/"))
    return None


def core_properties(archive: zipfile.ZipFile) -> dict[str, str]:
    """The non-blank core properties as strings on one line; dates stay as written (W3C ISO 8601).

    Broken or missing properties give an empty dict: they are metadata, never a reason to
    reject the file.
    """
    try:
        name = _core_part_name(archive)
        root = read_xml(archive, name) if name else None
    except (etree.XMLSyntaxError, zipfile.BadZipFile, ValueError, OSError, EOFError):
        return {}
    if root is None:
        return {}
    properties: dict[str, str] = {}
    for element in root:
        key = CORE_PROPERTY_KEYS.get(element.tag) if isinstance(element.tag, str) else None
        value = one_line(safe_text("".join(element.itertext())))[:MAX_PROPERTY_CHARS]
        if key is not None and key not in properties and not is_blank(value):
            properties[key] = value
    return properties
