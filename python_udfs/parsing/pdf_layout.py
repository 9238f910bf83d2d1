"""Page-text clean-up shared by every PDF extractor: ligatures, dot leaders, running lines, hyphens.

Applied to the raw page texts (lines separated by ``\\n``), in this order:

1. Ligatures: the Latin presentation forms ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ (U+FB00..U+FB06) become their letters
   (their NFKC form; the rest of the text is not NFKC-normalised).
2. Table-of-contents lines: a line ending in a dot leader and a page number ("Introduction .....
   3", ". . . . 12", "Scope…… iv") is removed.
3. Running headers and footers: a line among the first or last ``EDGE_LINES`` non-blank lines of
   a page whose key (``running_line_key``: case folded, numbers -> ``#``, page-number tokens at
   its ends dropped) is among the edge lines of at least half of the pages with text, and of at
   least two, is removed. Page numbers ("3", "- 3 -", "Page 3 of 9", "iv") are such lines, so a bare page
   number goes too; a one-page document keeps all its lines, and so does a document whose every
   line is running (a PDF of page numbers only).
4. End-of-line hyphenation. A line ending in a letter and a hyphen (``-``, U+2010 or a soft
   hyphen), followed by a line starting with a letter or digit: the next line's first word is
   moved up and joined to the hyphenated word:

   - next word starts with a lower-case letter: the hyphen is dropped ("exam-" + "ple" ->
     "example") unless the word before the hyphen is itself a compound ("state-of-the-" + "art"
     -> "state-of-the-art") or the document spells that word with a hyphen elsewhere and never
     without ("well-known" seen, "wellknown" not seen);
   - next word starts with a capital or a digit: the hyphen is kept ("Anglo-" + "Saxon" ->
     "Anglo-Saxon", "COVID-" + "19" -> "COVID-19");
   - a soft hyphen is always dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

__all__ = [
    "EDGE_LINES",
    "LIGATURES",
    "clean_page_texts",
    "join_hyphenated_lines",
    "normalise_ligatures",
    "remove_dot_leader_lines",
    "remove_running_lines",
    "running_line_key",
]

LIGATURES = "\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06"  # ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ
_LIGATURE_MAP = str.maketrans({ch: unicodedata.normalize("NFKC", ch) for ch in LIGATURES})

# Non-blank lines at the top and at the bottom of a page where running headers and footers live.
EDGE_LINES = 3
# A line is running when it is at the edge of at least this share of the pages with text, and of
# at least MIN_RUNNING_PAGES pages.
RUNNING_PAGE_SHARE = 0.5
MIN_RUNNING_PAGES = 2

_SOFT_HYPHEN = "\u00ad"
_HYPHENS = "-\u2010" + _SOFT_HYPHEN
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# A page-number token at either end of a line: "#" (a number), a roman numeral, "-#-", "(iv)", "-".
_FOLIO_TOKEN = re.compile(r"[-\u2013\u2014(\[]*(?:#|[ivxlcdm]{1,8})?[-\u2013\u2014)\].]*")
# An entry, a leader of at least four dots (or two ellipses), a page number (arabic or roman).
_DOT_LEADER = re.compile(
    r"^(?:.*\S)?\s*(?:(?:\.\s*){4,}|(?:\u2026\s*){2,}|(?:\u00b7\s*){4,})\s*(?:\d{1,4}|[ivxlcdmIVXLCDM]{1,6})\s*$"
)
# Lines longer than this are never table-of-contents lines (and the leader pattern stays linear).
MAX_TOC_LINE_CHARS = 300
_FIRST_WORD = re.compile(r"^\s*(\S+)\s*(.*)$")
_WORD_EDGE_PUNCTUATION = ".,;:!?)]}\"'’”"


def normalise_ligatures(text: str) -> str:
    """``text`` with the Latin ligature characters replaced by their letters ("ﬁ" -> "fi")."""
    return text.translate(_LIGATURE_MAP)


def remove_dot_leader_lines(lines: Iterable[str]) -> list[str]:
    """``lines`` without table-of-contents lines (an entry, a dot leader, a page number)."""
    return [line for line in lines if len(line) > MAX_TOC_LINE_CHARS or not _DOT_LEADER.match(line)]


def running_line_key(line: str) -> str:
    """The key under which edge lines are compared.

    Case folded, numbers -> ``#``, page-number tokens at either end dropped ("GeoBase® iii" and
    "GeoBase®" share a key); a line of nothing but a page number is ``#``.
    """
    tokens = _NUMBER.sub("#", line.casefold()).split()
    while tokens and _FOLIO_TOKEN.fullmatch(tokens[-1]):
        tokens.pop()
    while tokens and _FOLIO_TOKEN.fullmatch(tokens[0]):
        tokens.pop(0)
    return " ".join(tokens) if tokens else ("#" if line.strip() else "")


def _edge_indices(lines: Sequence[str]) -> list[int]:
    """Indices of the first and last ``EDGE_LINES`` non-blank lines of a page."""
    filled = [index for index, line in enumerate(lines) if line.strip()]
    return sorted(set(filled[:EDGE_LINES] + filled[-EDGE_LINES:]))


def remove_running_lines(pages: Sequence[Sequence[str]]) -> list[list[str]]:
    """Every page's lines without the running headers, footers and page numbers (see the module doc)."""
    with_text = [page for page in pages if any(line.strip() for line in page)]
    counts: Counter[str] = Counter()
    for page in with_text:
        counts.update({running_line_key(page[index]) for index in _edge_indices(page)})
    needed = max(MIN_RUNNING_PAGES, RUNNING_PAGE_SHARE * len(with_text))
    running = {key for key, count in counts.items() if count >= needed}
    out = []
    for page in pages:
        drop = {index for index in _edge_indices(page) if running_line_key(page[index]) in running}
        out.append([line for index, line in enumerate(page) if index not in drop])
    return out


