"""Chunking throughput: docvec's recursive chunker against LangChain's RecursiveCharacterTextSplitter.

    .venv/bin/python -m bench.chunking_bench [--docs N] [--repeat 2] [--profile] \
        [--out bench/results/chunking.json]

Both splitters get the same documents: the Markdown files of /work/shared/datasets/powershell-docs
parsed and cleaned exactly as the dbt pipeline does (front matter removed, docvec_clean), all of
them or a seeded subset (`--docs N`, random.Random(0)). Both count word pieces with the model's
own tokenizer and have the same limits:

- docvec: `python_udfs.chunking.chunk_text(method="recursive", max_tokens=256, overlap_tokens=32,
  file_type="markdown")`; 256 includes [CLS]/[SEP].
- LangChain: `RecursiveCharacterTextSplitter.from_huggingface_tokenizer(tokenizer, chunk_size=254,
  chunk_overlap=32)` (254 = the budget without the 2 special tokens).

`langchain-text-splitters` is needed only by this benchmark (pip install langchain-text-splitters);
docvec itself never imports it. Runs alternate between the two splitters, best of `--repeat`.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

# Offline settings: bench/__init__.py (runs before this module).

CORPUS = PROJECT_ROOT.parent / "shared" / "datasets" / "powershell-docs"
MAX_TOKENS = 256
OVERLAP_TOKENS = 32


@dataclass(frozen=True)
class Document:
    path: str
    text: str


def load_documents(root: Path = CORPUS, limit: int | None = None, seed: int = 0) -> list[Document]:
    """The Markdown files under `root`, parsed and cleaned as the pipeline does; sorted by path.

    With `limit`, a seeded random subset (random.Random(seed)) of that many files, in path order.
    """
    from python_udfs import cleaning, parsing

    if not root.is_dir():
        raise SystemExit(f"corpus not found: {root}")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in (".md", ".markdown"))
    if limit is not None and limit < len(files):
        files = sorted(random.Random(seed).sample(files, limit))
    options = parsing.ParseOptions()
    documents = []
    for path in files:
        relative = path.relative_to(root).as_posix()
        result = parsing.parse_document(relative, path.read_bytes(), options)
        for record in result.records:
            text = cleaning.clean_text(record.text)
            if text.strip():
                documents.append(Document(relative, text))
    return documents


def machine_info() -> dict:
    """`lscpu | head -20`, CPU count, load average and versions: where the numbers were taken."""
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout.splitlines()[:20]
    except (OSError, subprocess.SubprocessError):
        lscpu = []
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for name in (
        "torch",
        "sentence-transformers",
        "transformers",
        "tokenizers",
        "onnxruntime",
        "optimum-onnx",
        "onnx",
        "duckdb",
        "pyarrow",
        "numpy",
        "langchain-text-splitters",
        "langchain-core",
    ):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            pass
    return {
        "lscpu": lscpu,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg_at_start": list(os.getloadavg()),
        "versions": versions,
    }


def command_line(module: str = "bench.chunking_bench") -> str:
    """How to reproduce this run."""
    return " ".join([f".venv/bin/python -m {module}", *sys.argv[1:]])


def markdown_table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _ours(tokenizer):
    from python_udfs.chunking import chunk_text

    def split(text: str) -> list[str]:
        chunks = chunk_text(
            text,
            tokenizer,
            method="recursive",
            max_tokens=MAX_TOKENS,
            overlap_tokens=OVERLAP_TOKENS,
            file_type="markdown",
        )
        return [c.text for c in chunks]

    return split


def _langchain():
    try:
        from langchain_text_splitters import RecursiveCharacterTextSplitter
    except ImportError as exc:  # pragma: no cover - bench-only dependency
        raise SystemExit(
            "this benchmark needs langchain-text-splitters: .venv/bin/pip install langchain-text-splitters"
        ) from exc
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    from python_udfs.tokens import resolve_model_path

    hf_logging.set_verbosity_error()  # "sequence longer than 512" warnings of the length function
    hf = AutoTokenizer.from_pretrained(str(resolve_model_path(None)), local_files_only=True)
    splitter = RecursiveCharacterTextSplitter.from_huggingface_tokenizer(
        hf, chunk_size=MAX_TOKENS - 2, chunk_overlap=OVERLAP_TOKENS
    )
    return splitter.split_text


def run_once(split, documents: list[Document]) -> tuple[float, list[list[str]]]:
    started = time.perf_counter()
    out = [split(d.text) for d in documents]
    return time.perf_counter() - started, out


def chunk_stats(tokenizer, chunked: list[list[str]]) -> dict:
    texts = [t for chunks in chunked for t in chunks]
    counts = tokenizer.count_batch(texts) if texts else []
    return {
        "chunks": len(texts),
        "mean_tokens": round(sum(counts) / len(counts), 1) if counts else 0,
        "max_tokens": max(counts, default=0),
        "over_limit": sum(c > MAX_TOKENS for c in counts),
        "mean_chars": round(sum(map(len, texts)) / len(texts), 1) if texts else 0,
    }


def profile_ours(tokenizer, documents: list[Document], top: int = 25) -> str:
    split = _ours(tokenizer)
    profiler = cProfile.Profile()
    profiler.enable()
    for d in documents:
        split(d.text)
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(top)
    return stream.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=None, help="seeded random subset of N files (default: all)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each splitter (alternating); best counts")
    parser.add_argument("--profile", action="store_true", help="also cProfile docvec's chunker (on --profile-docs)")
    parser.add_argument("--profile-docs", type=int, default=300)
    parser.add_argument("--out", default="bench/results/chunking.json")
    args = parser.parse_args(argv)

    from python_udfs.tokens import load_tokenizer

    info = machine_info()
    tokenizer = load_tokenizer()
    started = time.perf_counter()
    documents = load_documents(limit=args.docs)
    load_seconds = time.perf_counter() - started
    n_bytes = sum(len(d.text.encode("utf-8")) for d in documents)
    print(f"{len(documents)} documents, {n_bytes / 1e6:.1f} MB of cleaned text (loaded in {load_seconds:.1f}s)")

    splitters = {
        "docvec chunk_text (recursive)": _ours(tokenizer),
        "langchain RecursiveCharacterTextSplitter": _langchain(),
    }
    for split in splitters.values():  # warm-up: imports, regex compilation, tokenizer caches
        for d in documents[:5]:
            split(d.text)
    seconds: dict[str, list[float]] = {name: [] for name in splitters}
    outputs: dict[str, list[list[str]]] = {}
    for rep in range(args.repeat):
        names = list(splitters) if rep % 2 == 0 else list(reversed(splitters))
        for name in names:
            elapsed, out = run_once(splitters[name], documents)
            seconds[name].append(elapsed)
            outputs[name] = out
            print(f"  rep {rep + 1} {name}: {elapsed:.1f}s (load {os.getloadavg()[0]:.1f})", flush=True)

    results = []
    for name in splitters:
        best = min(seconds[name])
        results.append(
            {
                "splitter": name,
                "seconds_best": round(best, 3),
                "seconds_all": [round(s, 3) for s in seconds[name]],
                "docs_per_s": round(len(documents) / best, 1),
                "mb_per_s": round(n_bytes / 1e6 / best, 3),
                **chunk_stats(tokenizer, outputs[name]),
            }
        )
    ours, theirs = results
    ratio = ours["docs_per_s"] / theirs["docs_per_s"]
    report = {
        "benchmark": "chunking",
        "command": command_line(),
        "machine": {**info, "loadavg_at_end": list(os.getloadavg())},
        "corpus": {
            "root": str(CORPUS),
            "documents": len(documents),
            "subset": args.docs,
            "seed": 0,
            "mb": round(n_bytes / 1e6, 3),
        },
        "settings": {
            "docvec": (
                f"chunk_text(method='recursive', max_tokens={MAX_TOKENS}, overlap_tokens={OVERLAP_TOKENS}, "
                "file_type='markdown')"
            ),
            "langchain": (
                "RecursiveCharacterTextSplitter.from_huggingface_tokenizer(all-MiniLM-L6-v2 tokenizer, "
                f"chunk_size={MAX_TOKENS - 2}, chunk_overlap={OVERLAP_TOKENS})"
            ),
            "repeat": args.repeat,
        },
        "results": results,
        "ratio_docvec_over_langchain": round(ratio, 3),
    }
    if args.profile:
        subset = documents[: args.profile_docs]
        report["profile_docvec"] = profile_ours(tokenizer, subset)
        print(report["profile_docvec"])

    print()
    print(
        markdown_table(
            ["splitter", "docs/s", "MB/s", "chunks", "mean tokens", "max tokens", "chunks > 256 tokens"],
            [
                [
                    r["splitter"],
                    r["docs_per_s"],
                    r["mb_per_s"],
                    r["chunks"],
                    r["mean_tokens"],
                    r["max_tokens"],
                    r["over_limit"],
                ]
                for r in results
            ],
        )
    )
    print(f"\ndocvec / langchain throughput: {ratio:.2f}x ({len(documents)} documents, {n_bytes / 1e6:.1f} MB)")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
