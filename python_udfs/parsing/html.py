"""HTML: visible text only, one line per block element and a blank line between paragraphs.

Scripts, styles, navigation, comments and ``hidden`` elements are removed, and so are in-page
tables of contents and hidden copies of the title (``html_boilerplate``). The title comes from
``<title>`` or the first ``<h1>``; ``<html lang>`` becomes ``html_lang`` metadata.
"""

from __future__ import annotations

import codecs
import re
from typing import Any
from urllib.parse import urlsplit

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PreformattedString, Tag

from .common import is_blank, single_document
from .encoding import DecodedText, decode_declared
from .html_boilerplate import remove_boilerplate
from .results import ParseOptions, ParseResult, Rejected
from .titles import looks_like_title, normalise_title, strip_site_affix

__all__ = ["parse_html"]

_REMOVED_TAGS = frozenset(
    "script style noscript template nav header footer aside svg iframe form canvas object embed audio video".split()
)
# Tags that end a paragraph (blank line) or a line (newline).
_PARAGRAPH_TAGS = frozenset(
    "address article blockquote body caption center details dialog dir div dl fieldset figcaption "
    "figure h1 h2 h3 h4 h5 h6 hgroup hr html main menu ol p pre section summary table ul".split()
)
_LINE_TAGS = frozenset("dd dt legend li option tr".split())
_CELL_TAGS = frozenset(("td", "th"))
_PREFORMATTED_TAGS = frozenset(("pre", "textarea", "listing", "xmp", "plaintext"))
_HTML_SPACE = re.compile(r"[ \t\n\r\f\xa0]+")
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_META_CHARSET_WINDOW = 4096
# ``<?xml version="1.0" encoding="..."?>``: only at the very start (after white space).
_XML_DECLARATION = re.compile(rb"""\A\s*<\?xml\s[^>]*?encoding\s*=\s*["']\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# Labels the WHATWG encoding standard reads as a superset encoding (by Python codec name).
_WHATWG_SUPERSETS = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gbk",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
    "big5": "big5hkscs",
}


def _declared_html_encoding(content: bytes) -> str | None:
    """The charset an ``<?xml encoding?>`` or a ``<meta charset>`` near the start declares, if usable.

    The XML declaration comes first in the file, so it wins. The name is a Python codec name,
    widened to the superset the WHATWG encoding standard decodes it with (ISO-8859-1 and ASCII
    mean windows-1252...). UTF-16/32 declarations are ignored: the declaration was readable as
    ASCII, so the document is not UTF-16/32.
    """
    match = _XML_DECLARATION.match(content) or _META_CHARSET.search(content[:_META_CHARSET_WINDOW])
    if not match:
        return None
    try:
        name = codecs.lookup(match.group(1).decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None
    if name.startswith(("utf-16", "utf-32")):
        return None
    return _WHATWG_SUPERSETS.get(name, name)


def _decode_html(content: bytes) -> DecodedText:
    """Decode HTML: BOM first, then the declared charset (XML or ``<meta>``), else detection.

    ``decode_declared`` falls back to detection when the declaration does not decode the bytes.
    """
    return decode_declared(content, _declared_html_encoding(content))


class _TextBuilder:
    """Accumulates visible text; block boundaries become newlines, spaces are collapsed."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._pending_newlines = 0
        self._at_line_start = True

    def add_text(self, text: str, preformatted: bool = False) -> None:
        """Append text; outside ``<pre>`` whitespace runs collapse to one space."""
        if not preformatted:
            text = _HTML_SPACE.sub(" ", text)
            if self._at_line_start or self._pending_newlines or self._parts[-1].endswith(" "):
                text = text.lstrip(" ")
        if not text:
            return
        if self._pending_newlines:
            self._parts.append("\n" * self._pending_newlines)
            self._pending_newlines = 0
        self._parts.append(text)
        self._at_line_start = text.endswith("\n")

    def end_block(self, newlines: int) -> None:
        """Request ``newlines`` (1: new line, 2: blank line) before the next text."""
        if self._parts:
            self._pending_newlines = max(self._pending_newlines, newlines)

    def line_break(self) -> None:
        """A ``<br>``: one more newline, at most a blank line."""
        if self._parts:
            self._pending_newlines = min(self._pending_newlines + 1, 2)

    def text(self) -> str:
        """The text, trailing spaces removed from every line."""
        lines = "".join(self._parts).split("\n")
        return "\n".join(line.rstrip() for line in lines).strip("\n")


def _block_newlines(name: str) -> int:
    """Newlines around a tag: 2 for paragraph-like blocks, 1 for line-like ones, else 0."""
    if name in _PARAGRAPH_TAGS:
        return 2
    return 1 if name in _LINE_TAGS else 0


def _is_invisible(tag: Tag) -> bool:
    """Elements whose content is not page text: scripts, navigation, ``hidden`` elements..."""
    return tag.name in _REMOVED_TAGS or tag.has_attr("hidden")


def _visible_text(root: Tag) -> str:
    """The text of ``root`` as a reader sees it; iterative, so deep nesting is fine.

    Invisible elements (``_is_invisible``) and comments are skipped whole. ``<title>`` loses
    only its own text: with an unclosed ``<title>``, html.parser nests the rest of the document
    inside it, and that content must survive.
    """
    builder = _TextBuilder()
    preformatted_depth = 0
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        if closing:
            if node.name in _PREFORMATTED_TAGS:
                preformatted_depth -= 1
            if node.name in _CELL_TAGS:
                builder.add_text(" ")
            builder.end_block(_block_newlines(node.name))
        elif isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, doctype, CDATA...
                builder.add_text(str(node), preformatted_depth > 0)
        elif isinstance(node, Tag):
            if _is_invisible(node):
                continue
            if node.name == "br":
                builder.line_break()
                continue
            if node.name == "title":
                stack.extend((child, False) for child in reversed(node.contents) if isinstance(child, Tag))
                continue
            builder.end_block(_block_newlines(node.name))
            if node.name in _CELL_TAGS:
                builder.add_text(" ")  # cells of a row stay on one line, space separated
            if node.name in _PREFORMATTED_TAGS:
                preformatted_depth += 1
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.contents))
    return builder.text()


