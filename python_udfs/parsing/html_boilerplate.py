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
* A **close control** is a ``<button>``, or an element with a class such as ``close-button``,
  whose text is only a symbol (``×``, ``✕``): the button that dismisses a banner, not its text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PageElement, PreformattedString, Tag

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
# Classes of the control that dismisses a banner or dialog (Bootstrap, the PEP theme...).
CLOSE_CLASSES = frozenset(("close", "close-button", "btn-close", "closebtn", "close-btn", "dismiss"))
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_LABELS = frozenset((*_HEADINGS, "p"))
_LISTS = ("ul", "ol")


@dataclass
class RemovedBlocks:
    """How many blocks ``remove_boilerplate`` removed, by kind."""

    tables_of_contents: int = 0
    repeated_titles: int = 0
    close_controls: int = 0


# How much of an element is read to compare its text with a label or a title (both are short):
# reading every nested heading's whole text would be quadratic in the nesting depth.
MAX_LABEL_CHARS = 1000
MAX_LABEL_NODES = 200


def _first_nodes(tag: Tag, limit: int = MAX_LABEL_NODES) -> Iterator[PageElement]:
    """The first ``limit`` descendants of ``tag`` in document order (``Tag.descendants`` first
    looks for the last descendant, a walk of the whole subtree)."""
    stack: list[PageElement] = list(reversed(tag.contents))
    for _ in range(limit):
        if not stack:
            return
        node = stack.pop()
        yield node
        if isinstance(node, Tag):
            stack.extend(reversed(node.contents))


def _short_text(tag: Tag) -> str:
    """The start of ``tag``'s text (comments aside), space separated: at most MAX_LABEL_NODES
    nodes are read, and reading stops past MAX_LABEL_CHARS characters."""
    parts: list[str] = []
    size = 0
    for node in _first_nodes(tag):
        if isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            parts.append(str(node))
            size += len(node)
            if size > MAX_LABEL_CHARS:
                break
    return " ".join(parts)


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


@dataclass(slots=True)
class _Counts:
    """What the descendants of one element hold, read by ``_read_tree``."""

    loose_texts: int = 0  # text nodes outside any in-page link that are words (not separators or a TOC label)
    links: int = 0  # in-page links with text
    h1s: int = 0
    has_text: bool = False


@dataclass
class _Tree:
    """One reading of the tree: the elements neither hidden nor inside a hidden one (document
    order), and the ``_Counts`` of every element's descendants, by ``id()``."""

    visible: list[Tag]
    counts: dict[int, _Counts]


def _add_text(node: NavigableString, in_link: bool, counts: _Counts) -> None:
    text = str(node)
    if text.strip():
        counts.has_text = True
    if not in_link and not is_separator_text(text) and not is_toc_label(text):
        counts.loose_texts += 1


def _close(tag: Tag, own: _Counts, parent: _Counts) -> None:
    """Add the counts of a closed element (``own``: its descendants') to its parent's."""
    parent.loose_texts += own.loose_texts
    parent.links += own.links + (1 if own.has_text and _is_anchor_link(tag) else 0)
    parent.h1s += own.h1s + (1 if tag.name == "h1" else 0)
    parent.has_text = parent.has_text or own.has_text


def _read_tree(soup: BeautifulSoup, hidden: Callable[[Tag], bool]) -> _Tree:
    """Read the whole tree once, iteratively (nesting may be thousands deep)."""
    tree = _Tree([], {})
    open_counts = [_Counts()]
    # (node, closing, inside an in-page link, inside a hidden element)
    stack: list[tuple[Any, bool, bool, bool]] = [(child, False, False, False) for child in reversed(soup.contents)]
    while stack:
        node, closing, in_link, in_hidden = stack.pop()
        if closing:
            own = open_counts.pop()
            tree.counts[id(node)] = own
            _close(node, own, open_counts[-1])
        elif isinstance(node, Tag):
            in_hidden = in_hidden or hidden(node)
            in_link = in_link or _is_anchor_link(node)
            if not in_hidden:
                tree.visible.append(node)
            open_counts.append(_Counts())
            stack.append((node, True, in_link, in_hidden))
            stack.extend((child, False, in_link, in_hidden) for child in reversed(node.contents))
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            _add_text(node, in_link, open_counts[-1])  # comments, CDATA... aside
    return tree


class _Removed:
    """The elements removed so far, their descendants included (by ``id()``)."""

    def __init__(self) -> None:
        self._ids: set[int] = set()

    def __contains__(self, tag: Tag) -> bool:
        return id(tag) in self._ids

    def remove(self, tag: Tag) -> None:
        self._ids.add(id(tag))
        self._ids.update(id(node) for node in tag.descendants)
        tag.decompose()


