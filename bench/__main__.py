"""`make bench`: every benchmark in sequence, each writing bench/results/<name>.json (or .md).

    .venv/bin/python -m bench [--quick] [--only NAME ...]

Each benchmark is also runnable on its own (`python -m bench.<name> --help`). They read the
datasets in ../shared/ and stop with a clear message where one is missing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

# (module, arguments for a full run, arguments for --quick)
BENCHMARKS = [
    # the whole PowerShell corpus (~30 min of embedding on 2 idle cores); --quick: 60 files
    ("bench.incremental_bench", ["--files", "0"], ["--files", "60"]),
    ("bench.embedding_bench", [], ["--n", "300"]),
    ("bench.chunking_bench", [], []),
    ("bench.chunk_quality", [], ["--powershell-docs", "60"]),
    ("bench.boilerplate_lines", [], []),
    ("bench.pii_eval", [], []),
    ("bench.eval_scifact", [], ["--max-queries", "50"]),
    ("bench.latency_bench", [], ["--quick"]),
    # needs bench.eval_scifact's warehouse (above); --quick leaves out the build under load
    ("bench.publish_bench", [], ["--queries", "50", "--skip-build-test"]),
    # `docvec serve` under 1/4/16 clients and during a publish (SciFact; embeds the abstracts once if
    # bench.eval_scifact's warehouse is absent)
    ("bench.service_bench", [], ["--quick"]),
    ("bench.encoding_eval", [], ["--texts", "2", "--prefix-step", "40"]),
    # pdf_parser auto's choice: pypdf, pypdfium2, pdfplumber on labelled PDFs and ../shared/datasets/real-pdfs
    ("bench.pdf_parsers_bench", [], ["--repeat", "1"]),
    # OCR word recall on rendered pages (needs the tesseract binary)
    ("bench.ocr_bench", [], ["--pages", "1"]),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller samples, for a smoke run")
    parser.add_argument("--only", nargs="*", default=None, help="module names (e.g. incremental_bench)")
    args = parser.parse_args()
    failures = 0
    for module, full, quick in BENCHMARKS:
        if args.only and module.split(".")[-1] not in args.only:
            continue
        command = [sys.executable, "-m", module, *(quick if args.quick else full)]
        print(f"\n## {module}\n$ {' '.join(command)}", flush=True)
        started = time.perf_counter()
        code = subprocess.call(command)
        print(f"({module} exited {code} after {time.perf_counter() - started:.0f} s)", flush=True)
        failures += code != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
