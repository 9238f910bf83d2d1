"""The labelled evaluation on real technical text: build the labelled set, score the detectors on it.

``python -m bench.pii_eval --real`` scores docvec's detectors against ``data/real_labels.jsonl``:
precision per type over the findings, recall over the true labels, and the masks of
non-personal addresses and version numbers (which must be 0). ``--relabel`` rebuilds that file:
the probes and the detectors' findings on the current text, each labelled by `real_rules` and
corrected by the hand review in ``data/real_overrides.csv`` (keyed by document and value hash).

The labelled set holds no personal value: a true item is stored as its type, offsets, the
SHA-256 of the value (its first 16 hex digits) and its shape (letters ``a``/``A``, digits ``9``); only false items (not
personal data) keep their value and a short context.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .real_corpus import RealDoc
from .real_rules import probe, rule_label
from .scorer import markdown_table

DATA = Path(__file__).resolve().parent / "data"
LABELS = DATA / "real_labels.jsonl"
OVERRIDES = DATA / "real_overrides.csv"
# Words in the reasons of false labels that must never be masked (the "0 masks" target).
NEVER_MASKED = ("non-public range", "network block", "version", "section number", "OID", "inside markdown code")

Finder = Callable[[str], Iterable[tuple[str, int, int]]]


# Hashes are cut to this many hex digits (64 bits: enough to tell values and texts apart here).
HASH_DIGITS = 16


def sha256(value: str) -> str:
    """The first `HASH_DIGITS` hex digits of the SHA-256 of `value` (UTF-8)."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_DIGITS]


def shape(value: str) -> str:
    """`value` with letters as ``a``/``A`` and digits as ``9`` (punctuation and spaces kept)."""
    return re.sub(r"[^\W\d_]", lambda m: "A" if m.group().isupper() else "a", re.sub(r"\d", "9", value))


_ADDRESS_LIKE = re.compile(r"[\w.+-]+(?:@| at | ?\[at\] ?)[\w-]+(?:\.[\w-]+)+")


@dataclass(frozen=True)
class Override:
    """A hand label for every candidate of one value in one document."""

    label: bool
    reason: str


def load_overrides(path: Path = OVERRIDES) -> dict[tuple[str, str], Override]:
    """(doc, value_sha256) -> hand label, from the CSV (columns doc, value_sha256, label, reason)."""
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["doc"] and not r["doc"].startswith("#")]
    return {(r["doc"], r["value_sha256"]): Override(r["label"] == "true", r["reason"]) for r in rows}


def _candidates(text: str, detect: Finder) -> list[tuple[int, int, str]]:
    """Detector findings plus the probes' candidates that overlap no finding of their type."""
    found = sorted((s, e, t) for t, s, e in detect(text))
    out = list(found)
    for s, e, t in probe(text):
        if not any(t == ft and s < fe and fs < e for fs, fe, ft in found):
            out.append((s, e, t))
    return sorted(set(out))


def label_docs(docs: Iterable[RealDoc], detect: Finder, overrides: dict[tuple[str, str], Override]) -> list[dict]:
    """The labelled items of `docs` (rules, then hand overrides), one dict per candidate."""
    items: list[dict] = []
    for doc in docs:
        for start, end, entity_type in _candidates(doc.text, detect):
            value = doc.text[start:end]
            label, reason = rule_label(doc.doc_id, doc.text, start, end, entity_type)
            source = "rule"
            hand = overrides.get((doc.doc_id, sha256(value)))
            if hand is not None:
                label, reason, source = hand.label, hand.reason, "hand"
            item = {"doc": doc.doc_id, "doc_sha256": sha256(doc.text), "start": start, "end": end, "type": entity_type,
                    "value_sha256": sha256(value), "shape": shape(value), "label": label, "reason": reason,
                    "source": source, "value": None, "context": None}  # fmt: skip
            if not label:
                context = doc.text[max(0, start - 24) : end + 24].replace("\n", " ")
                item["value"], item["context"] = value, _ADDRESS_LIKE.sub(lambda m: shape(m.group()), context)
            items.append(item)
    return items


