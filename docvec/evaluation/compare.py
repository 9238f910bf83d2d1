"""`docvec compare BASE CANDIDATE`: is a pipeline version better or worse than another?

Both warehouses are built by this dbt project on the same corpus and golden questions; this
module reads their per-question metrics (`retrieval_query_metrics`, document level, so two
versions that chunk differently are comparable), pairs them question by question and tests the
mean delta with a seeded paired bootstrap (confidence interval) and an exact sign test.

* `fingerprint_corpus` / `fingerprint_questions`: what must be equal for the comparison to mean
  anything; `check_comparable` raises `NotComparable` naming what differs.
* `load_query_metrics`, `serving_configuration`: what a warehouse measured and what it serves.
* `paired_stats`, `sign_test_p`, `bootstrap_ci`, `verdict`: the statistics.
* `compare_warehouses`: all of it; `render_markdown` / `render_json`: the report.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb
import numpy as np

from python_udfs.ranking import DEFAULT_MODE
from python_udfs.warehouse_access import explain_known_error, explain_open_error, first_line

DEFAULT_METRIC = "ndcg@10"
DEFAULT_TOLERANCE = 0.01
DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 0
CONFIDENCE = 0.95
TIE = 1e-9  # |delta| at or under this is no change (float noise of equal rankings)
REGRESSION = "regression"
IMPROVEMENT = "improvement"
NO_CHANGE = "no significant change"
NOT_EVALUATED = "not evaluated"  # a warehouse measured nothing for its serving configuration
METRIC_ORDER = {"ndcg": 0, "recall": 1, "mrr": 2}
MODE_ORDER = {"vector": 0, "keyword": 1, "hybrid": 2}
SHOWN_DIFFERENCES = 5  # names listed per kind of difference in a refusal message

# Every file the build saw, with the hash of its raw bytes: live documents, exact duplicates and
# quarantined files (a file too large to read has no hash: its size stands in). Files, not
# records nor cleaned text, so a version that parses, cleans or splits differently compares.
CORPUS_SQL = """
select source_path, coalesce(content_sha256, 'size:' || size_bytes::varchar) as content
from (
    select source_path, content_sha256, size_bytes from documents
    union all
    select source_path, content_sha256, size_bytes from document_duplicates
    union all
    select source_path, content_sha256, size_bytes from quarantined_documents
)
group by all
order by source_path, content
"""

# The golden questions as given (seed or var golden_questions_path), each with its text, the
# asker's groups and its judged documents: source paths and record keys, labels of documents,
# not of chunks nor document ids, so two versions that chunk or number documents differently
# compare. A question one version cannot score (none of its documents survived its pipeline)
# counts 0 there: see `paired_stats`.
QUESTIONS_SQL = """
select
    dataset,
    question_id,
    min(question) as question,
    array_to_string(min(groups), ';') as groups,
    string_agg(distinct relevant_source_path || coalesce('#' || relevant_record_key, ''), '|'
        order by relevant_source_path || coalesce('#' || relevant_record_key, '')) as relevant
from eval_golden_questions
group by dataset, question_id
order by dataset, question_id
"""

METRICS_SQL = """
select dataset, strategy_id, model_id, mode, metric, k, question_id, value
from retrieval_query_metrics
order by all
"""

# The configuration the latest build served: var serving_strategy and the serving model id.
SERVING_SQL = "select serving_strategy, model_id from pipeline_runs order by started_at desc limit 1"


class CompareError(Exception):
    """A warehouse cannot be read as a docvec build (missing, locked, not built); one line."""


class NotComparable(CompareError):
    """The two warehouses were built on different corpora or golden questions."""


@dataclass(frozen=True, order=True)
class Configuration:
    """One row of the comparison grid: what was ranked and how."""

    dataset: str
    strategy_id: str
    model_id: str
    mode: str

    def label(self) -> str:
        return f"{self.strategy_id} · {self.model_id} · {self.mode}"


@dataclass(frozen=True)
class Fingerprint:
    """md5 over sorted rows, the row count, and the rows themselves (to name what differs)."""

    digest: str
    count: int
    rows: dict[str, str] = field(repr=False, compare=False)


@dataclass(frozen=True)
class PairedStats:
    """The candidate minus the base, paired by question."""

    n: int
    base_mean: float
    candidate_mean: float
    mean_delta: float
    ci_low: float
    ci_high: float
    n_better: int
    n_worse: int
    n_tied: int
    sign_test_p: float
    better: list[tuple[str, float]]  # (question_id, delta), largest gain first
    worse: list[tuple[str, float]]  # largest loss first
    unscored_in_base: list[str]  # questions only the candidate could score (0 in the base)
    unscored_in_candidate: list[str]  # questions only the base could score (0 in the candidate)


@dataclass(frozen=True)
class MetricComparison:
    base: Configuration
    candidate: Configuration
    metric: str  # e.g. ndcg@10
    stats: PairedStats


@dataclass(frozen=True)
class ServingVerdict:
    dataset: str
    base: Configuration | None
    candidate: Configuration | None
    metric: str
    tolerance: float
    verdict: str
    comparison: MetricComparison | None


@dataclass(frozen=True)
class Comparison:
    base_path: str
    candidate_path: str
    corpus: Fingerprint
    questions: Fingerprint
    verdict: str
    serving: list[ServingVerdict]
    comparisons: list[MetricComparison]
    settings: dict[str, Any]


# -- reading a warehouse ----------------------------------------------------------------------


@contextmanager
def open_read_only(path: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse at `path`, opened read-only (it may be read while nothing writes it)."""
    if not os.path.exists(path):
        raise CompareError(f"no warehouse at {path!r}: give the DuckDB file a `dbt build` wrote")
    try:
        conn = duckdb.connect(path, read_only=True)
    except duckdb.Error as error:
        raise CompareError(explain_open_error(path, error, retry="compare again")) from error
    try:
        yield conn
    finally:
        conn.close()


