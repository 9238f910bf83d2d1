"""What surrounds a candidate: code, version and section numbering, phone and statistics wording.

The detectors find shapes; these checks decide from the text around a shape whether it is what
the shape suggests. Each looks at the candidate's own line (or, for fenced code, the fences above
it), so the cost is paid only where a candidate was found.
"""

from __future__ import annotations

import bisect
import re

# --------------------------------------------------------------------------------------------
# Markdown code: fenced blocks (``` or ~~~, unclosed ones run to the end) and inline code spans
# --------------------------------------------------------------------------------------------
_FENCE = re.compile(r"^[ \t>]*(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*)$", re.MULTILINE)


def fenced_blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) of every fenced code block of `text`, fences included, sorted."""
    if "```" not in text and "~~~" not in text:
        return []
    blocks: list[tuple[int, int]] = []
    opener: re.Match[str] | None = None
    for m in _FENCE.finditer(text):
        fence, info = m.group("fence"), m.group("info")
        if opener is None:
            if fence[0] == "`" and "`" in info:
                continue  # an inline code span at the start of a line, not a fence
            opener = m
        elif fence[0] == opener.group("fence")[0] and len(fence) >= len(opener.group("fence")) and not info.strip():
            blocks.append((opener.start(), m.end()))
            opener = None
    if opener is not None:
        blocks.append((opener.start(), len(text)))
    return blocks


# An inline code span: a backtick string, at most 512 characters of one line, the same string.
_INLINE_SPAN = re.compile(r"(?<!`)(`+)(?!`)([^\n]{1,512}?)(?<!`)\1(?!`)")


def code_regions(text: str) -> list[tuple[int, int]]:
    """(start, end) of every fenced block and inline code span of `text`, sorted by start."""
    regions = fenced_blocks(text)
    if "`" in text:
        regions += [m.span(2) for m in _INLINE_SPAN.finditer(text)]
    regions.sort()
    return regions


class CodeMap:
    """Answers "is this offset inside code?" for one text; the regions are found on first use."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._starts: list[int] | None = None
        self._ends: list[int] = []

    def in_code(self, pos: int) -> bool:
        """Whether `pos` lies in a fenced code block or an inline code span."""
        if self._starts is None:
            regions = code_regions(self._text)
            self._starts = [s for s, _ in regions]
            self._ends = []
            reach = 0  # regions may nest (a span inside a fence): keep the farthest end so far
            for _, e in regions:
                reach = max(reach, e)
                self._ends.append(reach)
        i = bisect.bisect_right(self._starts, pos) - 1
        return i >= 0 and pos < self._ends[i]


# --------------------------------------------------------------------------------------------
# Dotted quads that number things: versions, sections, lists of versions
# --------------------------------------------------------------------------------------------
_VERSION_WORDS = r"versions?|\bver|\bv|\brelease|\bbuild|\brev|\brevision|\bupdate|\bpatch"
_SECTION_WORDS = (
    r"\bsection|\bsect|\bsec|\bchapter|\bclause|\bparagraph|\bpara|\bappendix|\bannex|\barticle|\bfigure|\bfig"
    r"|\btable|§"
)
# The last word or two before the number (``Version=1.0.0.0``, ``version number``, ``section``, ``§``),
# matched on a short string: the text before the number without its trailing punctuation.
_NUMBERING_TAIL = re.compile(rf"(?i)(?:{_VERSION_WORDS}|{_SECTION_WORDS})(?:[ \t]+(?:is|of|number|no))?\Z")
_TRAILING_PUNCTUATION = " \t:='\"([>.*"
_VERSION_WORD = re.compile(rf"(?i)(?:{_VERSION_WORDS})\W*\Z")
# How many words before the number a version word may stand (``System.Version** object using the "1.2.3.4"``).
_VERSION_NEAR_WORDS = 4


def _numbering_before(before: str) -> bool:
    """Whether `before` (the line before a number) ends in a numbering word or a Markdown heading
    mark, or has a version word among its last words with only plain words after it."""
    stripped = before.rstrip(_TRAILING_PUNCTUATION)
    if "#" in stripped and not stripped.lstrip(" \t>").strip("#"):
        return True  # "#### 3.1.6.2 Metadata"
    words = stripped.split()[-_VERSION_NEAR_WORDS:]
    if not words:
        return stripped.endswith("§")
    if _NUMBERING_TAIL.search(" ".join(words[-2:])) or stripped.endswith("§"):
        return True
    for k, word in enumerate(words):
        if _VERSION_WORD.search(word) and all(w.strip("*'\"`([").isalpha() for w in words[k + 1 :]):
            return True  # only plain words between: no sentence end, no other number or operator
    return False


# A heading's number: at the start of its line (after #, a list marker or a bracket), small parts,
# then a title (``3.1.3.1 Point Events``, ``- [2.2.9.1 Encrypted Message Types][01]``).
_HEADING_PREFIX = re.compile(r"^[ \t>]*(?:#{1,6}[ \t]+|[-*+][ \t]+)?[\[(§]?\Z", re.MULTILINE)
_HEADING_TITLE = re.compile(r"\.?[ \t]+[A-Za-z]")
_SMALL_PARTS = re.compile(r"[0-9]{1,2}(?:\.[0-9]{1,2}){3}")
# A list of dotted numbers (``3.3.9.44, 3.3.9.45 and 3.4``): versions when one of them has 2, 3 or
# 5+ parts or a "v", or a version word stands before the list.
_LIST_SEP = re.compile(r"[ \t]*[,;|/][ \t]*|[ \t]+(?:and|or|to|through|and/or)[ \t]+|[ \t]*-[ \t]*|[ \t]+", re.I)
_DOTTED = re.compile(r"(?<![\w.])[vV]?[0-9]+(?:\.[0-9]+)+(?![\w]|\.[0-9])")
_LIST_WINDOW = 160


