"""Repeated boilerplate lines on real documents: what the per-folder removal would take out.

    .venv/bin/python -m bench.boilerplate_lines [--min-share 0.5] [--min-documents 5] [--top 10] \
        [--out bench/results/boilerplate_lines.json]

Corpora (../shared/datasets): the PowerShell docs (3,088 Markdown files) and the PEP pages of
real-html-peps (HTML). Each file is parsed and cleaned as the pipeline does
(``parsing.parse_document``, ``cleaning.clean_text``), grouped by folder (its path's dirname),
and the selection of models/intermediate/int_boilerplate_lines_counted.sql is applied in Python
to ``boilerplate_lines.line_hashes``: a line is boilerplate in a folder of at least
``--min-documents`` documents when more than ``--min-share`` of them have it. Each document then
goes through ``boilerplate_lines.remove_lines``. Per corpus it reports documents and folders,
the boilerplate lines selected, documents affected, lines and characters removed, and the
``--top`` removed lines by the documents they were removed from (printed, to be judged by eye). No dbt, no PII
redaction.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from python_udfs import boilerplate_lines, cleaning, parsing  # noqa: E402

DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"
CORPORA = {"powershell-docs": "*.md", "real-html-peps": "*.html"}
DEFAULT_OUT = PROJECT_ROOT / "bench" / "results" / "boilerplate_lines.json"


@dataclass(frozen=True)
class Document:
    folder: str
    text: str


def load_documents(root: Path, pattern: str) -> list[Document]:
    """Every record of every file matching `pattern` under `root`, parsed and cleaned."""
    documents = []
    for path in sorted(root.rglob(pattern)):
        relative = path.relative_to(root)
        folder = "" if relative.parent == Path(".") else relative.parent.as_posix()
        for record in parsing.parse_document(relative.as_posix(), path.read_bytes()).records:
            text = cleaning.clean_text(record.text)
            if text and text.strip():
                documents.append(Document(folder, text))
    return documents


def boilerplate_by_folder(documents: list[Document], min_share: float, min_documents: int) -> dict[str, set[str]]:
    """folder -> hashes of its boilerplate lines (the SQL model's selection)."""
    per_folder: dict[str, list[Document]] = defaultdict(list)
    for document in documents:
        per_folder[document.folder].append(document)
    selected: dict[str, set[str]] = {}
    for folder, members in per_folder.items():
        if len(members) < min_documents:
            continue
        counts = Counter(h for d in members for h in boilerplate_lines.line_hashes(d.text))
        hashes = {h for h, n in counts.items() if n > min_share * len(members)}
        if hashes:
            selected[folder] = hashes
    return selected


def measure(documents: list[Document], min_share: float, min_documents: int, top: int) -> dict[str, Any]:
    """Counts of the removal over one corpus, and its most frequently removed lines."""
    selected = boilerplate_by_folder(documents, min_share, min_documents)
    texts: dict[str, str] = {}  # hash -> the line, for the report only (the pipeline keeps no text)
    removed_in: Counter[str] = Counter()
    affected = lines_removed = chars_removed = chars_total = 0
    for document in documents:
        chars_total += len(document.text)
        hashes = selected.get(document.folder)
        if not hashes:
            continue
        kept, n_removed = boilerplate_lines.remove_lines(document.text, hashes)
        if not n_removed or kept is None:
            continue
        affected += 1
        lines_removed += n_removed
        chars_removed += len(document.text) - len(kept)
        for line in document.text.split("\n"):
            digest = boilerplate_lines.line_hash(line)
            if digest in hashes and boilerplate_lines.is_candidate(line.strip()):
                texts.setdefault(digest, line.strip())
        gone = set(boilerplate_lines.line_hashes(document.text)) - set(boilerplate_lines.line_hashes(kept))
        removed_in.update(gone & hashes)
    return {
        "documents": len(documents),
        "folders": len({d.folder for d in documents}),
        "folders_with_boilerplate": len(selected),
        "boilerplate_lines": sum(len(h) for h in selected.values()),
        "documents_affected": affected,
        "lines_removed": lines_removed,
        "chars_removed": chars_removed,
        "chars_total": chars_total,
        "chars_removed_share": round(chars_removed / chars_total, 5) if chars_total else 0.0,
        "top_lines": [
            {"documents": n, "line": texts.get(digest, "(only inside code: never removed)")}
            for digest, n in removed_in.most_common(top)
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--min-share", type=float, default=0.5, help="var boilerplate_min_share")
    parser.add_argument("--min-documents", type=int, default=5, help="var boilerplate_min_documents")
    parser.add_argument("--top", type=int, default=10, help="removed lines to print per corpus")
    parser.add_argument("--datasets", type=Path, default=DATASETS, help="folder holding the corpora")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    args = parser.parse_args()
    results: dict[str, Any] = {"min_share": args.min_share, "min_documents": args.min_documents, "corpora": {}}
    for name, pattern in CORPORA.items():
        root = args.datasets / name
        if not root.is_dir():
            print(f"{root} not found: skipped", file=sys.stderr)
            continue
        started = time.perf_counter()
        documents = load_documents(root, pattern)
        result = measure(documents, args.min_share, args.min_documents, args.top)
        result["seconds"] = round(time.perf_counter() - started, 1)
        results["corpora"][name] = result
        print(f"\n## {name}")
        for key, value in result.items():
            if key != "top_lines":
                print(f"{key}: {value}")
        for item in result["top_lines"]:
            print(f"  {item['documents']:5d}  {item['line'][:110]}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
