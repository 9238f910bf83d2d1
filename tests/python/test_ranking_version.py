"""Golden rankings of a tiny fixed corpus, keyed by python_udfs.ranking.RANKING_VERSION.

`retrieval_runs` reuses its stored rankings while its inputs and RANKING_VERSION are unchanged,
so a change to what the shared ranking code returns must bump RANKING_VERSION. This test ranks a
fixed corpus (in-memory DuckDB, fts extension, 4-d vectors) in every mode through the code the
model runs (python_udfs.evaluation.StrategyCorpus over python_udfs.ranking) and compares a
sha256 of the rankings with the digest stored for the current RANKING_VERSION.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import duckdb
import pytest

from python_udfs.evaluation import Question, RankingSettings, StrategyCorpus, corpus_table_name
from python_udfs.plugin import load_extensions
from python_udfs.ranking import MODES, RANKING_VERSION

# sha256 of `golden_rankings()` per RANKING_VERSION; add a line when you bump the version.
GOLDEN_DIGESTS = {
    "1": "306523d9d6de2fb8a830da6e29d31395f7331674ac474e33cda8aae63fe485bc",
}

# chunk_id, document_id, access_groups, chunk_text, title, section, embedding (4-d)
CHUNKS = [
    ("c1", "trout", ["public"], "Trout need cold, well oxygenated water all year.", "Trout care", "Water",
     [0.9, 0.1, 0.0, 0.1]),
    ("c2", "trout", ["public"], "Feed the trout twice a day; remove uneaten pellets.", "Trout care", "Feeding",
     [0.8, 0.3, 0.1, 0.0]),
    ("c3", "basil", ["public"], "Basil grows in warm rafts above the fish tanks.", "Basil", None,
     [0.1, 0.9, 0.2, 0.0]),
    ("c4", "pay", ["hr"], "Trout farm salary bands and the retention bonus pool.", "Pay", "Bands",
     [0.9, 0.0, 0.0, 0.3]),
    ("c5", "perch", ["public", "staff"], "Perch live in the outdoor ponds; check the water daily.", "Perch", None,
     [0.3, 0.1, 0.9, 0.1]),
    ("c6", "perch", ["staff"], "Staff only: perch spawning schedule and pond water temperature.", "Perch", "Spawning",
     [0.4, 0.0, 0.8, 0.3]),
    ("c7", "pumps", ["public"], "The water pumps run on a timer; clean the filters weekly.", "Pumps", None,
     [0.2, 0.2, 0.3, 0.9]),
    ("c8", "pumps", ["public"], "A failed pump warms the tanks: trout and perch suffer first.", "Pumps", "Failures",
     [0.6, 0.1, 0.4, 0.7]),
]  # fmt: skip

QUESTIONS = [
    Question("q_water", "cold water for trout", ("public",), (1.0, 0.1, 0.1, 0.1)),
    Question("q_perch", "perch pond water", ("public", "staff"), (0.3, 0.0, 1.0, 0.2)),
    Question("q_pay", "trout salary bonus", ("hr", "public"), (0.8, 0.0, 0.1, 0.4)),
    Question("q_pump", "pump failure warms tanks", ("public",), (0.3, 0.1, 0.2, 1.0)),
]

# The model's defaults (full depth, the default fusion constant and weights), and a shallow,
# unequally weighted fusion that exercises the document cut and the weights.
SETTINGS = {
    "defaults": RankingSettings(),
    "shallow": RankingSettings(depth=2, candidates=3, vector_weight=1.0, keyword_weight=2.0, rrf_k=5),
}

SELECT_CHUNKS = (
    "select chunk_id, document_id, access_groups::varchar[] as access_groups, chunk_text, title, "
    "section::varchar as section, embedding::float[4] as embedding from golden_chunks"
)


@pytest.fixture()
def corpus() -> Iterator[StrategyCorpus]:
    conn = duckdb.connect()
    load_extensions(conn, ("fts",))
    conn.execute(
        "create table golden_chunks (chunk_id varchar, document_id varchar, access_groups varchar[], "
        "chunk_text varchar, title varchar, section varchar, embedding float[4])"
    )
    conn.executemany("insert into golden_chunks values (?, ?, ?, ?, ?, ?, ?)", CHUNKS)
    with StrategyCorpus(conn, SELECT_CHUNKS, name=corpus_table_name("golden")) as strategy:
        yield strategy
    conn.close()


def golden_rankings(corpus: StrategyCorpus, settings: dict[str, RankingSettings]) -> list[list]:
    """Every question x settings x mode: [question, settings, mode, chunk ids, scores to 6 decimals]."""
    rows: list[list] = []
    for question in QUESTIONS:
        for label, setting in settings.items():
            for mode, ranking in corpus.rank(question, MODES, setting).items():
                rows.append(
                    [
                        question.question_id,
                        label,
                        mode,
                        [hit.chunk_id for hit in ranking],
                        [round(hit.score, 6) for hit in ranking],
                    ]
                )
    return rows


def digest(rows: list[list]) -> str:
    """sha256 of the rankings in a stable JSON form."""
    return hashlib.sha256(json.dumps(rows, separators=(",", ":")).encode("utf-8")).hexdigest()


def test_ranking_output_matches_its_version(corpus: StrategyCorpus) -> None:
    found = digest(golden_rankings(corpus, SETTINGS))
    stored = GOLDEN_DIGESTS.get(RANKING_VERSION)
    assert stored is not None, (
        f"no golden digest for RANKING_VERSION {RANKING_VERSION!r}: add "
        f'"{RANKING_VERSION}": "{found}" to GOLDEN_DIGESTS in tests/python/test_ranking_version.py'
    )
    assert found == stored, (
        "ranking output changed: bump RANKING_VERSION in python_udfs/ranking.py "
        f'(then add "<new version>": "{found}" to GOLDEN_DIGESTS in tests/python/test_ranking_version.py)'
    )


def test_the_golden_corpus_exercises_every_mode_and_the_access_groups(corpus: StrategyCorpus) -> None:
    rows = golden_rankings(corpus, SETTINGS)
    assert {(row[1], row[2]) for row in rows} == {(label, mode) for label in SETTINGS for mode in MODES}
    assert all(row[3] for row in rows)  # every question has hits in every mode
    public_only = [row for row in rows if row[0] in ("q_water", "q_pump")]
    assert not any({"c4", "c6"} & set(row[3]) for row in public_only)  # hr and staff chunks stay out
    pay = {row[2]: row[3] for row in rows if row[0] == "q_pay" and row[1] == "defaults"}
    assert pay["keyword"][0] == "c4" and pay["vector"] != pay["keyword"]
    shallow = [row for row in rows if row[1] == "shallow"]
    document_of = {chunk[0]: chunk[1] for chunk in CHUNKS}
    assert all(len({document_of[c] for c in row[3]}) <= 2 for row in shallow)  # depth=2: two documents
    assert any(len(row[3]) < len(full[3]) for row, full in zip(shallow, (r for r in rows if r[1] == "defaults")))


def test_the_digest_sees_a_change_of_the_fusion_constant(corpus: StrategyCorpus) -> None:
    changed = {label: RankingSettings(**{**vars(s), "rrf_k": s.rrf_k + 1}) for label, s in SETTINGS.items()}
    assert digest(golden_rankings(corpus, changed)) != digest(golden_rankings(corpus, SETTINGS))