def _hyphenated_end(line: str) -> tuple[str, str, str] | None:
    """(text before the last word, the last word without its hyphen, the hyphen) of a line
    ending in a letter and a hyphen; None otherwise. Linear in the line (no regex backtracking)."""
    stripped = line.rstrip()
    if len(stripped) < 2 or stripped[-1] not in _HYPHENS or not stripped[-2].isalpha():
        return None
    cut = max(stripped.rfind(" "), stripped.rfind("\t")) + 1
    return stripped[:cut], stripped[cut:-1], stripped[-1]


def _strip_word(word: str) -> str:
    return word.rstrip(_WORD_EDGE_PUNCTUATION)


def _vocabulary(lines: Iterable[str]) -> set[str]:
    """The case-folded words of the text (punctuation at their ends removed)."""
    return {_strip_word(word).casefold() for line in lines for word in line.split()}


def _joined_word(stem: str, hyphen: str, continuation: str, vocabulary: set[str]) -> str:
    """``stem`` (the word before the hyphen) and ``continuation`` joined by the hyphenation rule."""
    if hyphen == _SOFT_HYPHEN:
        return stem + continuation
    if not continuation[0].islower():
        return stem + hyphen + continuation
    if any(h in stem for h in _HYPHENS):
        return stem + hyphen + continuation
    bare = _strip_word(continuation).casefold()
    hyphenated = f"{stem.casefold()}{hyphen}{bare}"
    if hyphenated in vocabulary and f"{stem.casefold()}{bare}" not in vocabulary:
        return stem + hyphen + continuation
    return stem + continuation


def join_hyphenated_lines(lines: Sequence[str], vocabulary: set[str] | None = None) -> list[str]:
    """``lines`` with end-of-line hyphenated words joined (see the module doc for the rule).

    ``vocabulary``: the document's case-folded words, the evidence for keeping a hyphen; by
    default the words of ``lines``.
    """
    words = _vocabulary(lines) if vocabulary is None else vocabulary
    out: list[str] = []
    pending = list(lines)
    index = 0
    while index < len(pending):
        line = pending[index]
        end = _hyphenated_end(line)
        following = pending[index + 1] if index + 1 < len(pending) else ""
        start = _FIRST_WORD.match(following)
        if end is None or start is None or not start.group(1)[0].isalnum():
            out.append(line)
            index += 1
            continue
        head, stem, hyphen = end
        joined = _joined_word(stem, hyphen, start.group(1), words)
        rest = start.group(2)
        # The joined line may itself end in a hyphenated word: look at it again.
        pending[index] = head + joined
        if rest:
            pending[index + 1] = rest
            out.append(pending[index])
            index += 1
        else:  # the next line was the continuation alone; the joined line may end in a hyphen again
            del pending[index + 1]
    return out


def clean_page_texts(texts: Sequence[str]) -> list[str]:
    """The raw text of every page cleaned by the steps of the module doc; one string per page."""
    pages = [remove_dot_leader_lines(normalise_ligatures(text).split("\n")) for text in texts]
    kept = remove_running_lines(pages)
    if any(line.strip() for page in kept for line in page):  # never all the text (a PDF of page numbers)
        pages = kept
    vocabulary = _vocabulary(line for page in pages for line in page)
    return ["\n".join(join_hyphenated_lines(page, vocabulary)) for page in pages]
