"""`docvec compare BASE CANDIDATE`: paired statistics, verdicts, fingerprints, and real builds."""

from __future__ import annotations

import json
import math
from pathlib import Path

import duckdb
import numpy as np
import pytest

from docvec.cli import main
from docvec.evaluation import compare as cmp

from conftest import DbtProject, copy_project

# --------------------------------------------------------------------------------------------
# Statistics on known inputs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("better", "worse", "expected"),
    [
        (0, 0, 1.0),  # every pair tied: no evidence either way
        (0, 3, 2 * 1 / 8),  # P(X <= 0) for Binomial(3, 1/2), two-sided
        (3, 0, 2 * 1 / 8),
        (1, 9, 2 * (1 + 10) / 1024),
        (2, 8, 2 * (1 + 10 + 45) / 1024),
        (0, 10, 2 / 1024),
        (5, 5, 1.0),  # the doubled tail passes 1: capped
        (6, 4, 2 * (1 + 10 + 45 + 120 + 210) / 1024),
    ],
)
def test_sign_test_matches_hand_computed_binomials(better: int, worse: int, expected: float) -> None:
    assert cmp.sign_test_p(better, worse) == pytest.approx(expected)


def test_sign_test_by_formula_for_twenty_pairs() -> None:
    tail = sum(math.comb(20, i) for i in range(4))  # 3 of 20 went the other way
    assert cmp.sign_test_p(17, 3) == pytest.approx(2 * tail / 2**20)
    assert cmp.sign_test_p(17, 3) == pytest.approx(0.002577, abs=1e-6)


def test_bootstrap_ci_contains_the_true_mean_and_is_seeded() -> None:
    deltas = np.random.default_rng(7).normal(0.2, 0.1, size=60).tolist()
    low, high = cmp.bootstrap_ci(deltas, resamples=2000, seed=0)
    assert low < 0.2 < high
    assert low < float(np.mean(deltas)) < high
    assert 0.02 < high - low < 0.1  # about 2 * 1.96 * 0.1 / sqrt(60) = 0.05
    assert cmp.bootstrap_ci(deltas, resamples=2000, seed=0) == (low, high)  # same seed, same interval
    assert cmp.bootstrap_ci(deltas, resamples=2000, seed=1) != (low, high)


def test_bootstrap_ci_of_constant_and_empty_deltas() -> None:
    assert cmp.bootstrap_ci([0.25] * 8) == (pytest.approx(0.25), pytest.approx(0.25))
    assert cmp.bootstrap_ci([]) == (0.0, 0.0)


def test_identical_inputs_have_zero_deltas_and_no_significant_change() -> None:
    values = {"q1": 1.0, "q2": 0.5, "q3": 0.0, "q4": 0.63}
    stats = cmp.paired_stats(values, dict(values))
    assert (stats.n, stats.mean_delta, stats.ci_low, stats.ci_high) == (4, 0.0, 0.0, 0.0)
    assert (stats.n_better, stats.n_worse, stats.n_tied, stats.sign_test_p) == (0, 0, 4, 1.0)
    assert stats.better == stats.worse == []
    assert cmp.verdict(stats) == cmp.NO_CHANGE


def test_paired_stats_lists_better_and_worse_questions_with_their_deltas() -> None:
    base = {"q1": 1.0, "q2": 1.0, "q3": 0.5, "q4": 0.25, "q5": 1.0}
    candidate = {"q1": 0.5, "q2": 1.0, "q3": 1.0, "q4": 0.0, "q5": 1.0}
    stats = cmp.paired_stats(base, candidate)
    assert stats.better == [("q3", 0.5)]
    assert stats.worse == [("q1", -0.5), ("q4", -0.25)]  # largest loss first
    assert (stats.n_better, stats.n_worse, stats.n_tied) == (1, 2, 2)
    assert stats.mean_delta == pytest.approx(-0.25 / 5)
    assert stats.base_mean == pytest.approx(3.75 / 5)
    assert stats.candidate_mean == pytest.approx(3.5 / 5)
    assert stats.sign_test_p == pytest.approx(cmp.sign_test_p(1, 2))
    assert stats.ci_low <= stats.mean_delta <= stats.ci_high


def test_a_question_only_one_side_scored_counts_zero_on_the_other() -> None:
    stats = cmp.paired_stats({"q1": 1.0, "q2": 1.0}, {"q2": 1.0})
    assert stats.n == 2
    assert stats.worse == [("q1", -1.0)]
    assert stats.unscored_in_candidate == ["q1"]
    assert stats.unscored_in_base == []