def _rows(conn: duckdb.DuckDBPyConnection, path: str, sql: str) -> list[tuple[Any, ...]]:
    """`sql`'s rows; a missing table means the warehouse was not (fully) built by docvec."""
    try:
        return conn.execute(sql).fetchall()
    except duckdb.CatalogException as error:
        missing = first_line(error)
        raise CompareError(f"{path!r} is not a complete docvec build ({missing}): run `dbt build` on it") from error
    except duckdb.Error as error:  # a column an older build lacks, damage found past the header
        known = explain_known_error(path, error, retry="compare again")
        raise CompareError(known or f"cannot read {path!r} as a docvec build: {first_line(error)}") from error


def fingerprint(rows: Sequence[tuple[str, str]]) -> Fingerprint:
    """md5 over (key, value) rows sorted by key, so the order of the query does not count."""
    keyed = dict(rows)
    digest = hashlib.md5(usedforsecurity=False)
    for key in sorted(keyed):
        digest.update(json.dumps([key, keyed[key]], ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return Fingerprint(digest.hexdigest(), len(keyed), keyed)


def fingerprint_corpus(conn: duckdb.DuckDBPyConnection, path: str) -> Fingerprint:
    """The files of the corpus (source path -> hash of the raw bytes)."""
    return fingerprint([(str(p), str(c)) for p, c in _rows(conn, path, CORPUS_SQL)])


def fingerprint_questions(conn: duckdb.DuckDBPyConnection, path: str) -> Fingerprint:
    """The golden questions (dataset/question_id -> text, groups, judged documents)."""
    rows = _rows(conn, path, QUESTIONS_SQL)
    return fingerprint([(f"{d}/{q}", json.dumps([text, groups, relevant])) for d, q, text, groups, relevant in rows])


MetricKey = tuple[Configuration, str]  # (configuration, metric@k)


def load_query_metrics(conn: duckdb.DuckDBPyConnection, path: str) -> dict[MetricKey, dict[str, float]]:
    """retrieval_query_metrics as {(configuration, metric@k): {question_id: value}}."""
    metrics: dict[MetricKey, dict[str, float]] = {}
    for dataset, strategy, model, mode, metric, k, question, value in _rows(conn, path, METRICS_SQL):
        key = (Configuration(dataset, strategy, model, mode), f"{metric}@{k}")
        metrics.setdefault(key, {})[question] = float(value)
    return metrics


def serving_configuration(conn: duckdb.DuckDBPyConnection, path: str) -> tuple[str, str]:
    """(serving strategy, serving model id) of the warehouse's latest build (pipeline_runs)."""
    rows = _rows(conn, path, SERVING_SQL)
    if not rows:
        raise CompareError(f"{path!r} has no row in pipeline_runs: run `dbt build` on it")
    strategy, model = rows[0]
    return str(strategy), str(model)


@dataclass(frozen=True)
class Warehouse:
    """What `compare` needs of one build."""

    path: str
    corpus: Fingerprint
    questions: Fingerprint
    metrics: dict[MetricKey, dict[str, float]]
    serving: tuple[str, str]


def read_warehouse(path: str) -> Warehouse:
    with open_read_only(path) as conn:
        return Warehouse(
            path=path,
            corpus=fingerprint_corpus(conn, path),
            questions=fingerprint_questions(conn, path),
            metrics=load_query_metrics(conn, path),
            serving=serving_configuration(conn, path),
        )


# -- comparability ------------------------------------------------------------------------------


def describe_difference(base: Fingerprint, candidate: Fingerprint) -> str:
    """Which keys are only in the base, only in the candidate, or differ (a few of each)."""

    def some(keys: Sequence[str]) -> str:
        shown = ", ".join(keys[:SHOWN_DIFFERENCES])
        return shown + (f" and {len(keys) - SHOWN_DIFFERENCES} more" if len(keys) > SHOWN_DIFFERENCES else "")

    only_base = sorted(base.rows.keys() - candidate.rows.keys())
    only_candidate = sorted(candidate.rows.keys() - base.rows.keys())
    changed = sorted(k for k in base.rows.keys() & candidate.rows.keys() if base.rows[k] != candidate.rows[k])
    parts = [
        f"{len(keys)} {what} ({some(keys)})"
        for what, keys in (("only in BASE", only_base), ("only in CANDIDATE", only_candidate), ("changed", changed))
        if keys
    ]
    return "; ".join(parts)


def check_comparable(base: Warehouse, candidate: Warehouse) -> None:
    """Raise NotComparable unless both were built on the same corpus and golden questions."""
    problems = []
    if base.corpus.digest != candidate.corpus.digest:
        problems.append(
            f"the corpora differ (files {base.corpus.digest[:12]} vs {candidate.corpus.digest[:12]}): "
            + describe_difference(base.corpus, candidate.corpus)
        )
    if base.questions.digest != candidate.questions.digest:
        problems.append(
            f"the golden questions differ ({base.questions.digest[:12]} vs {candidate.questions.digest[:12]}): "
            + describe_difference(base.questions, candidate.questions)
        )
    if problems:
        raise NotComparable("cannot compare: " + "; and ".join(problems))


# -- statistics -----------------------------------------------------------------------------------


def sign_test_p(n_better: int, n_worse: int) -> float:
    """Two-sided exact sign test (binomial, p = 1/2) on the untied pairs; 1.0 when all tie."""
    n = n_better + n_worse
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(n_better, n_worse) + 1))
    return min(1.0, 2 * tail / 2**n)