def _element_text(tag: Tag) -> str:
    """The text of one element on a single line."""
    return " ".join(tag.get_text(" ").split())


def _own_text(tag: Tag) -> str:
    """The text directly inside ``tag`` (not in child elements or comments), on a single line."""
    strings = tag.find_all(string=True, recursive=False)
    return " ".join("".join(s for s in strings if not isinstance(s, PreformattedString)).split())


# <meta> names and properties that declare the site's name, and how many <meta>/<link> tags are read.
_SITE_NAME_METAS = frozenset(("og:site_name", "application-name", "apple-mobile-web-app-title"))
_SITE_NAME_TAG_LIMIT = 200


def _host_names(url: str) -> set[str]:
    """Names a site goes by from one of its URLs: the host, without ``www.``, and its main label."""
    try:
        host = (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:  # e.g. a malformed IPv6 host
        return set()
    if "." not in host:
        return set()
    bare = host.removeprefix("www.")
    labels = bare.split(".")
    return {host, bare, labels[-2]}


def _site_names(soup: BeautifulSoup) -> set[str]:
    """Lower-case names the page gives its site: ``og:site_name``, ``application-name``, its hosts."""
    names: set[str] = set()
    for tag in soup.find_all(["meta", "link"], limit=_SITE_NAME_TAG_LIMIT):
        key = str(tag.get("property") or tag.get("name") or "").lower()
        rel = tag.get("rel")
        value = tag.get("content") if tag.name == "meta" else tag.get("href")
        if not isinstance(value, str) or not value.strip():
            continue
        if key in _SITE_NAME_METAS:
            names.add(" ".join(value.split()).lower())
        elif key == "og:url" or (tag.name == "link" and isinstance(rel, list) and "canonical" in rel):
            names.update(_host_names(value))
    return names


def _html_title(soup: BeautifulSoup) -> str | None:
    """``<title>`` (outside SVG) without its site-name affix, else the first ``<h1>``, else None.

    Either must look like a title (``titles.looks_like_title``): "Untitled Document" or
    "index.html" in ``<title>`` falls back to the ``<h1>``.
    """
    site_names = _site_names(soup)
    for tag in soup.find_all("title"):
        if tag.find_parent("svg") is None and (title := normalise_title(_own_text(tag))):
            title = strip_site_affix(title, site_names)
            if looks_like_title(title):
                return title
    for tag in soup.find_all("h1"):
        if looks_like_title(title := normalise_title(_element_text(tag))):
            return title
    return None


def parse_html(content: bytes, options: ParseOptions) -> ParseResult:
    """HTML: visible text without tables of contents or repeated titles; title from ``<title>``
    or the first ``<h1>``; ``html_lang``."""
    decoded = _decode_html(content)
    html = decoded.text
    if is_blank(html):
        raise Rejected("empty_text", "HTML file contains only whitespace")
    soup = BeautifulSoup(html, "html.parser")
    title = _html_title(soup)
    metadata: dict[str, Any] = decoded.metadata()
    html_tag = soup.find("html")
    if isinstance(html_tag, Tag) and isinstance(lang := html_tag.get("lang"), str) and lang.strip():
        metadata["html_lang"] = lang.strip()
    remove_boilerplate(soup, title, hidden=_is_invisible)
    return single_document(_visible_text(soup), title, metadata, "HTML has no visible text")
