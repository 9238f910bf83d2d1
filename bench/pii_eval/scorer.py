"""Scoring a detector on the labelled set (precision/recall per type) and timing it (MB/s)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .generator import ALL_TYPES, LabelledDoc


@dataclass
class Score:
    """True positives, false positives and false negatives of one entity type."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


Detector = Callable[[str], Iterable[tuple[str, int, int]]]


def evaluate(detect: Detector, docs: list[LabelledDoc], types: Iterable[str] = ALL_TYPES) -> dict[str, Score]:
    """Per-type scores: a prediction is a true positive only when type and span both match."""
    scores = {t: Score() for t in types}
    for doc in docs:
        gold = {(t, s, e) for t, s, e in doc.spans if t in scores}
        pred = {(t, s, e) for t, s, e in detect(doc.text) if t in scores}
        for t, _, _ in gold & pred:
            scores[t].tp += 1
        for t, _, _ in pred - gold:
            scores[t].fp += 1
        for t, _, _ in gold - pred:
            scores[t].fn += 1
    return scores


def errors(detect: Detector, docs: list[LabelledDoc], limit: int = 30) -> list[str]:
    """Readable false positives and negatives (for tuning and for failing tests)."""
    out: list[str] = []
    for doc in docs:
        gold = set(doc.spans)
        pred = set(detect(doc.text))
        for t, s, e in sorted(pred - gold, key=lambda x: x[1]):
            out.append(f"FP {t}: {doc.text[s:e]!r} in {doc.text[max(0, s - 30) : e + 30]!r}")
        for t, s, e in sorted(gold - pred, key=lambda x: x[1]):
            out.append(f"FN {t}: {doc.text[s:e]!r} in {doc.text[max(0, s - 30) : e + 30]!r}")
        if len(out) >= limit:
            break
    return out[:limit]


def scores_json(scores: dict) -> dict[str, dict[str, float]]:
    """Per-type counts, precision and recall, JSON-ready (rounded to 4 places)."""
    return {
        t: {"tp": s.tp, "fp": s.fp, "fn": s.fn, "precision": round(s.precision, 4), "recall": round(s.recall, 4)}
        for t, s in scores.items()
    }


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    """A Markdown table of `rows` under `header`."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def score_table(scores: dict[str, Score]) -> str:
    """Per-type scores as a Markdown table."""
    rows = [[t, s.tp + s.fn, s.tp, s.fp, s.fn, f"{s.precision:.3f}", f"{s.recall:.3f}"] for t, s in scores.items()]
    return markdown_table(["entity type", "planted", "TP", "FP", "FN", "precision", "recall"], rows)


def throughput(texts: list[str], fn: Callable[[str], object], repeat: int) -> dict[str, float]:
    """MB/s of UTF-8 input over all `texts`, best of `repeat` runs, by CPU time of this process
    (what one core does, even on a busy machine) and by wall-clock time."""
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    best_cpu = best_wall = float("inf")
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        for t in texts:
            fn(t)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return {
        "mb": round(n_bytes / 1e6, 2),
        "cpu_seconds": round(best_cpu, 3),
        "wall_seconds": round(best_wall, 3),
        "mb_per_s_cpu": round(n_bytes / 1e6 / best_cpu, 2),
        "mb_per_s_wall": round(n_bytes / 1e6 / best_wall, 2),
    }
