"""Titles: whether a string looks like a document title, and where else to find one.

Shared by the PDF parser (metadata ``/Title`` when it looks like a title, else the first
heading-like line of the first page) and the HTML parser (``<title>`` without its site-name
affix, else the first ``<h1>``). A title is never a file name, an encoding name, a bare number,
an identifier or an authoring tool's placeholder ("Untitled", "Model", "Microsoft Word - ...").
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Collection, Iterable
from itertools import islice

from .common import safe_text

__all__ = [
    "MAX_TITLE_CHARS",
    "first_heading_line",
    "looks_like_title",
    "normalise_title",
    "strip_site_affix",
]

MAX_TITLE_CHARS = 200
MAX_TITLE_WORDS = 30
MIN_TITLE_LETTERS = 2
# Letters among the non-space characters of a title ("2004-08" and "306272" have too few).
MIN_TITLE_LETTER_SHARE = 0.5
# A single token with this many digits is a file or item identifier ("DSC00123", "scan0001").
MIN_IDENTIFIER_DIGITS = 3

# A heading line of page text is shorter and more clearly made of words than a metadata title.
MAX_HEADING_CHARS = 120
MAX_HEADING_WORDS = 15
MIN_HEADING_LETTER_SHARE = 0.7
# Lines of the first page looked at; a longer line (body text) ends the search earlier.
MAX_HEADING_SCAN_LINES = 10
# Lines at the top and bottom of the other pages that make up their running headers and footers.
RUNNING_HEADER_LINES = 2
# Other pages whose edges are compared (the first ones after the page: enough to see a pattern).
RUNNING_HEADER_PAGES = 20
# A lower-case line of more words than this is a sentence running on, not a short label.
MAX_LOWERCASE_LABEL_WORDS = 3

# Extensions that make a title a file name ("Binder1.pdf", "Test Orient PDF.docx").
_FILE_EXTENSIONS = frozenset(
    "pdf doc docx docm dot dotx rtf odt ods odp odg txt text md tex dvi ps eps xls xlsx xlsm csv ppt pptx pps ppsx "
    "key pages numbers pub indd qxd qxp fm wpd wps vsd vsdx dwg dxf html htm xhtml xml jpg jpeg png gif tif tiff "
    "bmp svg ai psd cdr sxw zip".split()
)
# Placeholders that authoring tools write as a title (compared lower-case, trailing digits removed).
_GENERIC_TITLES = frozenset(
    (
        "untitled", "no title", "title", "document", "new document", "doc", "model", "layout",
        "sheet", "slide", "presentation", "powerpoint presentation", "binder", "print", "scan", "image", "page",
        "default", "draft", "test", "example", "sample", "name", "none", "null", "unknown", "n/a", "home",
        "index", "welcome", "contents", "table of contents", "abstract", "confidential",
    )
)  # fmt: skip
# Encoding names without a digit ("windows-1254" and "utf-8" have one).
_DIGITLESS_ENCODINGS = frozenset(("ascii", "usascii", "macroman", "macintosh", "shiftjis", "sjis", "gbk", "eucjp"))
_AUTHORING_PREFIX = re.compile(r"^(?:microsoft\s+)?(?:word|excel|powerpoint|visio|publisher)\s+-\s", re.IGNORECASE)
# Numbering after a placeholder ("Document1", "Slide 3", "Untitled (2)").
_PLACEHOLDER_NUMBERING = " \t0123456789._#()-"
_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,7})$")
_IDENTIFIER = re.compile(r"^[\w.-]+$")
_PAGE_NUMBER = re.compile(
    r"^(?:page|p\.|seite|pagina|página)?\s*[-–—]?\s*\d+\s*[-–—]?(?:\s*(?:of|/|sur|von|de)\s*\d+)?$",
    re.IGNORECASE,
)
_PAGE_OF_PAGES = re.compile(r"\b(?:page|seite|p\.)\s*\d+\s*(?:of|/|sur|von|de)\s*\d+\b", re.IGNORECASE)
_ENUMERATOR = re.compile(r"^(?:\d+(?:\.\d+)*[.)]?|\([A-Za-z0-9]{1,3}\)|[*•·▪‣–—-])\s")
_HYPHENATED_END = re.compile(r"[^\W\d_]-$")
_FOLIO_AFTER_SENTENCE = re.compile(r"\.\s*\d{1,4}$")
_NON_HEADING_END = (",", ";", ":", "-", "‐")
_SITE_SEPARATOR = re.compile(r"\s+(?:\||–|—|-|::|·|•|»)\s+")
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,24}$", re.IGNORECASE)


def normalise_title(text: str) -> str:
    """``text`` on one line: safe characters, whitespace runs collapsed to single spaces."""
    return " ".join(safe_text(text).split())


def _letter_share(text: str) -> tuple[int, float]:
    """The number of letters in ``text`` and their share of its non-space characters."""
    visible = [char for char in text if not char.isspace()]
    letters = sum(char.isalpha() for char in visible)
    return letters, letters / len(visible) if visible else 0.0


def _is_file_name(text: str) -> bool:
    """A file name or path: ``report.pdf``, ``Microsoft Word - X.docx``, ``C:\\docs\\a``."""
    match = _EXTENSION.search(text)
    if match and match.group(1).lower() in _FILE_EXTENSIONS:
        return True
    return " " not in text and ("/" in text or "\\" in text)


def _is_encoding_name(text: str) -> bool:
    """A character encoding's name (``windows-1254``, ``UTF-8``, ``ascii``), as broken tools write it."""
    if " " in text:
        return False
    try:
        codecs.lookup(text)
    except (LookupError, ValueError):
        return False
    squashed = re.sub(r"[-_.]", "", text.lower())
    return any(char.isdigit() for char in text) or squashed in _DIGITLESS_ENCODINGS


