"""Size and shape limits of the parser.

Module constants so that deployments (and tests) can adjust them: every parsing module reads
them as ``limits.NAME`` when it runs, so setting ``python_udfs.parsing.limits.NAME`` takes effect
everywhere.
"""

from __future__ import annotations

__all__ = [
    "BINARY_CONTROL_SHARE",
    "MAX_CONTENT_BYTES",
    "MAX_DETAIL_CHARS",
    "MAX_METADATA_DEPTH",
    "MAX_METADATA_NODES",
    "MAX_PDF_PAGE_CHARS",
    "MAX_PDF_TOTAL_CHARS",
]

MAX_CONTENT_BYTES = 100 * 1024 * 1024  # larger files are rejected as "too_large"
MAX_PDF_PAGE_CHARS = 2_000_000  # text of one PDF page (guards against decompression bombs)
MAX_PDF_TOTAL_CHARS = 20_000_000  # text of a whole PDF
MAX_DETAIL_CHARS = 500  # ParseResult.detail is truncated to this length
BINARY_CONTROL_SHARE = 0.05  # above this share of control characters, content is binary
MAX_METADATA_DEPTH = 50  # nesting allowed in front-matter metadata
MAX_METADATA_NODES = 100_000  # values allowed in front-matter metadata (YAML alias bombs)
