"""What the parsers recognise as an in-page table of contents, shared by the HTML and Markdown rules.

A table of contents repeats every heading of its page, so it matches every question a little and
ranks first for vague ones; the parsers drop it (``html_boilerplate``, ``markdown_boilerplate``).
"""

from __future__ import annotations

import re

__all__ = ["MIN_TOC_LINKS", "TOC_LABELS", "is_separator_text", "is_toc_label", "label_words"]

# Labels a table of contents is introduced by (a heading, a <summary>, an aria-label), compared
# lower-case with white space collapsed and a trailing colon dropped.
TOC_LABELS = frozenset(
    (
        "contents",
        "table of contents",
        "on this page",
        "in this article",
        "in this topic",
        "in this section",
        "page contents",
        "toc",
    )
)
# Fewest in-page links a table of contents has: a lone link is a cross-reference.
MIN_TOC_LINKS = 2
# Text that may stand between the links of a table of contents: numbering, bullets, separators.
_SEPARATOR_TEXT = re.compile(r"[\W\d_]*")


def label_words(text: str) -> str:
    """``text`` on one line, white space collapsed, lower-case, a trailing colon dropped."""
    return " ".join(text.split()).lower().rstrip(":").strip()


def is_toc_label(text: str) -> bool:
    """Whether ``text`` is one of TOC_LABELS ("Table of Contents", "In this article:"...)."""
    return label_words(text) in TOC_LABELS


def is_separator_text(text: str) -> bool:
    """Whether ``text`` holds no word: only white space, numbering, punctuation or symbols."""
    return _SEPARATOR_TEXT.fullmatch(text) is not None