def write_labels(items: list[dict], path: Path = LABELS) -> None:
    """The labelled set as JSON Lines (sorted keys, one item a line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for item in items:
            f.write(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n")


def read_labels(path: Path = LABELS) -> list[dict]:
    """The labelled set written by `write_labels`."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@dataclass
class RealScore:
    """Per type: labelled true, findings that are true (TP), false (FP) or unlabelled, true ones missed."""

    true_labels: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    unlabelled: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return (self.true_labels - self.fn) / self.true_labels if self.true_labels else 1.0


@dataclass
class RealReport:
    """The scores, what no finding may touch, and what could not be scored."""

    scores: dict[str, RealScore]
    documents: int
    stale_documents: list[str]
    never_masked_hits: list[str]
    errors: list[str]


def score(docs: Iterable[RealDoc], items: list[dict], detect: Finder) -> RealReport:
    """Score `detect` on `docs` against the labelled `items` (documents whose text changed are stale)."""
    by_doc: dict[str, list[dict]] = {}
    for item in items:
        by_doc.setdefault(item["doc"], []).append(item)
    scores: dict[str, RealScore] = {}
    stale: list[str] = []
    never: list[str] = []
    errors: list[str] = []
    n_docs = 0
    for doc in docs:
        labels = by_doc.get(doc.doc_id, [])
        if labels and labels[0]["doc_sha256"] != sha256(doc.text):
            stale.append(doc.doc_id)
            continue
        n_docs += 1
        found = [(t, s, e) for t, s, e in detect(doc.text)]
        for label in labels:
            if label["label"]:
                sc = scores.setdefault(label["type"], RealScore())
                sc.true_labels += 1
                if not any(t == label["type"] and s < label["end"] and label["start"] < e for t, s, e in found):
                    sc.fn += 1
                    errors.append(f"FN {label['type']} {doc.doc_id}:{label['start']} {label['shape']!r}")
        for t, s, e in found:
            sc = scores.setdefault(t, RealScore())
            hits = [lb for lb in labels if lb["type"] == t and lb["start"] < e and s < lb["end"]]
            if not hits:
                sc.unlabelled += 1
                errors.append(f"UNLABELLED {t} {doc.doc_id}:{s} {shape(doc.text[s:e])!r}")
            elif any(lb["label"] for lb in hits):
                sc.tp += 1
            else:
                sc.fp += 1
                errors.append(f"FP {t} {doc.doc_id}:{s} {doc.text[s:e]!r} ({hits[0]['reason']})")
                if any(r in hits[0]["reason"] for r in NEVER_MASKED):
                    never.append(f"{t} {doc.doc_id}:{s} {doc.text[s:e]!r}")
    return RealReport(dict(sorted(scores.items())), n_docs, stale, never, errors)


def report_table(report: RealReport) -> str:
    """The per-type scores as a Markdown table."""
    rows = [
        [t, s.true_labels, s.tp + s.fp + s.unlabelled, s.tp, s.fp, s.fn, s.unlabelled,
         f"{s.precision:.3f}", f"{s.recall:.3f}"]
        for t, s in report.scores.items()
    ]  # fmt: skip
    header = ["entity type", "labelled true", "findings", "TP", "FP", "FN", "unlabelled", "precision", "recall"]
    return markdown_table(header, rows)


def label_summary(items: list[dict]) -> str:
    """Counts of the labelled set per type, label and source, as a Markdown table."""
    counts = Counter((i["type"], i["label"], i["source"]) for i in items)
    types = sorted({t for t, _, _ in counts})
    rows = [
        [t, counts[(t, True, "rule")] + counts[(t, True, "hand")],
         counts[(t, False, "rule")] + counts[(t, False, "hand")],
         counts[(t, True, "hand")] + counts[(t, False, "hand")]]
        for t in types
    ]  # fmt: skip
    return markdown_table(["entity type", "labelled true", "labelled false", "of them by hand"], rows)
