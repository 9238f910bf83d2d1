"""PDF text extractors compared: pypdf, pypdfium2, pdfplumber (the basis of ``pdf_parser: auto``).

    .venv/bin/python -m bench.pdf_parsers_bench [--repeat 1] [--out bench/results/pdf_parsers_bench.json]

Each extractor runs through the real parser (``parsing.parse_document`` with ``ParseOptions(pdf_parser=...,
ocr="off")``: extraction, the shared clean-up of ``pdf_layout``, page_starts). ``pypdf-raw`` is the
parser before issue #17 (pypdf's plain text and ``clean_text`` only), the baseline.

Corpora:

- the labelled PDFs of tests/python/pdf_samples.py (``labelled_corpus``: running header and footer,
  hyphenated line ends, ligatures, two columns in stream and in row order, a ruled table, a dot-leader
  table of contents), whose text is known: word recall and precision (multisets of case-folded words),
  reading order (share of the expected word bigrams found in order), table cell accuracy (cells found
  at their row and column in a Markdown table row), running lines left;
- ../shared/datasets/real-pdfs (51 files; skipped with a message when absent): failures by reason,
  ligature characters left, lines ending in a letter and a hyphen, lines among the first and last two
  lines of at least half of the pages of a document of three pages or more (numbers normalised), pages/s.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
for folder in (PROJECT_ROOT, PROJECT_ROOT / "tests" / "python"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from python_udfs.cleaning import clean_text  # noqa: E402
from python_udfs.parsing import parse_document  # noqa: E402
from python_udfs.parsing.common import safe_text  # noqa: E402
from python_udfs.parsing.pdf_extractors import TextBudget, extract_pypdf  # noqa: E402
from python_udfs.parsing.pdf_layout import LIGATURES, running_line_key  # noqa: E402
from python_udfs.parsing.results import ParseOptions  # noqa: E402

from pdf_samples import LabelledPdf, labelled_corpus  # noqa: E402

REAL_PDFS = PROJECT_ROOT.parent / "shared" / "datasets" / "real-pdfs"
DEFAULT_OUT = PROJECT_ROOT / "bench" / "results" / "pdf_parsers_bench.json"
PARSERS = ("pypdf-raw", "pypdf", "pypdfium2", "pdfplumber")
_WORD = re.compile(r"\w+(?:[-'/.]\w+)*")
_LINE_END_HYPHEN = re.compile(r"[^\W\d_]-$", re.MULTILINE)
# Documents of at least this many pages are checked for lines repeated on half of their pages.
MIN_REPEAT_PAGES = 3
# Lines at the top and at the bottom of a page looked at for running headers and footers.
EDGE = 2


# A parse: (text, page texts) or (None, reason).
Parsed = tuple[str | None, list[str] | str]


def _pages(text: str, starts: list[int]) -> list[str]:
    ends = [*starts[1:], len(text)]
    return [text[start:end] for start, end in zip(starts, ends)]


def _parse_raw(data: bytes) -> Parsed:
    """The parser before issue #17: pypdf plain text and clean_text, no layout clean-up."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return None, "encrypted"
        texts = [clean_text(safe_text(t)) for t in extract_pypdf(data, reader, TextBudget())]
    except Exception as exc:
        return None, f"error: {type(exc).__name__}"
    pages = [t for t in texts if t]
    return ("\n\n".join(pages), pages) if pages else (None, "empty_text")


def _parser(name: str) -> Callable[[bytes], Parsed]:
    if name == "pypdf-raw":
        return _parse_raw
    options = ParseOptions(pdf_parser=name, ocr="off")

    def parse(data: bytes) -> Parsed:
        result = parse_document("doc.pdf", data, options)
        if not result.records:
            return None, str(result.reason)
        record = result.records[0]
        return record.text, _pages(record.text, record.metadata["page_starts"])

    return parse


def _words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def _recall_precision(expected: list[str], got: list[str]) -> tuple[float, float]:
    common = sum((Counter(expected) & Counter(got)).values())
    return common / max(len(expected), 1), common / max(len(got), 1)


def _bigram_order(expected: list[str], got: list[str]) -> float:
    """Share of the expected consecutive word pairs that are consecutive in the output."""
    wanted = Counter(zip(expected, expected[1:]))
    found = Counter(zip(got, got[1:]))
    return sum((wanted & found).values()) / max(sum(wanted.values()), 1)


def _table_cells(text: str, tables: tuple[tuple[tuple[str, ...], ...], ...]) -> tuple[int, int]:
    """(cells found at their place in a Markdown row, cells expected)."""
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("|")
    ]
    found = total = 0
    for table in tables:
        for expected in table:
            total += len(expected)
            best = max((sum(a == b for a, b in zip(expected, row)) for row in rows), default=0)
            found += best
    return found, total


def _running_left(pages: list[str], running: tuple[str, ...]) -> int:
    keys = {running_line_key(line) for line in running}
    return sum(running_line_key(line) in keys for page in pages for line in page.splitlines())


def _edge_key(line: str) -> str:
    """Whitespace collapsed, case folded, every number ``#`` (independent of the parser's own key)."""
    return re.sub(r"\d+", "#", " ".join(line.split()).casefold())


