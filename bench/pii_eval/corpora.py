"""The real corpora of the throughput runs (skipped where absent)."""

from __future__ import annotations

import json
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHARED = PROJECT_ROOT.parent / "shared" / "datasets"
POWERSHELL_DOCS = SHARED / "powershell-docs"
SCIFACT = SHARED / "scifact" / "corpus.jsonl"


def load_powershell_docs(root: Path = POWERSHELL_DOCS) -> list[tuple[str, str]]:
    """(relative path, text) of every *.md file under `root`, sorted; [] when it is absent."""
    if not root.is_dir():
        return []
    return [
        (str(p.relative_to(root)), p.read_text(encoding="utf-8", errors="replace")) for p in sorted(root.rglob("*.md"))
    ]


def load_scifact(path: Path = SCIFACT) -> list[str]:
    """Title and abstract of every SciFact corpus record; [] when the file is absent."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    return [r["title"] + "\n\n" + r["text"] for r in records]


def first_mb(texts: list[str], n_bytes: int = 1_000_000) -> list[str]:
    """The first texts of `texts` up to about `n_bytes` of UTF-8."""
    out, total = [], 0
    for t in texts:
        if total >= n_bytes:
            break
        out.append(t)
        total += len(t.encode("utf-8"))
    return out
