"""``python -m bench.pii_eval``: score docvec's detectors, time them, and write the JSON report.

docvec's detectors are imported only here: the generator and the scorer stay standard-library only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
from collections import Counter
from pathlib import Path

import bench.pii_eval
from bench.pii_eval.corpora import load_powershell_docs, load_scifact
from bench.pii_eval.generator import LabelledDoc, build_labelled_set
from bench.pii_eval.presidio import run_presidio
from bench.pii_eval.real_corpus import load_real_docs
from bench.pii_eval.real_eval import (
    label_docs,
    label_summary,
    load_overrides,
    read_labels,
    report_table,
    score,
    write_labels,
)
from bench.pii_eval.scorer import errors, evaluate, markdown_table, score_table, scores_json, throughput
from python_udfs.redaction import ENTITY_TYPES, find_pii, redact


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line (``--help`` lists it)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.pii_eval", description=bench.pii_eval.__doc__.split("\n\n")[0]
    )
    parser.add_argument("--seed", type=int, default=20240115)
    parser.add_argument("--per-type", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3, help="throughput runs; the best counts")
    parser.add_argument("--sample", type=int, default=15, help="findings shown per type on powershell-docs")
    parser.add_argument(
        "--out", default=None, help="bench/results/pii_eval.json (pii_eval_real.json with --real) by default"
    )
    parser.add_argument(
        "--real",
        action="store_true",
        help="score the detectors on the labelled real documents (bench/pii_eval/data/real_labels.jsonl) "
        "and on the generated set, instead of the throughput runs",
    )
    parser.add_argument(
        "--relabel",
        action="store_true",
        help="with --real: rebuild the labelled set from the rules and the hand overrides first",
    )
    parser.add_argument(
        "--presidio",
        action="store_true",
        help="also score presidio-analyzer (needs it installed, e.g. in a scratch venv: "
        "/tmp/pii-venv/bin/python -m bench.pii_eval --presidio)",
    )
    return parser.parse_args(argv)


def detect(text: str) -> list[tuple[str, int, int]]:
    """docvec's detectors as a `Detector`: (entity_type, start, end) per finding."""
    return [(f.entity_type, f.start, f.end) for f in find_pii(text)]


def labelled_set_report(docs: list[LabelledDoc], seed: int) -> dict[str, object]:
    """Precision/recall per type on the labelled set and the look-alikes touched (printed too)."""
    scores = evaluate(detect, docs)
    n_look = sum(len(d.lookalikes) for d in docs)
    touched = 0
    for d in docs:
        found = find_pii(d.text)
        touched += sum(1 for _, s, e in d.lookalikes for f in found if f.start < e and s < f.end)
    print(f"## Labelled set (seed {seed}): {len(docs)} documents, "
          f"{sum(len(d.spans) for d in docs)} planted values, "
          f"{n_look} look-alikes ({touched} touched)\n")  # fmt: skip
    print(score_table(scores))
    for line in errors(detect, docs, limit=20):
        print("  ", line)
    return {
        "seed": seed,
        "documents": len(docs),
        "lookalikes": n_look,
        "lookalikes_touched": touched,
        "scores": scores_json(scores),
    }


def throughput_report(repeat: int) -> dict[str, object]:
    """MB/s of ``redact()`` (CPU and wall-clock, best of `repeat`) per corpus present (printed too)."""
    corpora = {
        "powershell-docs (*.md)": [t for _, t in load_powershell_docs()],
        "scifact abstracts": load_scifact(),
    }
    report: dict[str, object] = {}
    print(f"\n## Throughput of redact() (one core, best of {repeat})\n")
    rows = []
    for name, texts in corpora.items():
        if not texts:
            print(f"{name}: absent, skipped")
            continue
        redact(texts[0])  # warm-up (imports, phonenumbers metadata)
        result = throughput(texts, redact, repeat)
        columns = ("mb", "cpu_seconds", "mb_per_s_cpu", "mb_per_s_wall")
        rows.append([name, len(texts), *(result[c] for c in columns)])
        report[name] = {"documents": len(texts), **result}
    print(markdown_table(["corpus", "documents", "MB", "CPU seconds", "MB/s (CPU)", "MB/s (wall)"], rows))
    print(f"(load average at the end: {os.getloadavg()[0]:.1f}; wall-clock rates suffer on a busy machine)")
    return report


