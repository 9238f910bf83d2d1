"""HTML blocks that repeat what the page already says: in-page tables of contents, duplicated titles.

Both are removed from the parsed tree before its text is read (``remove_boilerplate``), so they
never become chunks: a table of contents holds every heading of the page and so matches every
question a little, and a title shown twice adds nothing the first copy does not.

* A **table of contents** is an element marked as one (an ``id`` or ``class`` such as ``toc``,
  ``contents``, ``table-of-contents``; ``role="doc-toc"``; a ``<details>`` whose ``<summary>``
  is "Table of Contents"; a heading "Contents" and the list right after it) whose text, apart
  from its label, is made only of links to anchors of the same page (``href="#..."``), with at
  least ``MIN_TOC_LINKS`` of them. A marked element that holds any other text is kept: the rule
  is meant to miss an unusual table of contents rather than remove content.
* A **repeated title** is a visually hidden element (``visually-hidden``, ``sr-only``... a copy
  for screen readers and site search) whose text is the page title or the text of an ``<h1>``:
  the visible heading stays, so the structure of the text does not change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PreformattedString, Tag

from .boilerplate import MIN_TOC_LINKS, is_separator_text, is_toc_label

__all__ = ["RemovedBlocks", "remove_boilerplate"]

# id / class tokens that mark a table of contents (compared lower-case, whole tokens only: an id
# "file-contents" is a section about file contents, not a table of contents).
TOC_NAMES = frozenset(
    ("toc", "contents", "table-of-contents", "tableofcontents", "page-toc", "localtoc", "local-toc", "on-this-page")
)
# Classes of elements shown to screen readers only (Bootstrap, WordPress, GOV.UK, Tailwind...).
VISUALLY_HIDDEN_CLASSES = frozenset(
    ("visually-hidden", "visuallyhidden", "sr-only", "screen-reader-text", "screenreader-only", "govuk-visually-hidden")
)
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_LISTS = ("ul", "ol")


@dataclass
class RemovedBlocks:
    """How many blocks ``remove_boilerplate`` removed, by kind."""

    tables_of_contents: int = 0
    repeated_titles: int = 0


def _text_key(text: str) -> str:
    """How two texts are compared: one line, white space collapsed, lower-case."""
    return " ".join(text.split()).lower()


def _tokens(tag: Tag, attribute: str) -> list[str]:
    """The lower-case tokens of a class-like attribute (``class`` is a list, ``id`` a string)."""
    value = tag.get(attribute)
    tokens = value.split() if isinstance(value, str) else list(value or ())
    return [str(token).lower() for token in tokens]


def _is_anchor_link(tag: Tag) -> bool:
    href = tag.get("href")
    return tag.name == "a" and isinstance(href, str) and href.strip().startswith("#") and len(href.strip()) > 1


def _only_anchor_links(root: Tag, label: Tag | None = None) -> bool:
    """Whether every word of ``root`` (its ``label`` aside) is the text of an in-page link, and
    there are at least MIN_TOC_LINKS such links with text."""
    links = 0
    for node in root.descendants:
        if isinstance(node, Tag):
            if _is_anchor_link(node) and node.get_text(strip=True):
                links += 1
            continue
        if not isinstance(node, NavigableString) or isinstance(node, PreformattedString):
            continue  # comments, CDATA...
        if label is not None and label in node.parents:
            continue
        if is_separator_text(str(node)) or is_toc_label(str(node)):
            continue
        if not any(isinstance(parent, Tag) and _is_anchor_link(parent) for parent in node.parents):
            return False
    return links >= MIN_TOC_LINKS


def _label_of(tag: Tag) -> Tag | None:
    """The element that labels a candidate table of contents: its ``<summary>``, first heading or caption."""
    for child in tag.find_all(["summary", *_HEADINGS, "p", "strong", "span", "div"], limit=3):
        if is_toc_label(child.get_text(" ")):
            return child
    return None


def _is_marked_toc(tag: Tag) -> bool:
    """Whether an element declares itself a table of contents (id, class, role, aria-label, summary)."""
    names = {*_tokens(tag, "id"), *_tokens(tag, "class")}
    if names & TOC_NAMES or "doc-toc" in _tokens(tag, "role"):
        return True
    if isinstance(aria := tag.get("aria-label"), str) and is_toc_label(aria):
        return True
    if tag.name == "details":
        summary = tag.find("summary")
        return isinstance(summary, Tag) and is_toc_label(summary.get_text(" "))
    return False


def _next_element(tag: Tag) -> Tag | None:
    """The next sibling element, skipping white space and comments; None when text comes first."""
    for sibling in tag.next_siblings:
        if isinstance(sibling, Tag):
            return sibling
        if isinstance(sibling, NavigableString) and not isinstance(sibling, PreformattedString) and sibling.strip():
            return None
    return None


def _is_hidden(tag: Tag, hidden: Callable[[Tag], bool]) -> bool:
    """Whether ``tag`` or one of its ancestors is ``hidden`` (its text is skipped anyway)."""
    return hidden(tag) or any(hidden(parent) for parent in tag.parents if isinstance(parent, Tag))


def _remove_tables_of_contents(soup: BeautifulSoup, hidden: Callable[[Tag], bool]) -> int:
    removed = 0
    for tag in soup.find_all(True):
        if tag.decomposed or not _is_marked_toc(tag) or _is_hidden(tag, hidden):
            continue
        if _only_anchor_links(tag, _label_of(tag)):
            tag.decompose()
            removed += 1
    # A heading (or paragraph) "Contents" and the list of in-page links right after it.
    for label in soup.find_all([*_HEADINGS, "p"]):
        if label.decomposed or not is_toc_label(label.get_text(" ")) or _is_hidden(label, hidden):
            continue
        listing = _next_element(label)
        if listing is not None and listing.name in _LISTS and _only_anchor_links(listing):
            listing.decompose()
            label.decompose()
            removed += 1
    return removed


def _remove_repeated_titles(soup: BeautifulSoup, title: str | None, hidden: Callable[[Tag], bool]) -> int:
    """Visually hidden copies of the title or of a visible ``<h1>``'s text."""
    shown = {_text_key(h1.get_text(" ")) for h1 in soup.find_all("h1") if not _is_hidden(h1, hidden)}
    shown.add(_text_key(title or ""))
    shown.discard("")
    removed = 0
    for tag in soup.find_all(class_=True):
        if tag.decomposed or not VISUALLY_HIDDEN_CLASSES.intersection(_tokens(tag, "class")):
            continue
        if tag.find("h1") is None and _text_key(tag.get_text(" ")) in shown and not _is_hidden(tag, hidden):
            tag.decompose()
            removed += 1
    return removed


def _never_hidden(tag: Tag) -> bool:
    return False


def remove_boilerplate(
    soup: BeautifulSoup, title: str | None, hidden: Callable[[Tag], bool] = _never_hidden
) -> RemovedBlocks:
    """Remove in-page tables of contents and hidden copies of the page ``title`` from ``soup``.

    Elements inside one that ``hidden`` calls hidden (navigation, scripts...: the caller skips
    their text) are left alone and not counted.
    """
    return RemovedBlocks(_remove_tables_of_contents(soup, hidden), _remove_repeated_titles(soup, title, hidden))
