"""Retrieval evaluation: metric math, ranking per strategy, golden questions, BEIR end to end."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from docvec import evaluation as docvec_eval
from python_udfs import evaluation as ev
from python_udfs.plugin import load_extensions

from conftest import PROJECT_ROOT, SAMPLE_DOCS, SERVING_MODEL_ID

MODES = ("vector", "keyword", "hybrid")
METRIC_KEYS = {(m, k) for m, k in ev.METRICS}


# --------------------------------------------------------------------------------------------
# Metric math, hand-computed
# --------------------------------------------------------------------------------------------


def test_document_ranks_at_its_best_chunk():
    assert ev.document_ranking(["a", "b", "a", "c", "b", "d"]) == ["a", "b", "c", "d"]
    assert ev.document_ranking([]) == []


def test_recall_mrr_ndcg_by_hand():
    chunks = ["A", "B", "A", "C", "D"]  # documents A, B, C, D at ranks 1..4
    relevant = {"C", "E"}  # E was never retrieved
    ranking = ev.document_ranking(chunks)
    assert ev.recall_at_k(ranking, relevant, 1) == 0.0
    assert ev.recall_at_k(ranking, relevant, 3) == 0.5
    assert ev.recall_at_k(ranking, relevant, 100) == 0.5
    assert ev.reciprocal_rank_at_k(ranking, relevant, 10) == pytest.approx(1 / 3)
    assert ev.reciprocal_rank_at_k(ranking, relevant, 2) == 0.0
    # DCG = 1/log2(3+1) = 0.5; ideal DCG with 2 relevant = 1 + 1/log2(3)
    assert ev.ndcg_at_k(ranking, relevant, 10) == pytest.approx(0.5 / (1 + 1 / math.log2(3)))
    assert ev.ndcg_at_k(ranking, relevant, 10) == pytest.approx(0.306574, abs=1e-6)


def test_perfect_and_empty_rankings():
    assert ev.query_metrics(["x", "x", "y"], {"x"}) == dict.fromkeys(ev.METRICS, 1.0)
    assert ev.query_metrics([], {"x"}) == dict.fromkeys(ev.METRICS, 0.0)
    # two relevant documents at ranks 1 and 3: nDCG = (1 + 1/2) / (1 + 1/log2(3))
    assert ev.ndcg_at_k(["r1", "n", "r2"], {"r1", "r2"}, 10) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    # ideal DCG is cut at k: 3 relevant, k = 1
    assert ev.ndcg_at_k(["r1"], {"r1", "r2", "r3"}, 1) == 1.0


def test_best_chunk_rule_in_metrics():
    # the relevant document's second chunk at rank 2 does not push it down: it ranks 2nd as a document
    metrics = ev.query_metrics(["n1", "n1", "rel", "rel", "n2"], {"rel"})
    assert metrics[("recall", 1)] == 0.0
    assert metrics[("recall", 5)] == 1.0
    assert metrics[("mrr", 10)] == 0.5
    assert metrics[("ndcg", 10)] == pytest.approx(1 / math.log2(3))


def test_metrics_need_a_relevant_document():
    with pytest.raises(ValueError):
        ev.recall_at_k(["a"], set(), 5)
    with pytest.raises(ValueError):
        ev.ndcg_at_k(["a"], {"a"}, 0)


# --------------------------------------------------------------------------------------------
# Ranking one strategy like docvec.search
# --------------------------------------------------------------------------------------------


@pytest.fixture()
def toy_corpus():
    conn = duckdb.connect()
    load_extensions(conn, ("fts",))
    conn.execute(
        """
        create table toy as select * from (values
            ('c1', 'd1', ['public'], 'trout need cold water', 'Trout', null, [1.0, 0.0, 0.0]),
            ('c2', 'd1', ['public'], 'trout are fed twice a day', 'Trout', null, [0.9, 0.1, 0.0]),
            ('c3', 'd2', ['public'], 'basil grows in warm rafts', 'Basil', null, [0.0, 1.0, 0.0]),
            ('c4', 'd3', ['hr'], 'secret trout salary table', 'Pay', null, [1.0, 0.0, 0.0]),
            ('c5', 'd4', ['public', 'staff'], 'perch live in ponds', 'Perch', null, [0.0, 0.0, 1.0])
        ) as t(chunk_id, document_id, access_groups, chunk_text, title, section, embedding)
        """
    )
    corpus = ev.StrategyCorpus(
        conn,
        "select chunk_id, document_id, access_groups::varchar[] as access_groups, chunk_text, title, "
        "section::varchar as section, embedding::float[3] as embedding from toy where chunk_id like ?",
        ["c%"],
        name=ev.corpus_table_name("toy strategy"),
    )
    yield conn, corpus
    corpus.close()
    schemas = {r[0] for r in conn.execute("select schema_name from information_schema.schemata").fetchall()}
    assert not any(s.startswith("fts_main_docvec_eval") for s in schemas)
    conn.close()


def test_rankings_apply_groups_before_ranking(toy_corpus):
    _, corpus = toy_corpus
    public = ev.Question("q", "trout", ("public",), (1.0, 0.0, 0.0))
    ranked = corpus.rank(public, MODES, ev.RankingSettings())
    assert [h.chunk_id for h in ranked["vector"]][:2] == ["c1", "c2"]
    # only d1 matches "trout" for a public asker; the ranking ends at its best chunk
    assert [h.document_id for h in ranked["keyword"]] == ["d1"]
    for hits in ranked.values():
        assert "c4" not in {h.chunk_id for h in hits}  # hr only
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    hr = ev.Question("q", "trout salary", ("hr",), (1.0, 0.0, 0.0))
    ranked = corpus.rank(hr, MODES, ev.RankingSettings())
    assert {h.chunk_id for h in ranked["vector"]} == {"c4"}
    assert [h.chunk_id for h in ranked["hybrid"]] == ["c4"]


def test_hybrid_is_reciprocal_rank_fusion(toy_corpus):
    _, corpus = toy_corpus
    q = ev.Question("q", "perch", ("public",), (1.0, 0.0, 0.0))
    settings = ev.RankingSettings(vector_weight=1.0, keyword_weight=2.0, rrf_k=10)
    ranked = corpus.rank(q, MODES, settings)
    vector = [h.chunk_id for h in ranked["vector"]]
    keyword = [h.chunk_id for h in ranked["keyword"]]
    assert keyword == ["c5"]
    expected = {}
    for weight, ranking in ((1.0, vector), (2.0, keyword)):
        for rank, chunk_id in enumerate(ranking, start=1):
            expected[chunk_id] = expected.get(chunk_id, 0.0) + weight / (10 + rank)
    hybrid = ranked["hybrid"]
    assert [h.chunk_id for h in hybrid] == sorted(expected, key=lambda c: (-expected[c], c))
    assert hybrid[0].chunk_id == "c5" and hybrid[0].score == pytest.approx(expected["c5"])


def test_depth_cuts_at_the_last_document(toy_corpus):
    _, corpus = toy_corpus
    q = ev.Question("q", "trout", ("public", "staff"), (1.0, 0.0, 0.0))
    ranked = corpus.rank(q, ("vector",), ev.RankingSettings(depth=1))
    assert [h.chunk_id for h in ranked["vector"]] == ["c1"]
    ranked = corpus.rank(q, ("vector",), ev.RankingSettings(depth=2))
    assert [h.document_id for h in ranked["vector"]][-1] != "d1"  # ends at the 2nd document's best chunk
    assert len({h.document_id for h in ranked["vector"]}) == 2


def test_settings_are_checked():
    with pytest.raises(ValueError):
        ev.RankingSettings(rrf_k=-1)
    with pytest.raises(ValueError):
        ev.RankingSettings(candidates=0)


# --------------------------------------------------------------------------------------------
# BEIR import
# --------------------------------------------------------------------------------------------

TOPICS = [
    ("Volcano", "magma", "erupts"),
    ("Lighthouse", "lantern", "guides ships"),
    ("Glacier", "ice", "carves valleys"),
    ("Beehive", "honeycomb", "stores nectar"),
    ("Windmill", "sails", "grinds grain"),
    ("Coral reef", "polyps", "shelters fish"),
    ("Comet", "nucleus", "grows a tail"),
    ("Cactus", "spines", "stores water"),
    ("Submarine", "ballast", "dives deep"),
    ("Violin", "bow", "sings melodies"),
    ("Bakery", "sourdough", "proofs overnight"),
    ("Telescope", "mirror", "gathers starlight"),
    ("Octopus", "tentacles", "changes colour"),
    ("Desert", "dunes", "shifts with wind"),
    ("Railway", "sleepers", "carries freight"),
    ("Orchard", "apple trees", "blossoms in spring"),
    ("Compass", "needle", "points north"),
    ("Tornado", "vortex", "lifts roofs"),
    ("Library", "catalogue", "lends books"),
    ("Penguin", "feathers", "huddles in winter"),
    ("Satellite", "solar panels", "orbits earth"),
    ("Mushroom", "mycelium", "decomposes wood"),
    ("Canal", "locks", "lifts boats"),
    ("Thunderstorm", "lightning", "charges clouds"),
    ("Vineyard", "grapes", "ripens in autumn"),
    ("Waterfall", "plunge pool", "erodes rock"),
    ("Bicycle", "derailleur", "shifts gears"),
    ("Tea garden", "leaves", "is picked by hand"),
]


def write_tiny_beir(root: Path) -> Path:
    """30 documents (one an exact duplicate), 5 scored queries (one with two relevant documents)."""
    root.mkdir(parents=True)
    with open(root / "corpus.jsonl", "w", encoding="utf-8") as out:
        for i, (title, part, verb) in enumerate(TOPICS):
            text = (
                f"The {title.lower()} has a {part} that {verb}. "
                f"Visitors often ask how the {part} of the {title.lower()} works."
            )
            out.write(json.dumps({"_id": f"doc{i}", "title": title, "text": text, "metadata": {}}) + "\n")
        untitled = {"_id": "untitled", "title": "", "text": "A note without a title about kites and string."}
        out.write(json.dumps(untitled) + "\n")
        # an exact copy of doc18: it becomes a duplicate, and a judgment on it counts for doc18
        title, part, verb = TOPICS[18]
        text = (
            f"The {title.lower()} has a {part} that {verb}. "
            f"Visitors often ask how the {part} of the {title.lower()} works."
        )
        out.write(json.dumps({"_id": "doc18copy", "title": title, "text": text}) + "\n")
        out.write(json.dumps({"_id": "blank", "title": "", "text": "   "}) + "\n")  # skipped: no text
    queries = {
        "q1": "How does the magma of a volcano work?",
        "q2": "Which thing points north with a needle?",
        "q3": "What stores water or nectar?",
        "q4": "kites and string",
        "q5": "Who lends books from a catalogue?",
        "q6": "an unjudged question",
    }
    with open(root / "queries.jsonl", "w", encoding="utf-8") as out:
        for qid, text in queries.items():
            out.write(json.dumps({"_id": qid, "text": text}) + "\n")
    (root / "qrels").mkdir()
    rows = [
        ("q1", "doc0", 1),
        ("q2", "doc16", 1),
        ("q3", "doc7", 1),
        ("q3", "doc3", 2),
        ("q3", "doc9", 0),
        ("q4", "untitled", 1),
        ("q5", "doc18", 1),
        ("q5", "doc18copy", 1),
    ]
    with open(root / "qrels" / "test.tsv", "w", encoding="utf-8") as out:
        out.write("query-id\tcorpus-id\tscore\n")
        for row in rows:
            out.write("\t".join(map(str, row)) + "\n")
    return root


def test_read_and_write_beir(tmp_path):
    root = write_tiny_beir(tmp_path / "tiny")
    dataset = docvec_eval.read_beir(root)
    assert dataset.name == "tiny" and dataset.split == "test"
    assert list(dataset.queries) == ["q1", "q2", "q3", "q4", "q5"]  # q6 has no judgment
    assert dataset.qrels["q3"] == ["doc7", "doc3"]  # score 0 is not relevant
    assert list(docvec_eval.read_beir(root, max_queries=2).queries) == ["q1", "q2"]
    with pytest.raises(FileNotFoundError):
        docvec_eval.read_beir(root, split="train")

    summary = docvec_eval.write_beir_landing(
        dataset, tmp_path / "landing", tmp_path / "golden.csv", records_per_shard=10
    )
    assert (summary.documents, summary.skipped, summary.shards) == (30, 1, 3)
    assert (summary.questions, summary.judgments, summary.unresolved_judgments) == (5, 7, 0)
    first = json.loads((tmp_path / "landing/corpus/part-00000.jsonl").read_text().splitlines()[0])
    assert first["id"] == "doc0" and first["title"] == "Volcano"
    assert first["text"].startswith("Volcano\n\nThe volcano has a magma that erupts.")
    with open(tmp_path / "golden.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == docvec_eval.GOLDEN_COLUMNS
    q3 = {(r["relevant_source_path"], r["relevant_record_key"]) for r in rows if r["question_id"] == "q3"}
    assert q3 == {("corpus/part-00000.jsonl", "doc7"), ("corpus/part-00000.jsonl", "doc3")}
    assert {r["groups"] for r in rows} == {"public"}


# --------------------------------------------------------------------------------------------
# The sample build: golden questions, every strategy x mode x metric, quality gates
# --------------------------------------------------------------------------------------------


def golden_rows() -> list[dict]:
    with open(PROJECT_ROOT / "seeds" / "golden_questions.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_seed_columns_and_paths():
    rows = golden_rows()
    assert len(rows) == 12
    assert tuple(rows[0]) == docvec_eval.GOLDEN_COLUMNS
    for row in rows:
        assert (SAMPLE_DOCS / row["relevant_source_path"]).is_file(), row
        assert row["answer_phrase"] and row["question"].endswith("?")


def test_seed_answers_exist_in_exactly_one_document(sample_build):
    with sample_build.connect() as conn:
        for row in golden_rows():
            found = conn.execute(
                "select source_path, coalesce(record_key, '') from documents where contains(text, ?)",
                [row["answer_phrase"]],
            ).fetchall()
            assert found == [(row["relevant_source_path"], row["relevant_record_key"])], row


def test_every_strategy_mode_and_metric(sample_build):
    with sample_build.connect() as conn:
        strategies = {r[0] for r in conn.execute("select strategy_id from chunking_strategies").fetchall()}
        rows = conn.execute(
            "select strategy_id, model_id, mode, metric, k, value, n_queries from retrieval_metrics "
            "where dataset = 'sample'"
        ).fetchall()
        assert conn.execute("select count(*) from eval_questions").fetchone()[0] == 12
    assert len(strategies) >= 2
    expected = {(s, m, metric, k) for s in strategies for m in MODES for metric, k in ev.METRICS}
    assert {(r[0], r[2], r[3], r[4]) for r in rows} == expected
    assert len(rows) == len(expected)
    assert {r[1] for r in rows} == {SERVING_MODEL_ID}
    assert all(0.0 <= r[5] <= 1.0 and r[6] == 12 for r in rows)


def test_sql_metrics_match_python(sample_build):
    with sample_build.connect() as conn:
        runs = conn.execute(
            "select question_id, strategy_id, mode, document_id from retrieval_runs "
            "order by question_id, strategy_id, mode, rank"
        ).fetchall()
        relevant = conn.execute("select question_id, document_id from eval_relevant_documents").fetchall()
        sql = {
            (q, s, m, metric, k): v
            for q, s, m, metric, k, v in conn.execute(
                "select question_id, strategy_id, mode, metric, k, value from retrieval_query_metrics"
            ).fetchall()
        }
    relevant_by_q: dict[str, set[str]] = {}
    for q, d in relevant:
        relevant_by_q.setdefault(q, set()).add(d)
    chunk_docs: dict[tuple, list[str]] = {}
    for q, s, m, d in runs:
        chunk_docs.setdefault((q, s, m), []).append(d)
    assert chunk_docs
    for (q, s, m), docs in chunk_docs.items():
        for (metric, k), value in ev.query_metrics(docs, relevant_by_q[q]).items():
            assert sql[(q, s, m, metric, k)] == pytest.approx(value), (q, s, m, metric, k)


def test_runs_respect_access_groups(sample_build):
    with sample_build.connect() as conn:
        leaks = conn.execute(
            """
            select r.question_id, c.source_path from retrieval_runs r
            join eval_questions q using (dataset, question_id)
            join chunks c using (chunk_id)
            where not list_has_any(c.access_groups, q.groups)
            """
        ).fetchall()
        hr_rows = conn.execute(
            "select count(*) from retrieval_runs r join chunks c using (chunk_id) "
            "where r.question_id = 'q01' and list_contains(c.access_groups, 'hr')"
        ).fetchone()[0]
    assert leaks == [] and hr_rows == 0


def test_serving_strategy_ranks_like_search(sample_build):
    """For the served strategy, retrieval_runs' top 10 is what `docvec search` returns."""
    from docvec import SearchFilters, search

    settings = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]
    conn = duckdb.connect(str(sample_build.db_path), read_only=True)
    load_extensions(conn, ("fts",))
    try:
        for question_id, question, groups in conn.execute(
            "select question_id, question, groups from eval_questions order by question_id"
        ).fetchall():
            for mode in MODES:
                ours = conn.execute(
                    "select chunk_id, document_id from retrieval_runs where question_id = ? and mode = ? "
                    "and strategy_id = ? and rank <= 10 order by rank",
                    [question_id, mode, settings["serving_strategy"]],
                ).fetchall()
                theirs = [
                    (hit.chunk_id, hit.document_id)
                    for hit in search(
                        conn,
                        question,
                        k=10,
                        mode=mode,
                        filters=SearchFilters(groups=tuple(groups)),
                        weights=(settings["hybrid_vector_weight"], settings["hybrid_keyword_weight"]),
                        rrf_k=settings["hybrid_rrf_k"],
                        candidates=settings["hybrid_candidates"],
                    )
                ]
                # a ranking stops at the best chunk of its last document: the same documents, same order
                assert ours == theirs[: len(ours)], (question_id, mode)
                assert ev.document_ranking(d for _, d in ours) == ev.document_ranking(d for _, d in theirs), (
                    question_id,
                    mode,
                )
    finally:
        conn.close()