def bootstrap_ci(
    deltas: Sequence[float], *, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
) -> tuple[float, float]:
    """Percentile confidence interval (CONFIDENCE) of the mean of `deltas`, resampling the
    questions with replacement `resamples` times from a generator seeded with `seed`."""
    values = np.asarray(deltas, dtype=float)
    if values.size == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, values.size, size=(resamples, values.size))
    means = values[picks].mean(axis=1)
    alpha = (1 - CONFIDENCE) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return (float(low), float(high))


def paired_stats(
    base: dict[str, float],
    candidate: dict[str, float],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> PairedStats:
    """The candidate's values minus the base's, question by question. A question only one of
    them scored (the other lost all its relevant documents, e.g. quarantined) counts 0 in the
    other, as a question a search mode returns nothing for does."""
    questions = sorted(base.keys() | candidate.keys())
    deltas = [candidate.get(q, 0.0) - base.get(q, 0.0) for q in questions]
    better = sorted(((q, d) for q, d in zip(questions, deltas) if d > TIE), key=lambda item: (-item[1], item[0]))
    worse = sorted(((q, d) for q, d in zip(questions, deltas) if d < -TIE), key=lambda item: (item[1], item[0]))
    low, high = bootstrap_ci(deltas, resamples=resamples, seed=seed)
    n = len(questions)
    return PairedStats(
        n=n,
        base_mean=sum(base.values()) / n if n else 0.0,
        candidate_mean=sum(candidate.values()) / n if n else 0.0,
        mean_delta=sum(deltas) / n if n else 0.0,
        ci_low=low,
        ci_high=high,
        n_better=len(better),
        n_worse=len(worse),
        n_tied=n - len(better) - len(worse),
        sign_test_p=sign_test_p(len(better), len(worse)),
        better=better,
        worse=worse,
        unscored_in_base=sorted(candidate.keys() - base.keys()),
        unscored_in_candidate=sorted(base.keys() - candidate.keys()),
    )


def verdict(stats: PairedStats | None, tolerance: float = DEFAULT_TOLERANCE) -> str:
    """regression: the whole confidence interval lies below -tolerance; improvement: above
    +tolerance; else no significant change (not evaluated: nothing to pair)."""
    if stats is None or stats.n == 0:
        return NOT_EVALUATED
    if stats.ci_high < -tolerance:
        return REGRESSION
    if stats.ci_low > tolerance:
        return IMPROVEMENT
    return NO_CHANGE


def overall_verdict(verdicts: Sequence[str]) -> str:
    """The worst of the serving verdicts: any regression, else any improvement, else no change."""
    for candidate in (REGRESSION, IMPROVEMENT, NO_CHANGE):
        if candidate in verdicts:
            return candidate
    return NOT_EVALUATED


# -- the comparison -------------------------------------------------------------------------------


def _sort_key(key: MetricKey) -> tuple[Any, ...]:
    config, metric = key
    name, _, k = metric.partition("@")
    return (
        config.dataset,
        config.strategy_id,
        config.model_id,
        MODE_ORDER.get(config.mode, 9),
        METRIC_ORDER.get(name, 9),
        int(k) if k.isdigit() else 0,
    )


def compare_metrics(
    base: dict[MetricKey, dict[str, float]],
    candidate: dict[MetricKey, dict[str, float]],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> list[MetricComparison]:
    """Every (strategy, model, mode, metric) both warehouses measured, paired by question."""
    comparisons = []
    for config, metric in sorted(base.keys() & candidate.keys(), key=_sort_key):
        key = (config, metric)
        stats = paired_stats(base[key], candidate[key], resamples=resamples, seed=seed)
        comparisons.append(MetricComparison(config, config, metric, stats))
    return comparisons


def serving_verdicts(
    base: Warehouse,
    candidate: Warehouse,
    *,
    metric: str,
    tolerance: float,
    mode: str = DEFAULT_MODE,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> list[ServingVerdict]:
    """Per dataset: the base's served configuration against the candidate's (which may serve
    another strategy or model), on `metric`, and the verdict."""
    datasets = sorted({c.dataset for c, _ in base.metrics} | {c.dataset for c, _ in candidate.metrics})
    verdicts = []
    for dataset in datasets:
        pair = [Configuration(dataset, *w.serving, mode) for w in (base, candidate)]
        values = [w.metrics.get((config, metric)) for w, config in zip((base, candidate), pair)]
        found = [config if value is not None else None for config, value in zip(pair, values)]
        comparison = None
        if values[0] is not None and values[1] is not None:
            stats = paired_stats(values[0], values[1], resamples=resamples, seed=seed)
            comparison = MetricComparison(pair[0], pair[1], metric, stats)
        result = verdict(comparison.stats if comparison else None, tolerance)
        verdicts.append(ServingVerdict(dataset, found[0], found[1], metric, tolerance, result, comparison))
    return verdicts


def compare_warehouses(
    base_path: str,
    candidate_path: str,
    *,
    metric: str = DEFAULT_METRIC,
    tolerance: float = DEFAULT_TOLERANCE,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Comparison:
    """Read both warehouses (read-only), refuse incomparable ones, and compare them."""
    if tolerance < 0:
        raise CompareError(f"--tolerance {tolerance}: expected a number >= 0")
    if resamples < 1:
        raise CompareError(f"--resamples {resamples}: expected at least 1")
    base, candidate = read_warehouse(base_path), read_warehouse(candidate_path)
    check_comparable(base, candidate)
    known = {m for _, m in base.metrics} | {m for _, m in candidate.metrics}
    if known and metric not in known:
        raise CompareError(f"--metric {metric}: expected one of {', '.join(sorted(known))}")
    serving = serving_verdicts(base, candidate, metric=metric, tolerance=tolerance, resamples=resamples, seed=seed)
    return Comparison(
        base_path=base_path,
        candidate_path=candidate_path,
        corpus=base.corpus,
        questions=base.questions,
        verdict=overall_verdict([s.verdict for s in serving]),
        serving=serving,
        comparisons=compare_metrics(base.metrics, candidate.metrics, resamples=resamples, seed=seed),
        settings={
            "metric": metric,
            "tolerance": tolerance,
            "resamples": resamples,
            "seed": seed,
            "confidence": CONFIDENCE,
            "mode": DEFAULT_MODE,
        },
    )


# -- reports --------------------------------------------------------------------------------------


def _stats_dict(stats: PairedStats) -> dict[str, Any]:
    data = asdict(stats)
    data["better"] = [{"question_id": q, "delta": d} for q, d in stats.better]
    data["worse"] = [{"question_id": q, "delta": d} for q, d in stats.worse]
    return data


def _comparison_dict(comparison: MetricComparison) -> dict[str, Any]:
    return {
        "base": asdict(comparison.base),
        "candidate": asdict(comparison.candidate),
        "metric": comparison.metric,
        **_stats_dict(comparison.stats),
    }


def as_dict(result: Comparison) -> dict[str, Any]:
    """The comparison with stable keys (the `--json` output)."""
    return {
        "base": result.base_path,
        "candidate": result.candidate_path,
        "verdict": result.verdict,
        "settings": result.settings,
        "corpus": {"fingerprint": result.corpus.digest, "files": result.corpus.count},
        "golden_questions": {"fingerprint": result.questions.digest, "questions": result.questions.count},
        "serving": [
            {
                "dataset": s.dataset,
                "base": asdict(s.base) if s.base else None,
                "candidate": asdict(s.candidate) if s.candidate else None,
                "metric": s.metric,
                "tolerance": s.tolerance,
                "verdict": s.verdict,
                "comparison": _stats_dict(s.comparison.stats) if s.comparison else None,
            }
            for s in result.serving
        ],
        "comparisons": [_comparison_dict(c) for c in result.comparisons],
    }


def render_json(result: Comparison) -> str:
    return json.dumps(as_dict(result), ensure_ascii=False, indent=2)


def _questions(items: Sequence[tuple[str, float]]) -> str:
    return ", ".join(f"{q} ({d:+.3f})" for q, d in items) or "none"


def _serving_markdown(serving: ServingVerdict) -> list[str]:
    lines = [f"### {serving.dataset}: {serving.verdict}", ""]
    for side, config in (("base", serving.base), ("candidate", serving.candidate)):
        lines.append(f"- {side} serves: {config.label() if config else 'nothing measured (no metrics for it)'}")
    if serving.comparison is None:
        return [*lines, ""]
    s = serving.comparison.stats
    lines += [
        f"- {serving.metric}: {s.base_mean:.4f} → {s.candidate_mean:.4f} (Δ {s.mean_delta:+.4f}, "
        f"{CONFIDENCE:.0%} CI [{s.ci_low:+.4f}, {s.ci_high:+.4f}], tolerance ±{serving.tolerance:g})",
        f"- sign test: {s.n_better} better, {s.n_worse} worse, {s.n_tied} unchanged of {s.n} questions, "
        f"p = {s.sign_test_p:.4g}",
        f"- worse: {_questions(s.worse)}",
        f"- better: {_questions(s.better)}",
    ]
    for side, unscored in (("base", s.unscored_in_base), ("candidate", s.unscored_in_candidate)):
        if unscored:
            lines.append(f"- not scored in the {side} (counted 0: no relevant document left): {', '.join(unscored)}")
    return [*lines, ""]


def render_markdown(result: Comparison) -> str:
    """The report: verdict, fingerprints, the serving comparison, then every configuration."""
    settings = result.settings
    lines = [
        "# docvec compare",
        "",
        f"- base: `{result.base_path}`",
        f"- candidate: `{result.candidate_path}`",
        f"- corpus: {result.corpus.count} files, fingerprint `{result.corpus.digest}` (equal)",
        f"- golden questions: {result.questions.count}, fingerprint `{result.questions.digest}` (equal)",
        f"- statistics: paired bootstrap ({settings['resamples']} resamples, seed {settings['seed']}) and "
        "exact sign test over the questions",
        "",
        f"## Verdict: {result.verdict}",
        "",
    ]
    for serving in result.serving:
        lines += _serving_markdown(serving)
    lines += [
        "## Every configuration in both",
        "",
        "| dataset | strategy | model | mode | metric | base | candidate | Δ | 95% CI | sign p | better | worse |",
        "|---|---|---|---|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for c in result.comparisons:
        s, config = c.stats, c.base
        lines.append(
            f"| {config.dataset} | {config.strategy_id} | {config.model_id} | {config.mode} | {c.metric} "
            f"| {s.base_mean:.4f} | {s.candidate_mean:.4f} | {s.mean_delta:+.4f} "
            f"| [{s.ci_low:+.4f}, {s.ci_high:+.4f}] | {s.sign_test_p:.4g} | {s.n_better} | {s.n_worse} |"
        )
    if not result.comparisons:
        lines.append("| (no strategy, model and mode measured in both) | | | | | | | | | | | |")
    return "\n".join(lines) + "\n"
