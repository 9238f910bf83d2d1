"""Chunk quality on real documents: chunks that are boilerplate, a heading alone, or too short to retrieve.

    .venv/bin/python -m bench.chunk_quality [--powershell-docs 300] [--seed 0] [--short-tokens 20] \
        [--out bench/results/chunk_quality.json]

Corpora (../shared/datasets): the 125 PEP pages of real-html-peps (HTML) and a seeded sample of
the PowerShell docs (Markdown; `--powershell-docs N` files, random.Random(seed), 0: all 3,088).
Each file is parsed and cleaned as the pipeline does (``parsing.parse_document``,
``cleaning.clean_text``; PII redaction is not applied) and chunked with every strategy of
seeds/chunking_strategies.csv (its ``min_chunk_tokens`` when the seed has the column). Per
corpus x strategy it counts:

- ``chunks``, ``documents``, ``text_chars`` (characters of cleaned text: what parsing removed);
- ``heading_only``: chunks made of heading lines alone (Markdown: every block is a heading for
  markdown-it; HTML: every line is the text of an <h1>-<h6> of the page);
- ``short``: chunks under ``--short-tokens`` word pieces (special tokens included), and
  ``short_multi``: those in documents of more than one chunk (a short document is one short chunk);
- ``toc``: chunks holding a line that is a table-of-contents label ("Table of Contents",
  "Contents", "In this topic", "On this page"...), Markdown heading marks and bold allowed;
- ``terminal``: chunks holding terminal markup (ANSI escape sequences, termynal ``<div class="termy">``
  or ``<font color=...>`` tags);
- ``title_twice``: documents whose first two lines are the same text (a title shown twice).

The labels and patterns here are the benchmark's own, independent of the code they measure. The
script runs against any checkout (`--root`: the folder holding python_udfs/ and seeds/, by default
this one), so the same command measures the code before and after a change.
"""

from __future__ import annotations

import argparse
import csv
import functools
import inspect
import json
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"
TOC_LABELS = ("table of contents", "contents", "in this topic", "in this article", "on this page")
_TOC_LINE = re.compile(r"^[#\s*_]*(?:" + "|".join(TOC_LABELS) + r")[\s*_:]*$", re.IGNORECASE | re.MULTILINE)
_TERMINAL = re.compile(r"\x1b\[|<div[^>]*\btermy|<font\s+color", re.IGNORECASE)


@dataclass(frozen=True)
class Document:
    corpus: str
    path: str
    file_type: str
    text: str
    headings: frozenset[str]  # HTML: the text of every heading of the page