def _repeated_lines(pages: list[str]) -> int:
    """Lines among the first and last ``EDGE`` lines of at least half of the pages (3+ page documents)."""
    if len(pages) < MIN_REPEAT_PAGES:
        return 0
    counts: Counter[str] = Counter()
    for page in pages:
        lines = [line for line in page.splitlines() if line.strip()]
        counts.update({_edge_key(line) for line in lines[:EDGE] + lines[-EDGE:]})
    return sum(1 for key, count in counts.items() if count * 2 >= len(pages))


def bench_labelled(name: str, corpus: list[LabelledPdf], repeat: int) -> dict[str, Any]:
    parse = _parser(name)
    recall = precision = order = 0.0
    cells_found = cells_total = running = ligatures = hyphens = failures = 0
    per_document: dict[str, Any] = {}
    for doc in corpus:  # warm-up (imports, font caches), untimed
        parse(doc.data)
    started = time.perf_counter()
    pages_done = 0
    for _ in range(repeat):
        for doc in corpus:
            text, pages = parse(doc.data)
            pages_done += len(pages) if text is not None else 0
    seconds = time.perf_counter() - started
    for doc in corpus:
        text, pages = parse(doc.data)
        if text is None or isinstance(pages, str):
            failures += 1
            per_document[doc.name] = {"failure": pages}
            continue
        expected, got = _words(doc.expected), _words(text)
        r, p = _recall_precision(expected, got)
        o = _bigram_order(expected, got)
        found, total = _table_cells(text, doc.tables)
        recall, precision, order = recall + r, precision + p, order + o
        cells_found, cells_total = cells_found + found, cells_total + total
        left = _running_left(pages, doc.running)
        running += left
        ligatures += sum(text.count(c) for c in LIGATURES)
        hyphens += len(_LINE_END_HYPHEN.findall(text))
        per_document[doc.name] = {"recall": round(r, 3), "precision": round(p, 3), "order": round(o, 3),
                                  "running_left": left}  # fmt: skip
    n = len(corpus)
    return {
        "word_recall": round(recall / n, 3),
        "word_precision": round(precision / n, 3),
        "bigram_order": round(order / n, 3),
        "table_cell_accuracy": round(cells_found / max(cells_total, 1), 3),
        "running_lines_left": running,
        "ligatures_left": ligatures,
        "line_end_hyphens": hyphens,
        "failures": failures,
        "pages_per_s": round(pages_done / seconds, 1) if seconds else None,
        "documents": per_document,
    }


def bench_real(name: str, files: list[Path]) -> dict[str, Any]:
    parse = _parser(name)
    reasons: Counter[str] = Counter()
    pages_done = ligatures = hyphens = repeated = 0
    started = time.perf_counter()
    for path in files:
        text, pages = parse(path.read_bytes())
        if text is None or isinstance(pages, str):
            reasons[str(pages)] += 1
            continue
        pages_done += len(pages)
        ligatures += sum(text.count(c) for c in LIGATURES)
        hyphens += len(_LINE_END_HYPHEN.findall(text))
        repeated += _repeated_lines(pages)
    seconds = time.perf_counter() - started
    return {
        "files": len(files),
        "parsed": len(files) - sum(reasons.values()),
        "reasons": dict(reasons),
        "pages": pages_done,
        "seconds": round(seconds, 2),
        "pages_per_s": round(pages_done / seconds, 1) if seconds else None,
        "ligatures_left": ligatures,
        "line_end_hyphens": hyphens,
        "repeated_lines": repeated,
    }


def _markdown(results: dict[str, Any]) -> str:
    head = (
        "| parser | word recall | word precision | reading order | table cells | running left | ligatures | "
        "line-end hyphens | failures | labelled pages/s | real: parsed | real: ligatures | real: hyphens | "
        "real: repeated lines | real pages/s |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, row in results["parsers"].items():
        lab, real = row["labelled"], row.get("real") or {}
        lines.append(
            f"| {name} | {lab['word_recall']} | {lab['word_precision']} | {lab['bigram_order']} | "
            f"{lab['table_cell_accuracy']} | {lab['running_lines_left']} | {lab['ligatures_left']} | "
            f"{lab['line_end_hyphens']} | {lab['failures']} | {lab['pages_per_s']} | "
            f"{real.get('parsed', '-')}/{real.get('files', '-')} | {real.get('ligatures_left', '-')} | "
            f"{real.get('line_end_hyphens', '-')} | {real.get('repeated_lines', '-')} | "
            f"{real.get('pages_per_s', '-')} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the labelled corpus")
    parser.add_argument("--parsers", nargs="*", default=list(PARSERS), choices=PARSERS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    corpus = labelled_corpus()
    files = sorted(REAL_PDFS.glob("*.pdf")) if REAL_PDFS.is_dir() else []
    if not files:
        print(f"{REAL_PDFS} is absent: the real-PDF columns are skipped", file=sys.stderr)
    results: dict[str, Any] = {"labelled_documents": [d.name for d in corpus], "real_pdfs": len(files), "parsers": {}}
    for name in args.parsers:
        row: dict[str, Any] = {"labelled": bench_labelled(name, corpus, args.repeat)}
        if files:
            row["real"] = bench_real(name, files)
        results["parsers"][name] = row
        print(f"{name}: done", file=sys.stderr, flush=True)
    table = _markdown(results)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**results, "markdown": table}, indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
