"""The real documents of the labelled evaluation: which files, and the text the detectors see.

The text is what the pipeline redacts: ``parse_document`` then ``clean_text`` (one text per record).
Files: the 125 rendered PEPs (real-html-peps: authors' e-mail addresses are real personal data),
the 51 PDFs of pypdf's test resources (real-pdfs) and the PowerShell docs of one version,
7.5, plus the conceptual docs (powershell-docs: the other versions repeat the same pages).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .corpora import SHARED

# (folder under shared/datasets, glob): the documents, in this order.
REAL_SOURCES: tuple[tuple[str, str], ...] = (
    ("real-html-peps", "*.html"),
    ("real-pdfs", "*.pdf"),
    ("powershell-docs/reference/7.5", "**/*.md"),
    ("powershell-docs/reference/docs-conceptual", "**/*.md"),
)


@dataclass(frozen=True)
class RealDoc:
    """One record's text and its id (path under shared/datasets, ``#key`` for a record)."""

    doc_id: str
    text: str


def real_paths(root: Path = SHARED) -> list[Path]:
    """Every file of `REAL_SOURCES` present under `root`, sorted within each source."""
    paths: list[Path] = []
    for folder, pattern in REAL_SOURCES:
        base = root / folder
        if base.is_dir():
            paths += sorted(p for p in base.glob(pattern) if p.is_file())
    return paths


def load_real_docs(root: Path = SHARED) -> Iterator[RealDoc]:
    """The cleaned text of every parsed record of `real_paths` (files that fail to parse are skipped)."""
    import logging

    from python_udfs.cleaning import clean_text
    from python_udfs.parsing import parse_document

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    for path in real_paths(root):
        result = parse_document(str(path), path.read_bytes())
        rel = str(path.relative_to(root))
        for record in result.records:
            text = clean_text(record.text)
            if text:
                key = f"#{record.record_key}" if record.record_key else ""
                yield RealDoc(rel + key, text)