def test_quality_gates_pass_on_the_sample(sample_build):
    settings = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]
    gates = {("recall", 5): settings["eval_min_recall_at_5"], ("ndcg", 10): settings["eval_min_ndcg_at_10"]}
    with sample_build.connect() as conn:
        for (metric, k), threshold in gates.items():
            value = conn.execute(
                "select value from retrieval_metrics where dataset = 'sample' and strategy_id = ? "
                "and model_id = ? and mode = 'hybrid' and metric = ? and k = ?",
                [settings["serving_strategy"], SERVING_MODEL_ID, metric, k],
            ).fetchone()[0]
            assert value >= threshold + 0.1, (metric, k, value, threshold)  # with margin
    lines = sample_build.build_result.stdout.splitlines()
    for test in (
        "evaluation_serving_recall_at_5",
        "evaluation_serving_ndcg_at_10",
        "evaluation_answer_phrases_found",
        "evaluation_relevant_documents_readable",
        "evaluation_golden_questions_resolve",
    ):
        assert any(" PASS " in line and f" {test} " in line for line in lines), test


def test_quality_gate_fails_below_threshold(sample_build, tmp_path):
    # `dbt test` stores its failures in the warehouse: work on a copy of the shared build, whose
    # serving nDCG@10 drops below the threshold (a threshold above 1 is a configuration error).
    copy = sample_build.copy_build(tmp_path / "gate")
    with duckdb.connect(str(copy.db_path)) as conn:
        conn.execute("update retrieval_metrics set value = 0.1 where mode = 'hybrid' and metric = 'ndcg' and k = 10")
    result = copy.dbt("test", "--select", "evaluation_serving_ndcg_at_10", check=False)
    assert result.returncode != 0
    assert "FAIL 1 evaluation_serving_ndcg_at_10" in result.stdout


