"""Reading order of positioned text: lines from segments, and two-column pages read column by column.

The position-aware extractors (pypdfium2 text rectangles, pdfplumber words) give segments of text
with their boxes (top-down coordinates, points). Segments whose vertical middles overlap form a
line; a line's segments are joined left to right, with a space where the gap between them is wide.

Two columns: a vertical gutter is an x position in the middle of the page that no segment of at
least ``MIN_COLUMN_LINES`` lines crosses while those lines have text on both sides of it, each
side as wide as a text column (``MIN_COLUMN_WIDTH_SHARE`` of the page: a form's label/value
layout or a narrow table is not a column layout). Consecutive lines that do not cross the gutter
are read left column first, then right column; a line that crosses it (a title, a full-width
paragraph, a table) ends that run and is read in place. Three or more columns are not detected.

Blocks (tables already rendered as Markdown) are placed like lines, at their box, never merged
with text segments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Segment", "page_lines"]

# The middle band of the page where a gutter is looked for (share of the page width).
GUTTER_BAND = (0.3, 0.7)
# Step between the gutter positions tried (points).
GUTTER_STEP = 2.0
# Lines with text on both sides of a gutter needed to read a page as two columns.
MIN_COLUMN_LINES = 4
# The text on each side of the gutter spans at least this share of the page width.
MIN_COLUMN_WIDTH_SHARE = 0.28
# Open lines looked back through for the line of a segment (bounds the work on overlapping text).
MAX_OPEN_LINES = 40
# A gap between two segments of a line wider than this share of the line height is a space.
SPACE_GAP_SHARE = 0.15


@dataclass(frozen=True)
class Segment:
    """Text and its box on the page (points, ``top`` < ``bottom``); a ``block`` is a rendered table."""

    x0: float
    x1: float
    top: float
    bottom: float
    text: str
    block: bool = False

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass
class _Line:
    """Segments on one line, in x order once closed."""

    segments: list[Segment]
    top: float
    bottom: float

    @property
    def x0(self) -> float:
        return min(s.x0 for s in self.segments)

    @property
    def x1(self) -> float:
        return max(s.x1 for s in self.segments)

    @property
    def block(self) -> bool:
        return self.segments[0].block


def _same_line(line: _Line, segment: Segment) -> bool:
    """Whether ``segment`` sits on ``line``: its middle within the line, or the line's within it."""
    if segment.block or line.block:
        return False
    line_middle = (line.top + line.bottom) / 2
    return line.top <= segment.middle <= line.bottom or segment.top <= line_middle <= segment.bottom


def _group_lines(segments: Sequence[Segment]) -> list[_Line]:
    """Segments grouped into lines, top to bottom.

    A segment joins the most recent line it sits on among the lines still open (those reaching
    below its top): a smaller or raised segment (a dash, a superscript, a date in another font)
    stays on its line even when a segment of the next line starts between them in top order.
    """
    lines: list[_Line] = []
    for segment in sorted(segments, key=lambda s: (s.top, s.x0)):
        target = None
        for line in reversed(lines[-MAX_OPEN_LINES:]):
            if line.bottom < segment.top:
                break
            if _same_line(line, segment):
                target = line
                break
        if target is None:
            lines.append(_Line([segment], segment.top, segment.bottom))
        else:
            target.segments.append(segment)
            target.bottom = max(target.bottom, segment.bottom)
    for line in lines:
        line.segments.sort(key=lambda s: s.x0)
    return lines


def _join_segments(segments: Sequence[Segment]) -> str:
    """The text of segments on one line, left to right, with a space at each wide gap."""
    text = ""
    previous: Segment | None = None
    for segment in segments:
        if previous is not None and text and not text[-1].isspace():
            height = max(segment.bottom - segment.top, previous.bottom - previous.top, 1.0)
            if segment.x0 - previous.x1 > SPACE_GAP_SHARE * height:
                text += " "
        text += segment.text
        previous = segment
    return " ".join(text.split())


def _split_at(line: _Line, gutter: float) -> tuple[list[Segment], list[Segment]] | None:
    """The line's segments left and right of ``gutter``; None when a segment crosses it."""
    left: list[Segment] = []
    right: list[Segment] = []
    for segment in line.segments:
        if segment.x0 < gutter < segment.x1:
            return None
        (left if segment.x1 <= gutter else right).append(segment)
    return left, right


def _gutter_score(lines: Sequence[_Line], gutter: float, width: float) -> int:
    """Lines with text on both sides of ``gutter``, or 0 when the sides are too narrow to be columns."""
    both = 0
    left_x0, right_x1 = gutter, gutter
    for line in lines:
        split = _split_at(line, gutter)
        if split is None or not split[0] or not split[1]:
            continue
        both += 1
        left_x0 = min(left_x0, min(s.x0 for s in split[0]))
        right_x1 = max(right_x1, max(s.x1 for s in split[1]))
    narrow = min(gutter - left_x0, right_x1 - gutter) < MIN_COLUMN_WIDTH_SHARE * width
    return 0 if narrow else both


def _find_gutter(lines: Sequence[_Line], width: float) -> float | None:
    """The x of the page's column gutter, or None for a one-column page."""
    if width <= 0 or len(lines) < MIN_COLUMN_LINES:
        return None
    best, best_score = None, MIN_COLUMN_LINES - 1
    x = GUTTER_BAND[0] * width
    while x <= GUTTER_BAND[1] * width:
        score = _gutter_score(lines, x, width)
        if score > best_score:
            best, best_score = x, score
        x += GUTTER_STEP
    return best


def _line_text(line: _Line, segments: Sequence[Segment]) -> str:
    """A line's text; a block (a Markdown table) keeps its lines and gets a blank line around it."""
    return f"\n{line.segments[0].text}\n" if line.block else _join_segments(segments)


def page_lines(segments: Sequence[Segment], width: float) -> list[str]:
    """The lines of a page in reading order (two columns read one after the other)."""
    lines = [line for line in _group_lines(segments) if line.segments]
    gutter = _find_gutter([line for line in lines if not line.block], width)
    if gutter is None:
        return [_line_text(line, line.segments) for line in lines]
    out: list[str] = []
    left: list[str] = []
    right: list[str] = []
    for line in lines:
        split = _split_at(line, gutter)
        if split is None:  # a full-width line ends the run of two-column lines
            out += left + right + [_line_text(line, line.segments)]
            left, right = [], []
            continue
        if split[0]:
            left.append(_line_text(line, split[0]))
        if split[1]:
            right.append(_line_text(line, split[1]))
    return out + left + right