def _only_anchor_links(tree: _Tree, root: Tag, label: Tag | None = None) -> bool:
    """Whether every word of ``root`` (its ``label`` aside) is the text of an in-page link, and
    there are at least MIN_TOC_LINKS such links with text."""
    counts = tree.counts[id(root)]
    loose = counts.loose_texts - (tree.counts[id(label)].loose_texts if label is not None else 0)
    return loose == 0 and counts.links >= MIN_TOC_LINKS


_LABEL_TAGS = frozenset(("summary", *_HEADINGS, "p", "strong", "span", "div"))


def _label_of(tag: Tag) -> Tag | None:
    """The element that labels a candidate table of contents: its ``<summary>``, first heading or
    caption (one of the first three such elements, within its first MAX_LABEL_NODES nodes)."""
    seen = 0
    for node in _first_nodes(tag):
        if seen == 3:
            break
        if isinstance(node, Tag) and node.name in _LABEL_TAGS:
            seen += 1
            if is_toc_label(_short_text(node)):
                return node
    return None


def _is_marked_toc(tag: Tag) -> bool:
    """Whether an element declares itself a table of contents (id, class, role, aria-label, summary)."""
    names = {*_tokens(tag, "id"), *_tokens(tag, "class")}
    if names & TOC_NAMES or "doc-toc" in _tokens(tag, "role"):
        return True
    if isinstance(aria := tag.get("aria-label"), str) and is_toc_label(aria):
        return True
    if tag.name == "details":
        summary = tag.find("summary", recursive=False)
        return isinstance(summary, Tag) and is_toc_label(_short_text(summary))
    return False


def _next_element(tag: Tag) -> Tag | None:
    """The next sibling element, skipping white space and comments; None when text comes first."""
    for sibling in tag.next_siblings:
        if isinstance(sibling, Tag):
            return sibling
        if isinstance(sibling, NavigableString) and not isinstance(sibling, PreformattedString) and sibling.strip():
            return None
    return None


def _remove_marked_tables_of_contents(tree: _Tree, removed: _Removed) -> int:
    count = 0
    for tag in tree.visible:
        if tag not in removed and _is_marked_toc(tag) and _only_anchor_links(tree, tag, _label_of(tag)):
            removed.remove(tag)
            count += 1
    return count


def _remove_labelled_lists(tree: _Tree, removed: _Removed) -> int:
    """A heading (or paragraph) "Contents" and the list of in-page links right after it."""
    count = 0
    for label in tree.visible:
        if label.name not in _LABELS or label in removed or not is_toc_label(_short_text(label)):
            continue
        listing = _next_element(label)
        if listing is not None and listing.name in _LISTS and _only_anchor_links(tree, listing):
            removed.remove(listing)
            removed.remove(label)
            count += 1
    return count


def _remove_repeated_titles(tree: _Tree, removed: _Removed, title: str | None) -> int:
    """Visually hidden copies of the title or of a visible ``<h1>``'s text."""
    shown = {_text_key(_short_text(tag)) for tag in tree.visible if tag.name == "h1" and tag not in removed}
    shown.add(_text_key(title or ""))
    shown.discard("")
    count = 0
    for tag in tree.visible:
        if tag in removed or not VISUALLY_HIDDEN_CLASSES.intersection(_tokens(tag, "class")):
            continue
        if tree.counts[id(tag)].h1s == 0 and _text_key(_short_text(tag)) in shown:
            removed.remove(tag)
            count += 1
    return count


def _remove_close_controls(tree: _Tree, removed: _Removed) -> int:
    """Buttons and ``CLOSE_CLASSES`` elements whose text is a symbol only (no letter or digit)."""
    count = 0
    for tag in tree.visible:
        if tag in removed or not (tag.name == "button" or CLOSE_CLASSES.intersection(_tokens(tag, "class"))):
            continue
        text = _short_text(tag)
        if text.strip() and is_separator_text(text) and not any(c.isdigit() for c in text):
            removed.remove(tag)
            count += 1
    return count


def _never_hidden(tag: Tag) -> bool:
    return False


def remove_boilerplate(
    soup: BeautifulSoup, title: str | None, hidden: Callable[[Tag], bool] = _never_hidden
) -> RemovedBlocks:
    """Remove in-page tables of contents, hidden copies of the page ``title`` and close
    controls from ``soup``.

    Elements inside one that ``hidden`` calls hidden (navigation, scripts...: the caller skips
    their text) are left alone and not counted. The tree is read once (``_read_tree``), and again
    only after a removal changed what the next rule counts: the work is linear in its size.
    """
    tree = _read_tree(soup, hidden)
    removed = _Removed()
    tables = _remove_marked_tables_of_contents(tree, removed)
    if tables:
        tree = _read_tree(soup, hidden)
    labelled = _remove_labelled_lists(tree, removed)
    if labelled:
        tree = _read_tree(soup, hidden)
    return RemovedBlocks(
        tables + labelled,
        _remove_repeated_titles(tree, removed, title),
        _remove_close_controls(tree, removed),
    )