def _is_placeholder(text: str) -> bool:
    """An authoring tool's stand-in: "Untitled document", "Document1", "Slide 3", "Microsoft Word - ..."."""
    lowered = text.lower()
    if lowered.startswith("untitled") or _AUTHORING_PREFIX.match(text):
        return True
    return lowered.rstrip(_PLACEHOLDER_NUMBERING) in _GENERIC_TITLES or lowered in _GENERIC_TITLES


def _is_identifier(text: str) -> bool:
    """One token that names a thing rather than titling it: ``imagemagick-images``, ``DSC00123``, ``a_b``.

    A short number inside a word is fine ("COVID-19", "Web3").
    """
    if not _IDENTIFIER.match(text):
        return False
    digits = sum(char.isdigit() for char in text)
    return "_" in text or digits >= MIN_IDENTIFIER_DIGITS or ("-" in text and text == text.lower())


def looks_like_title(text: str) -> bool:
    """True when ``text`` (already normalised) could be a document's title.

    Rejected: blank, too long (over ``MAX_TITLE_CHARS`` characters or ``MAX_TITLE_WORDS`` words),
    fewer than ``MIN_TITLE_LETTERS`` letters or mostly non-letters (bare numbers, dates), file
    names and paths, encoding names, authoring-tool placeholders and single identifiers.
    """
    if not text or len(text) > MAX_TITLE_CHARS or len(text.split()) > MAX_TITLE_WORDS:
        return False
    letters, share = _letter_share(text)
    if letters < MIN_TITLE_LETTERS or share < MIN_TITLE_LETTER_SHARE:
        return False
    return not (_is_file_name(text) or _is_encoding_name(text) or _is_placeholder(text) or _is_identifier(text))


def _running_key(line: str) -> str:
    """A line without digits, spaces and case: running headers differ only by their page number."""
    return re.sub(r"[\d\s]+", "", line.lower())