def _stats(low: float, high: float) -> cmp.PairedStats:
    return cmp.PairedStats(10, 0.8, 0.8, (low + high) / 2, low, high, 0, 0, 10, 1.0, [], [], [], [])


@pytest.mark.parametrize(
    ("low", "high", "tolerance", "expected"),
    [
        (-0.30, -0.05, 0.01, cmp.REGRESSION),
        (-0.30, -0.005, 0.01, cmp.NO_CHANGE),  # below zero, but not beyond the tolerance
        (-0.30, -0.005, 0.0, cmp.REGRESSION),
        (-0.10, 0.10, 0.01, cmp.NO_CHANGE),
        (0.02, 0.20, 0.01, cmp.IMPROVEMENT),
        (0.005, 0.20, 0.01, cmp.NO_CHANGE),
    ],
)
def test_verdict_needs_the_whole_interval_beyond_the_tolerance(
    low: float, high: float, tolerance: float, expected: str
) -> None:
    assert cmp.verdict(_stats(low, high), tolerance) == expected


def test_verdict_without_pairs_and_the_overall_verdict() -> None:
    assert cmp.verdict(None) == cmp.NOT_EVALUATED
    assert cmp.overall_verdict([cmp.NO_CHANGE, cmp.IMPROVEMENT, cmp.REGRESSION]) == cmp.REGRESSION
    assert cmp.overall_verdict([cmp.NOT_EVALUATED, cmp.IMPROVEMENT]) == cmp.IMPROVEMENT
    assert cmp.overall_verdict([cmp.NOT_EVALUATED]) == cmp.NOT_EVALUATED


def test_fingerprint_ignores_row_order_and_names_what_differs() -> None:
    rows = [("a.md", "h1"), ("b.md", "h2"), ("c.md", "h3")]
    assert cmp.fingerprint(rows).digest == cmp.fingerprint(list(reversed(rows))).digest
    other = cmp.fingerprint([("a.md", "h1"), ("b.md", "CHANGED"), ("d.md", "h4")])
    assert other.digest != cmp.fingerprint(rows).digest
    assert cmp.describe_difference(cmp.fingerprint(rows), other) == (
        "1 only in BASE (c.md); 1 only in CANDIDATE (d.md); 1 changed (b.md)"
    )


# --------------------------------------------------------------------------------------------
# Command line without a build
# --------------------------------------------------------------------------------------------


def test_missing_or_foreign_warehouse_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(tmp_path / "none.duckdb"), str(tmp_path / "none.duckdb")]) == 2
    assert "no warehouse at" in capsys.readouterr().err
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    assert main(["compare", str(empty), str(empty)]) == 2
    assert "is not a complete docvec build" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# Real builds
# --------------------------------------------------------------------------------------------

# A deliberately worse pipeline version: serves 16-word-piece chunks (on its own not a
# significant drop on the sample's 12 questions: 3 of them fall one rank) and its access rules
# hide records/, notes/ and manuals/ from public askers, so the questions about them find nothing.
TINY_STRATEGY = 'tiny_16,recursive,16,0,0,"16 word pieces, no overlap: a deliberately worse strategy"\n'
HIDDEN_FOLDERS = ("records", "notes", "manuals")


def _worse_project(root: Path) -> Path:
    project = copy_project(root)
    strategies = project / "seeds" / "chunking_strategies.csv"
    strategies.write_text(strategies.read_text(encoding="utf-8") + TINY_STRATEGY, encoding="utf-8")
    rules = project / "seeds" / "access_rules.csv"
    text = rules.read_text(encoding="utf-8")
    for folder in HIDDEN_FOLDERS:
        assert f"50,{folder}/*,public," in text
        text = text.replace(f"50,{folder}/*,public,", f"50,{folder}/*,staff,")
    rules.write_text(text, encoding="utf-8")
    return project