@dataclass(frozen=True)
class Strategy:
    strategy_id: str
    method: str
    max_tokens: int
    overlap_tokens: int
    min_chunk_tokens: int


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _html_headings(content: bytes) -> frozenset[str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(content.decode("utf-8", errors="replace"), "html.parser")
    return frozenset(_one_line(tag.get_text(" ")) for tag in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6"]))


def corpus_files(peps: Path, powershell: Path, n_powershell: int, seed: int) -> Iterator[tuple[str, Path]]:
    """(corpus name, file) for every PEP page and the sampled PowerShell docs, in path order."""
    for folder in (peps, powershell):
        if not folder.is_dir():
            raise SystemExit(f"corpus not found: {folder}")
    for path in sorted(peps.glob("*.html")):
        yield "peps", path
    markdown = sorted(powershell.rglob("*.md"))
    if 0 < n_powershell < len(markdown):
        markdown = sorted(random.Random(seed).sample(markdown, n_powershell))
    for path in markdown:
        yield "powershell", path


def load_documents(files: Iterator[tuple[str, Path]]) -> list[Document]:
    """Each file parsed and cleaned as the pipeline does; files that give no document are skipped."""
    from python_udfs import cleaning, parsing

    documents = []
    for corpus, path in files:
        content = path.read_bytes()
        file_type = parsing.detect_file_type(path.name) or "text"
        headings = _html_headings(content) if file_type == "html" else frozenset()
        for record in parsing.parse_document(path.name, content).records:
            text = cleaning.clean_text(record.text)
            if text.strip():
                documents.append(Document(corpus, str(path), file_type, text, headings))
    return documents


def read_strategies(root: Path) -> list[Strategy]:
    """The rows of seeds/chunking_strategies.csv under `root` (min_chunk_tokens 0 without the column)."""
    with open(root / "seeds" / "chunking_strategies.csv", encoding="utf-8", newline="") as handle:
        return [
            Strategy(
                row["strategy_id"],
                row["method"],
                int(row["max_tokens"]),
                int(row["overlap_tokens"]),
                int(row.get("min_chunk_tokens") or 0),
            )
            for row in csv.DictReader(handle)
        ]


@functools.lru_cache(maxsize=1)
def _markdown_parser() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


def heading_only(text: str, document: Document) -> bool:
    """Whether a chunk is made of headings alone."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if document.file_type != "markdown":
        return bool(lines) and all(_one_line(line) in document.headings for line in lines)
    tokens = _markdown_parser().parse(text)
    blocks = [t.type for t in tokens if t.level == 0 and t.type != "inline" and not t.type.endswith("_close")]
    return bool(blocks) and all(kind == "heading_open" for kind in blocks)


def title_twice(text: str) -> bool:
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    return len(lines) >= 2 and lines[0].lstrip("# ") == lines[1].lstrip("# ")


def measure(documents: list[Document], strategy: Strategy, short_tokens: int) -> dict[str, Counter[str]]:
    """Counts per corpus for one strategy."""
    from python_udfs.chunking import chunk_text
    from python_udfs.tokens import load_tokenizer

    tokenizer = load_tokenizer()
    options: dict[str, Any] = {}
    if "min_chunk_tokens" in inspect.signature(chunk_text).parameters:
        options["min_chunk_tokens"] = strategy.min_chunk_tokens
    counts: dict[str, Counter[str]] = {}
    for document in documents:
        chunks = chunk_text(
            document.text,
            tokenizer,
            method=strategy.method,
            max_tokens=strategy.max_tokens,
            overlap_tokens=strategy.overlap_tokens,
            file_type=document.file_type,
            **options,
        )
        count = counts.setdefault(document.corpus, Counter())
        count["documents"] += 1
        count["text_chars"] += len(document.text)
        count["title_twice"] += title_twice(document.text)
        count["chunks"] += len(chunks)
        for chunk in chunks:
            count["heading_only"] += heading_only(chunk.text, document)
            count["short"] += chunk.n_tokens < short_tokens
            count["short_multi"] += chunk.n_tokens < short_tokens and len(chunks) > 1
            count["toc"] += _TOC_LINE.search(chunk.text) is not None
            count["terminal"] += _TERMINAL.search(chunk.text) is not None
    return counts


COLUMNS = (
    "documents",
    "text_chars",
    "chunks",
    "heading_only",
    "short",
    "short_multi",
    "toc",
    "terminal",
    "title_twice",
)


def table(results: dict[str, dict[str, Counter[str]]]) -> str:
    """A markdown table: one row per corpus x strategy."""
    lines = ["| corpus | strategy | " + " | ".join(COLUMNS) + " |", "|---|---|" + "---:|" * len(COLUMNS)]
    for strategy_id, by_corpus in results.items():
        for corpus, count in sorted(by_corpus.items()):
            lines.append(f"| {corpus} | {strategy_id} | " + " | ".join(str(count[c]) for c in COLUMNS) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--powershell-docs", type=int, default=300, help="seeded sample of N files (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--short-tokens", type=int, default=20, help="a chunk under this many word pieces is short")
    parser.add_argument("--peps", type=Path, default=DATASETS / "real-html-peps")
    parser.add_argument("--powershell", type=Path, default=DATASETS / "powershell-docs")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="checkout whose python_udfs/ and seeds/ run")
    parser.add_argument("--out", default="bench/results/chunk_quality.json")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.root.resolve()))

    started = time.perf_counter()
    documents = load_documents(corpus_files(args.peps, args.powershell, args.powershell_docs, args.seed))
    results = {s.strategy_id: measure(documents, s, args.short_tokens) for s in read_strategies(args.root)}
    seconds = time.perf_counter() - started
    print(table(results))
    print(f"({len(documents)} documents in {seconds:.0f} s)")
    report = {
        "root": str(args.root.resolve()),
        "powershell_docs": args.powershell_docs,
        "seed": args.seed,
        "short_tokens": args.short_tokens,
        "strategies": [vars(s) for s in read_strategies(args.root)],
        "results": {sid: {c: dict(n) for c, n in by.items()} for sid, by in results.items()},
        "seconds": round(seconds, 1),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