def _line_before(text: str, pos: int, limit: int = 64) -> int:
    """Where the text considered "before `pos`" starts: its line's start, at most `limit` back."""
    return max(text.rfind("\n", max(0, pos - limit), pos) + 1, pos - limit, 0)


# Right after a number: a list separator and a digit or "v" (a list goes on).
_LIST_NEXT = re.compile(r"(?:[ \t]*[,;|/-][ \t]*|[ \t]+(?:(?:and|or|to|through|and/or)[ \t]+)?)[vV]?[0-9]", re.I)
_LIST_PREV = re.compile(r"[0-9](?:[ \t]*[,;|/-][ \t]*|[ \t]+(?:(?:and|or|to|through|and/or)[ \t]+)?)\Z", re.I)


class Numbering:
    """Decides for the dotted quads of one text whether they number something (see `numbers`).

    The decision for a list of dotted numbers is made once and kept for all its members, so a
    line of thousands of addresses costs one window per list, not one per address.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._lists: dict[tuple[int, int], bool] = {}

    def numbers(self, start: int, end: int) -> bool:
        """Whether the dotted quad ``text[start:end]`` is a version or section number, not an address."""
        text = self._text
        lo = _line_before(text, start)
        if _numbering_before(text[lo:start]):
            return True
        if _SMALL_PARTS.fullmatch(text, start, end) and _HEADING_PREFIX.search(text, lo, start):
            if _HEADING_TITLE.match(text, end):
                return True
        if not _LIST_NEXT.match(text, end, end + 16) and not _LIST_PREV.search(text, max(lo, start - 16), start):
            return False  # no neighbour: no list
        if (start, end) not in self._lists:
            self._decide_list(start, end)
        return self._lists.get((start, end), False)

    def _decide_list(self, start: int, end: int) -> None:
        """Record, for every member of the list around ``text[start:end]``, whether it lists versions."""
        text = self._text
        lo = _line_before(text, start, _LIST_WINDOW)
        hi = text.find("\n", end, end + _LIST_WINDOW)
        hi = min(len(text), end + _LIST_WINDOW) if hi < 0 else hi
        tokens = [m.span() for m in _DOTTED.finditer(text, lo, hi)]
        try:
            i = tokens.index((start, end))
        except ValueError:
            self._lists[(start, end)] = False
            return
        first = last = i
        while first > 0 and _LIST_SEP.fullmatch(text, tokens[first - 1][1], tokens[first][0]):
            first -= 1
        while last + 1 < len(tokens) and _LIST_SEP.fullmatch(text, tokens[last][1], tokens[last + 1][0]):
            last += 1
        members = tokens[first : last + 1]
        versions = len(members) > 1 and (
            any(text[s] in "vV" or text.count(".", s, e) != 3 for s, e in members)
            or _numbering_before(text[_line_before(text, members[0][0]) : members[0][0]])
        )
        for span in members:
            self._lists[span] = versions


def numbers_something(text: str, start: int, end: int) -> bool:
    """Whether the dotted quad ``text[start:end]`` is a version or section number, not an address."""
    return Numbering(text).numbers(start, end)


# --------------------------------------------------------------------------------------------
# Phone numbers: phone wording before a loosely formatted number; figures around a statistic
# --------------------------------------------------------------------------------------------
_PHONE_WORDS = re.compile(
    r"(?i)(?:phone|\btel\b|\btel\.|telephone|t[ée]l[ée]phone|telefon|mobile|\bmobil|\bcell|\bfax\b|\bcall\b|"
    r"\bdial|\bcontact|\breach\b|\bsms\b|whatsapp|hotline|\bph\b|\bph\.|\bnumber\b|\bno\.)"
)
_STATISTIC_BEFORE = re.compile(
    r"(?i)(?:population|inhabitants|residents|citizens|people|area|total|sum|count|revenue|gdp|budget|"
    r"amount|income|km|sq|square|density)\W{0,3}\Z"
)
_FIGURE = r"[0-9]{1,3}(?:[.,' ][0-9]{3})+|[0-9]{4,}"
_FIGURE_LEFT = re.compile(rf"(?<![0-9.,])(?:{_FIGURE})[ \t]+\Z")
_FIGURE_RIGHT = re.compile(rf"[ \t]+(?:{_FIGURE})(?![0-9])")


def phone_wording_before(text: str, start: int) -> bool:
    """Whether phone wording (``phone``, ``tel.``, ``call``, ``fax`` ...) precedes `start` on its line."""
    return _PHONE_WORDS.search(text, _line_before(text, start, 48), start) is not None


def among_figures(text: str, start: int, end: int) -> bool:
    """Whether the number ``text[start:end]`` is a figure of a statistic or of a row of figures.

    True after a statistic word (``Population 273.879.7501``) or right beside another large number
    (``273.879.7501 83,190,5562``, thousands separators or four digits and more).
    """
    lo = _line_before(text, start, 32)
    if _STATISTIC_BEFORE.search(text, lo, start) or _FIGURE_LEFT.search(text, lo, start):
        return True
    return _FIGURE_RIGHT.match(text, end, min(len(text), end + 24)) is not None