def _compare_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["compare", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


_RELEVANT_PATHS = "select question_id, relevant_source_path from eval_golden_questions"


def _row(report: dict, strategy: str, mode: str, metric: str) -> dict:
    (row,) = [
        c
        for c in report["comparisons"]
        if (c["base"]["strategy_id"], c["base"]["mode"], c["metric"]) == (strategy, mode, metric)
    ]
    return row


def test_compare_real_builds(sample_build: DbtProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = sample_build.copy_build(tmp_path / "base")
    same = sample_build.copy_build(tmp_path / "same")

    # the same pipeline twice: nothing changed, exit 0, markdown by default
    assert main(["compare", str(base.db_path), str(same.db_path)]) == 0
    markdown = capsys.readouterr().out
    assert "## Verdict: no significant change" in markdown
    assert "| sample | recursive_256 |" in markdown
    out = tmp_path / "same.json"
    code, report = _compare_json(capsys, str(base.db_path), str(same.db_path), "--out", str(out))
    assert code == 0 and json.loads(out.read_text(encoding="utf-8")) == report
    assert report["verdict"] == cmp.NO_CHANGE
    assert report["corpus"]["files"] > 0 and report["golden_questions"]["questions"] == 12
    assert {(c["base"]["strategy_id"], c["base"]["mode"]) for c in report["comparisons"]} >= {
        ("recursive_256", "hybrid"),
        ("markdown_sections", "keyword"),
    }
    assert all(c["mean_delta"] == 0 and c["worse"] == [] and c["better"] == [] for c in report["comparisons"])

    # a worse version, really built: a copy of the project with the seeds above, served tiny_16
    worse = DbtProject(tmp_path / "worse", sample_build.source_path, project_dir=_worse_project(tmp_path / "project"))
    worse.workdir.mkdir()
    worse.db_path.write_bytes(sample_build.db_path.read_bytes())  # reuse its embeddings
    # without the guard that would stop it first (relevant documents unreadable by their askers)
    # nor the absolute quality gates: what `compare` must catch on its own
    worse.dbt(
        "build",
        "--vars",
        json.dumps({"serving_strategy": "tiny_16"}),
        "--exclude",
        "evaluation_relevant_documents_readable",
        "tag:evaluation_threshold",
    )
    code, report = _compare_json(capsys, str(base.db_path), str(worse.db_path))
    assert code == 1 and report["verdict"] == cmp.REGRESSION
    (serving,) = report["serving"]
    assert serving["base"]["strategy_id"] == "recursive_256" and serving["candidate"]["strategy_id"] == "tiny_16"
    stats = serving["comparison"]
    assert stats["ci_high"] < -0.01 and stats["ci_low"] <= stats["mean_delta"] < 0
    assert stats["sign_test_p"] == pytest.approx(cmp.sign_test_p(stats["n_better"], stats["n_worse"]))
    hidden = {q for q, path in sample_build.query(_RELEVANT_PATHS) if path.split("/")[0] in HIDDEN_FOLDERS}
    assert len(hidden) >= 4
    assert hidden <= {w["question_id"] for w in stats["worse"]}
    assert all(w["delta"] < 0 for w in stats["worse"])
    # the same strategy in both warehouses is compared too (the access rules alone)
    same_strategy = _row(report, "recursive_256", "hybrid", "ndcg@10")
    assert {w["question_id"] for w in same_strategy["worse"]} == hidden
    assert main(["compare", str(base.db_path), str(worse.db_path)]) == 1
    assert "## Verdict: regression" in capsys.readouterr().out
    # reversed, the same evidence is an improvement
    code, report = _compare_json(capsys, str(worse.db_path), str(base.db_path))
    assert code == 0 and report["verdict"] == cmp.IMPROVEMENT


def test_compare_refuses_another_corpus_or_other_questions(
    sample_build: DbtProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = sample_build.copy_build(tmp_path / "base")
    fewer = sample_build.copy_build(tmp_path / "fewer")
    with duckdb.connect(str(fewer.db_path)) as conn:
        assert conn.execute("delete from documents where source_path = 'web/visit.html'").fetchone() == (1,)
    assert main(["compare", str(base.db_path), str(fewer.db_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "cannot compare: the corpora differ" in captured.err
    assert "1 only in BASE (web/visit.html)" in captured.err

    reworded = sample_build.copy_build(tmp_path / "reworded")
    with duckdb.connect(str(reworded.db_path)) as conn:
        conn.execute("update eval_golden_questions set question = question || ' exactly?' where question_id = 'q01'")
    assert main(["compare", str(base.db_path), str(reworded.db_path)]) == 2
    err = capsys.readouterr().err
    assert "the golden questions differ" in err and "1 changed (sample/q01)" in err
    assert "corpora" not in err

    assert main(["compare", str(base.db_path), str(base.db_path), "--metric", "ndcg@3"]) == 2
    assert "--metric ndcg@3: expected one of mrr@10, ndcg@10, recall@1" in capsys.readouterr().err
