"""HTML: the visible text as Markdown (headings, lists, tables, code blocks: ``html_markdown``).

Scripts, styles, navigation, headers, footers, comments and ``hidden`` elements are removed, and
so are in-page tables of contents and hidden copies of the title (``html_boilerplate``). The
title comes from ``<title>`` or the first ``<h1>``; ``<html lang>`` becomes ``html_lang`` metadata.
"""

from __future__ import annotations

import codecs
import re
from typing import Any
from urllib.parse import urlsplit

from bs4 import BeautifulSoup
from bs4.element import PreformattedString, Tag

from .common import is_blank, single_document
from .encoding import DecodedText, decode_declared
from .html_boilerplate import remove_boilerplate
from .html_markdown import is_invisible, render_markdown
from .results import ParseOptions, ParseResult, Rejected
from .titles import looks_like_title, normalise_title, strip_site_affix

__all__ = ["parse_html"]

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
# <title> and <h1> elements tried as the title: each try reads the element's text (or its
# ancestors), so trying every one of thousands of nested elements would be quadratic.
_TITLE_CANDIDATE_LIMIT = 10


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
    "index.html" in ``<title>`` falls back to the ``<h1>``. Only the first
    ``_TITLE_CANDIDATE_LIMIT`` of each are tried.
    """
    site_names = _site_names(soup)
    for tag in soup.find_all("title", limit=_TITLE_CANDIDATE_LIMIT):
        if tag.find_parent("svg") is None and (title := normalise_title(_own_text(tag))):
            title = strip_site_affix(title, site_names)
            if looks_like_title(title):
                return title
    for tag in soup.find_all("h1", limit=_TITLE_CANDIDATE_LIMIT):
        if looks_like_title(title := normalise_title(_element_text(tag))):
            return title
    return None


def parse_html(content: bytes, options: ParseOptions) -> ParseResult:
    """HTML: the visible text as Markdown, without tables of contents or repeated titles; title
    from ``<title>`` or the first ``<h1>``; ``html_lang``."""
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
    remove_boilerplate(soup, title, hidden=is_invisible)
    return single_document(render_markdown(soup), title, metadata, "HTML has no visible text")