def powershell_findings(seed: int, sample: int) -> dict[str, object]:
    """Findings per type on the PowerShell docs, with a reservoir sample of each (printed too)."""
    ps_docs = load_powershell_docs()
    if not ps_docs:
        return {}
    counts: Counter[str] = Counter()
    samples: dict[str, list[str]] = {t: [] for t in ENTITY_TYPES}
    rng = random.Random(seed)
    for path, text in ps_docs:
        for f in find_pii(text):
            counts[f.entity_type] += 1
            item = f"{path}: {text[f.start : f.end]!r} in {text[max(0, f.start - 40) : f.end + 20]!r}"
            bucket = samples[f.entity_type]
            if len(bucket) < sample:
                bucket.append(item)
            elif (j := rng.randrange(counts[f.entity_type])) < sample:
                bucket[j] = item
    print(f"\n## Findings on powershell-docs ({len(ps_docs)} files)\n")
    print(markdown_table(["entity type", "findings"], [[t, counts.get(t, 0)] for t in ENTITY_TYPES]))
    for t in ENTITY_TYPES:
        for item in samples[t]:
            print(f"  {t}: {item}")
    return {
        "powershell_docs_findings": {t: counts.get(t, 0) for t in ENTITY_TYPES},
        "powershell_docs_samples": {t: v for t, v in samples.items() if v},
    }


def real_report(relabel: bool) -> dict[str, object]:
    """Precision/recall per type on the labelled real documents (printed too); ``relabel`` rebuilds the set."""
    docs = list(load_real_docs())
    if relabel:
        write_labels(label_docs(docs, detect, load_overrides()))
    items = read_labels()
    result = score(docs, items, detect)
    print(f"\n## Real technical text: {result.documents} documents (PEPs, pypdf's PDFs, PowerShell 7.5 and "
          f"conceptual docs), {len(items)} labelled candidates\n")  # fmt: skip
    print(label_summary(items) + "\n")
    print(report_table(result))
    print(f"\nmasks of non-public addresses, network blocks, version and section numbers: "
          f"{len(result.never_masked_hits)}")  # fmt: skip
    if result.stale_documents:
        print(f"stale: {len(result.stale_documents)} documents changed since labelling (run with --relabel)")
    for line in result.errors[:40]:
        print("  ", line)
    return {
        "documents": result.documents,
        "labelled": len(items),
        "stale_documents": result.stale_documents,
        "never_masked_hits": result.never_masked_hits,
        "scores": {
            t: {**vars(s), "precision": round(s.precision, 4), "recall": round(s.recall, 4)}
            for t, s in result.scores.items()
        },  # fmt: skip
        "errors": result.errors,
    }


def main(argv: list[str] | None = None) -> int:
    """Run every part, print the tables and write the report to ``--out``."""
    args = parse_args(argv)
    docs = build_labelled_set(args.seed, args.per_type)
    report: dict[str, object] = {
        "benchmark": "pii_eval",
        "command": " ".join([os.path.basename(sys.executable), "-m", "bench.pii_eval", *(argv or sys.argv[1:])]),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "labelled_set": labelled_set_report(docs, args.seed),
    }
    if args.real:
        report["real"] = real_report(args.relabel)
    else:
        report["throughput"] = throughput_report(args.repeat)
        report.update(powershell_findings(args.seed, args.sample))
    if args.presidio:
        report["presidio"] = run_presidio(docs, args.repeat)
    out = Path(args.out or ("bench/results/pii_eval_real.json" if args.real else "bench/results/pii_eval.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