def _running_header_keys(pages: Iterable[str]) -> set[str]:
    """Keys (``_running_key``) of the top and bottom lines of ``pages``: their headers and footers."""
    keys: set[str] = set()
    for page in pages:
        lines = [line for line in page.split("\n") if line.strip()]
        edge = lines[:RUNNING_HEADER_LINES] + lines[-RUNNING_HEADER_LINES:]
        keys.update(key for line in edge if (key := _running_key(line)))
    return keys


def _is_heading_line(line: str, running: Collection[str]) -> bool:
    """A short line of words that can head a page: not a page number, list item, label or header."""
    if len(line) > MAX_HEADING_CHARS or not looks_like_title(line):
        return False
    if _letter_share(line)[1] < MIN_HEADING_LETTER_SHARE or line.endswith(_NON_HEADING_END):
        return False
    if line[0].islower() or _ENUMERATOR.match(line) or _PAGE_NUMBER.match(line) or _PAGE_OF_PAGES.search(line):
        return False
    if _FOLIO_AFTER_SENTENCE.search(line):
        return False
    # A line repeated at the edge of other pages with another number is a running header ("50 THE
    # SIEGE OF VICKSBURG."); one repeated without a number may well be the document's own title.
    return not (_running_key(line) in running and any(char.isdigit() for char in line))


def _is_body_line(line: str) -> bool:
    """A line of running text: long, hyphenated at its end ("dan-"), or a sentence continued in lower case."""
    words = len(line.split())
    if len(line) > MAX_HEADING_CHARS or words > MAX_HEADING_WORDS:
        return True
    return bool(_HYPHENATED_END.search(line)) or (line[0].islower() and words > MAX_LOWERCASE_LABEL_WORDS)


def first_heading_line(page: str, other_pages: Iterable[str] = ()) -> str | None:
    """The first heading-like line near the top of ``page``, else None.

    Looks at up to ``MAX_HEADING_SCAN_LINES`` non-blank lines and stops at the first line of body
    text (``_is_body_line``): a title comes before the text it heads. Lines that repeat, with
    other numbers, at the top or bottom of ``other_pages`` (running headers, footers) are skipped.
    """
    running = _running_header_keys(islice(other_pages, RUNNING_HEADER_PAGES))
    lines = (line for raw in page.split("\n") if (line := normalise_title(raw)))
    for line in islice(lines, MAX_HEADING_SCAN_LINES):
        if _is_body_line(line):
            return None
        if _is_heading_line(line, running):
            return line
    return None


def _is_site_name(segment: str, site_names: Collection[str]) -> bool:
    """A site's name: a domain (``peps.python.org``) or one of ``site_names`` (lower-case)."""
    return bool(_DOMAIN.match(segment)) or segment.lower() in site_names


def strip_site_affix(title: str, site_names: Collection[str] = ()) -> str:
    """``title`` without a leading or trailing site name ("PEP 8 – Style | peps.python.org").

    The affix is split off at ``|``, ``–``, ``—``, ``-``, ``::``, ``·``, ``•`` or ``»`` surrounded by
    spaces, and removed only when it is a domain name or one of ``site_names`` (lower-case: the
    page's declared site name, its host...), so that titles like "Spider-Man - Far From Home"
    keep their dash. What remains must still look like a title.
    """
    parts = _SITE_SEPARATOR.split(title)
    separators = _SITE_SEPARATOR.findall(title)
    if len(parts) < 2:
        return title
    start, end = 0, len(parts)
    if _is_site_name(parts[-1], site_names):
        end -= 1
    if end - start > 1 and _is_site_name(parts[0], site_names):
        start += 1
    if (start, end) == (0, len(parts)):
        return title
    pieces = [parts[start]]
    for separator, part in zip(separators[start : end - 1], parts[start + 1 : end]):
        pieces.extend((separator, part))
    stripped = "".join(pieces)
    return stripped if looks_like_title(stripped) else title