# --------------------------------------------------------------------------------------------
# docvec eval --beir, end to end through dbt
# --------------------------------------------------------------------------------------------


@pytest.mark.integration  # `docvec eval --beir` runs a real dbt build in a subprocess
def test_docvec_eval_beir_end_to_end(tmp_path):
    root = write_tiny_beir(tmp_path / "tinybeir")
    db = tmp_path / "out" / "tiny.duckdb"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "docvec.cli",
            "eval",
            "--beir",
            str(root),
            "--format",
            "json",
            "--workdir",
            str(tmp_path / "work"),
            "--db",
            str(db),
            "--quiet",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    report = json.loads(result.stdout)
    assert report["dataset"] == "tinybeir" and report["split"] == "test"
    assert report["n_queries"] == 5 and report["documents"] == 29 and report["quarantined"] == 0
    assert Path(report["db"]) == db and db.is_file()
    metrics = report["metrics"]
    strategies = set(report["chunks"])
    assert {(m["strategy_id"], m["mode"], m["metric"], m["k"]) for m in metrics} == {
        (s, mode, metric, k) for s in strategies for mode in MODES for metric, k in ev.METRICS
    }
    assert all(0.0 <= m["value"] <= 1.0 for m in metrics)
    assert all(m["n_queries"] == 5 and m["dataset"] == "tinybeir" for m in metrics)
    assert all(n < 100 for n in report["chunks"].values())
    for m in metrics:
        if m["metric"] == "recall" and m["k"] == 100 and m["mode"] in ("vector", "hybrid"):
            assert m["value"] == 1.0, m  # fewer than 100 chunks: everything is ranked
    ndcg = [m["value"] for m in metrics if m["metric"] == "ndcg" and m["mode"] == "hybrid"]
    assert min(ndcg) > 0.5  # the tiny questions are easy
    with duckdb.connect(str(db), read_only=True) as conn:
        assert conn.execute("select distinct access_groups from documents").fetchall() == [(["public"],)]
        # the sample's quality gates are not applied to BEIR runs, and no sample question is scored
        assert conn.execute("select distinct dataset from eval_questions").fetchall() == [("tinybeir",)]
        # the judgment on the duplicate counts through its canonical document
        assert conn.execute("select record_key from document_duplicates").fetchall() == [("doc18copy",)]
        assert conn.execute(
            "select d.record_key from eval_relevant_documents r join documents d using (document_id) "
            "where r.question_id = 'q5'"
        ).fetchall() == [("doc18",)]

    table = docvec_eval.format_metrics_table(report)
    assert table.startswith("tinybeir (test): 5 queries, 29 documents")
    assert "ndcg@10" in table and "hybrid" in table


def test_docvec_eval_reports_a_bad_folder(tmp_path):
    from docvec.cli import main

    assert main(["eval", "--beir", str(tmp_path), "--workdir", str(tmp_path / "w")]) == 2
