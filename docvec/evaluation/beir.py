"""BEIR import: a BEIR-layout folder (`corpus.jsonl`, `queries.jsonl`, `qrels/<split>.tsv`) as a
JSONL landing folder plus a golden-questions CSV, which the dbt project builds like any other
corpus (`docvec eval --beir`)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

# Columns of the golden-questions seed / CSV (one row per question and relevant document).
GOLDEN_COLUMNS = (
    "question_id",
    "question",
    "relevant_source_path",
    "relevant_record_key",
    "groups",
    "answer_phrase",
)

RECORDS_PER_SHARD = 1000
BEIR_GROUP = "public"


@dataclass
class BeirDataset:
    """The queries and judgments of one split of a BEIR dataset; the corpus stays on disk."""

    name: str
    split: str
    corpus_path: Path
    queries: dict[str, str]  # query id -> text, only queries with a relevant document, in file order
    qrels: dict[str, list[str]]  # query id -> relevant corpus ids (score > 0), in file order


def beir_splits(path: Path) -> list[str]:
    """The splits a BEIR folder has judgments for (`qrels/<split>.tsv`)."""
    return sorted(p.stem for p in (Path(path) / "qrels").glob("*.tsv"))


def resolve_split(path: Path, split: str | None) -> str:
    """`split`, else 'test' when the dataset has it, else its only split."""
    splits = beir_splits(path)
    if split:
        if split not in splits:
            raise FileNotFoundError(f"{path}/qrels/{split}.tsv not found (splits: {', '.join(splits) or 'none'})")
        return split
    if "test" in splits:
        return "test"
    if len(splits) == 1:
        return splits[0]
    raise FileNotFoundError(f"choose a split with --split ({', '.join(splits) or f'no {path}/qrels/*.tsv'})")


def _read_jsonl(path: Path) -> Iterator[dict]:
    """The JSON objects of a JSONL file, blank lines skipped; a bad line names its file and number."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path}:{number}: invalid JSON ({error.msg})") from error


def read_beir(path: str | Path, split: str | None = None, max_queries: int | None = None) -> BeirDataset:
    """Queries and binary relevance judgments of a BEIR-layout folder (the corpus is streamed later)."""
    root = Path(path)
    for needed in ("corpus.jsonl", "queries.jsonl"):
        if not (root / needed).is_file():
            raise FileNotFoundError(f"{root / needed} not found: not a BEIR-layout folder")
    split = resolve_split(root, split)
    qrels: dict[str, list[str]] = {}
    with open(root / "qrels" / f"{split}.tsv", encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if len(row) < 3 or row[0] == "query-id":
                continue
            query_id, corpus_id, score = row[0].strip(), row[1].strip(), row[2].strip()
            try:
                relevant = float(score) > 0
            except ValueError:
                continue
            if relevant and corpus_id not in qrels.setdefault(query_id, []):
                qrels[query_id].append(corpus_id)
    queries: dict[str, str] = {}
    for record in _read_jsonl(root / "queries.jsonl"):
        query_id = str(record.get("_id", "")).strip()
        text = " ".join(str(record.get("text") or "").split())
        if query_id in qrels and qrels[query_id] and text:
            queries[query_id] = text
            if max_queries is not None and len(queries) >= max_queries:
                break
    qrels = {q: qrels[q] for q in queries}
    return BeirDataset(root.resolve().name, split, root / "corpus.jsonl", queries, qrels)


def beir_record(record: dict) -> dict | None:
    """The landing record of one BEIR corpus entry: id, title, and text = title + blank line + text."""
    corpus_id = str(record.get("_id", "")).strip()
    title = " ".join(str(record.get("title") or "").split())
    body = str(record.get("text") or "").strip()
    text = "\n\n".join(part for part in (title, body) if part)
    if not corpus_id or not text:
        return None
    out = {"id": corpus_id, "text": text}
    if title:
        out["title"] = title
    return out


@dataclass
class LandingSummary:
    """What `write_beir_landing` wrote and what it left out."""

    documents: int
    skipped: int
    shards: int
    questions: int
    judgments: int
    unresolved_judgments: int


def write_beir_landing(
    dataset: BeirDataset,
    landing: str | Path,
    golden_csv: str | Path,
    *,
    records_per_shard: int = RECORDS_PER_SHARD,
    group: str = BEIR_GROUP,
) -> LandingSummary:
    """Write the corpus as JSONL shards under `landing/corpus/` and the queries with their
    judgments as a golden-questions CSV (GOLDEN_COLUMNS). Previous shards are removed."""
    landing = Path(landing)
    shard_dir = landing / "corpus"
    shard_dir.mkdir(parents=True, exist_ok=True)
    for old in shard_dir.glob("part-*.jsonl"):
        old.unlink()
    where: dict[str, str] = {}
    written = skipped = shards = 0
    handle: TextIO | None = None
    try:
        for record in _read_jsonl(dataset.corpus_path):
            row = beir_record(record)
            if row is None or row["id"] in where:
                skipped += 1
                continue
            if written % records_per_shard == 0:
                if handle:
                    handle.close()
                relative = f"corpus/part-{shards:05d}.jsonl"
                handle = open(landing / relative, "w", encoding="utf-8")
                shards += 1
            assert handle is not None  # opened on the first record (written == 0)
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            where[row["id"]] = relative
            written += 1
    finally:
        if handle:
            handle.close()
    judgments = unresolved = 0
    Path(golden_csv).parent.mkdir(parents=True, exist_ok=True)
    with open(golden_csv, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writerow(GOLDEN_COLUMNS)
        for query_id, text in dataset.queries.items():
            for corpus_id in dataset.qrels[query_id]:
                if corpus_id not in where:
                    unresolved += 1
                    continue
                writer.writerow([query_id, text, where[corpus_id], corpus_id, group, ""])
                judgments += 1
    questions = sum(1 for q in dataset.queries if any(c in where for c in dataset.qrels[q]))
    return LandingSummary(written, skipped, shards, questions, judgments, unresolved)
