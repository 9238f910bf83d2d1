"""The `docvec` command: search the published serving store from a shell, publish and verify it
(`publish`, `verify`), serve it to applications and agents (`serve`, `mcp`), measure retrieval
quality (`eval`), and trace column lineage (`lineage`)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import textwrap
from collections.abc import Sequence
from typing import Any, NoReturn

import duckdb

from docvec.publishing.cli import add_commands as add_publish_commands
from docvec.publishing.cli import run_publish, run_verify
from docvec.searching import (
    BACKEND_HELP,
    SearchFilters,
    SearchResult,
    check_search_arguments,
    connect,
    search,
)
from docvec.service.cli import add_commands as add_service_commands
from docvec.service.cli import run_mcp, run_serve
from python_udfs.ranking import (
    DEFAULT_CANDIDATES,
    DEFAULT_KEYWORD_WEIGHT,
    DEFAULT_MODE,
    DEFAULT_RRF_K,
    DEFAULT_VECTOR_WEIGHT,
    MODES,
)
from python_udfs.warehouse_access import explain_known_error, first_line

EXIT_USAGE = 2  # a message on stderr says what is wrong
EXIT_INTERRUPTED = 130  # SIGINT, as a shell reports it


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (instead of the usage text, then the error)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _groups(value: str) -> tuple[str, ...]:
    """`--groups a,b` as a tuple of group names (at least one)."""
    groups = tuple(g.strip() for g in value.split(",") if g.strip())
    if not groups:
        raise argparse.ArgumentTypeError("--groups needs at least one group name")
    return groups


def _metadata(value: str) -> tuple[str, str]:
    """`--meta KEY=VALUE` as a (key, value) pair."""
    key, sep, wanted = value.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--meta expects KEY=VALUE, got {value!r}")
    return key, wanted


def build_parser() -> argparse.ArgumentParser:
    """The `docvec` command line: `search`, `eval`, `lineage`."""
    parser = _Parser(prog="docvec", description="Search docvec's DuckDB warehouse, or measure its retrieval quality.")
    commands = parser.add_subparsers(dest="command", required=True)

    find = commands.add_parser("search", help="rank chunks of search_index for a query")
    find.add_argument("query", help="the question or keywords")
    find.add_argument("--k", type=int, default=5, help="number of results (default 5)")
    find.add_argument("--mode", choices=MODES, default=DEFAULT_MODE, help=f"ranking (default {DEFAULT_MODE})")
    find.add_argument(
        "--groups",
        type=_groups,
        default=("public",),
        help="comma-separated access groups of the caller (default: public)",
    )
    find.add_argument("--path-prefix", help="only chunks whose source_path starts with this")
    find.add_argument("--file-type", help="only chunks of this file type (markdown, pdf, ...)")
    find.add_argument(
        "--meta",
        type=_metadata,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="only documents whose metadata KEY equals VALUE (repeatable)",
    )
    find.add_argument(
        "--vector-weight", type=float, default=DEFAULT_VECTOR_WEIGHT, help="hybrid: weight of the vector ranking"
    )
    find.add_argument(
        "--keyword-weight", type=float, default=DEFAULT_KEYWORD_WEIGHT, help="hybrid: weight of the BM25 ranking"
    )
    find.add_argument("--rrf-k", type=int, default=DEFAULT_RRF_K, help="hybrid: reciprocal rank fusion constant")
    find.add_argument("--candidates", type=int, default=DEFAULT_CANDIDATES, help="hybrid: depth of each fused ranking")
    find.add_argument(
        "--exact", action="store_true", help="rank vectors by a full scan instead of the HNSW index (for evaluation)"
    )
    find.add_argument("--format", choices=("table", "json"), default="table")
    find.add_argument(
        "--db",
        default=None,
        help="a DuckDB file to search: a publication or the build warehouse (default: the current publication "
        "of the serving store: env DOCVEC_SERVING_PATH, else beside env DOCVEC_DB_PATH / docvec.duckdb)",
    )
    find.add_argument(
        "--target", default=None, help="search this external target of var publish_targets instead (e.g. lancedb)"
    )
    find.add_argument(
        "--model-path",
        default=os.environ.get("DOCVEC_MODEL_PATH") or None,
        help="local embedding model folder (default: the bundled all-MiniLM-L6-v2)",
    )
    find.add_argument("--backend", default=None, help=BACKEND_HELP)

    evaluate = commands.add_parser(
        "eval",
        help="measure retrieval quality on a BEIR dataset, built through the dbt pipeline",
        description=(
            "Import a BEIR-layout dataset (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) as a JSONL "
            "landing folder plus golden questions, run `dbt build` of the docvec project on it into its "
            "own DuckDB file, and print retrieval_metrics for every chunking strategy and search mode. "
            "Work files go to --workdir (default ~/.cache/docvec/eval/<name>-<hash>), so a second run "
            "reuses the embedding cache."
        ),
    )
    evaluate.add_argument("--beir", required=True, metavar="PATH", help="BEIR dataset folder")
    evaluate.add_argument("--split", default=None, help="qrels split (default: test, else the dataset's only split)")
    evaluate.add_argument(
        "--max-queries",
        type=_positive,
        default=None,
        metavar="N",
        help="score only the first N queries that have judgments (the corpus is always whole)",
    )
    evaluate.add_argument("--format", choices=("table", "json"), default="table")
    evaluate.add_argument("--db", default=None, help="DuckDB file of the run (default: WORKDIR/docvec.duckdb)")
    evaluate.add_argument(
        "--workdir",
        default=None,
        help="folder for the landing files, questions CSV, dbt target and logs "
        "(default: $XDG_CACHE_HOME or ~/.cache, then docvec/eval/<name>-<hash>)",
    )
    evaluate.add_argument("--quiet", action="store_true", help="do not echo dbt's output to stderr")

    trace = commands.add_parser(
        "lineage",
        help="column-level lineage of a table column, from dbt's compiled manifest",
        description=(
            "Print where a column comes from (upstream, down to the landing source and seeds) or what is "
            "built from it (downstream), resolved by sqlglot over the compiled SQL of the dbt models. "
            "Needs target/manifest.json with compiled SQL: run `dbt compile` or `dbt docs generate` first."
        ),
    )
    trace.add_argument(
        "column",
        nargs="?",
        metavar="TABLE.COLUMN",
        help="e.g. search_index.chunk_text, or landing.documents.file_path for the source",
    )
    trace.add_argument("--direction", choices=("upstream", "downstream"), default="upstream")
    trace.add_argument("--format", choices=("tree", "json"), default="tree")
    trace.add_argument(
        "--manifest", default=None, help="dbt manifest (default: $DBT_TARGET_PATH or target, then /manifest.json)"
    )
    trace.add_argument(
        "--write-docs",
        nargs="?",
        const="",
        default=None,
        metavar="PATH",
        help="write the dbt docs page of the public tables' column lineage "
        "(default: the project's models/docs/column_lineage.md)",
    )
    add_publish_commands(commands)
    add_service_commands(commands)
    _add_compare_command(commands)
    _add_plan_command(commands)
    return parser


def _positive(value: str) -> int:
    """An integer argument of at least 1."""
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _eval(args: argparse.Namespace) -> int:
    """`docvec eval --beir PATH`: the dataset through dbt, then its metrics table (or JSON)."""
    from docvec.evaluation import format_metrics_table, run_beir_eval

    log = (lambda line: None) if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    try:
        result = run_beir_eval(
            args.beir, split=args.split, db_path=args.db, workdir=args.workdir, max_queries=args.max_queries, log=log
        )
    except (FileNotFoundError, RuntimeError, ValueError) as error:
        print(f"docvec: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(format_metrics_table(result))
    return 0


def _lineage(args: argparse.Namespace) -> int:
    """`docvec lineage TABLE.COLUMN` and/or `--write-docs`."""
    from docvec.lineage import LineageError, lineage_from_manifest, lineage_report, write_docs

    if not args.column and args.write_docs is None:
        print("docvec: lineage needs TABLE.COLUMN or --write-docs", file=sys.stderr)
        return 2
    try:
        lineage = lineage_from_manifest(args.manifest)
        if args.write_docs is not None:
            print(f"wrote {write_docs(lineage, args.write_docs or None)}", file=sys.stderr)
        if args.column:
            print(lineage_report(lineage, args.column, direction=args.direction, fmt=args.format))
    except LineageError as error:
        print(f"docvec: {error}", file=sys.stderr)
        return 2
    return 0


# -- `docvec compare` ---------------------------------------------------------------------------


def _add_compare_command(commands: argparse._SubParsersAction) -> None:
    """Add `compare BASE CANDIDATE`: two builds' retrieval quality, paired by golden question."""
    from docvec.evaluation.compare import DEFAULT_METRIC, DEFAULT_RESAMPLES, DEFAULT_SEED, DEFAULT_TOLERANCE

    compare = commands.add_parser(
        "compare",
        help="compare the retrieval quality of two builds (pipeline versions) question by question",
        description=(
            "Compare two DuckDB warehouses built by this dbt project on the same corpus and golden questions: "
            "the per-question metrics of every strategy, model and mode both measured, with a seeded paired "
            "bootstrap 95% confidence interval of the mean delta and an exact sign test, and a verdict on the "
            "serving configuration of each (its serving strategy and model, hybrid search). Both are opened "
            "read-only. Exit status: 0, 1 when the serving configuration regressed, 2 when the warehouses "
            "cannot be compared (different corpus or golden questions, not a docvec build)."
        ),
    )
    compare.add_argument("base", metavar="BASE", help="DuckDB warehouse of the reference build")
    compare.add_argument("candidate", metavar="CANDIDATE", help="DuckDB warehouse of the build to judge")
    compare.add_argument(
        "--metric", default=DEFAULT_METRIC, help=f"metric@k the verdict is on (default {DEFAULT_METRIC})"
    )
    compare.add_argument(
        "--tolerance",
        type=float,
        default=DEFAULT_TOLERANCE,
        help="a change is significant only when its whole confidence interval is beyond this "
        f"(default {DEFAULT_TOLERANCE})",
    )
    compare.add_argument(
        "--resamples",
        type=_positive,
        default=DEFAULT_RESAMPLES,
        help=f"bootstrap resamples (default {DEFAULT_RESAMPLES})",
    )
    compare.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"bootstrap seed (default {DEFAULT_SEED})")
    compare.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    compare.add_argument("--out", metavar="FILE", default=None, help="also write the report to FILE")


def _compare(args: argparse.Namespace) -> int:
    """`docvec compare BASE CANDIDATE`: the report; 1 when the serving configuration regressed."""
    from docvec.evaluation.compare import REGRESSION, CompareError, compare_warehouses, render_json, render_markdown

    try:
        result = compare_warehouses(
            args.base,
            args.candidate,
            metric=args.metric,
            tolerance=args.tolerance,
            resamples=args.resamples,
            seed=args.seed,
        )
    except CompareError as error:
        print(f"docvec: {error}", file=sys.stderr)
        return EXIT_USAGE
    report = render_json(result) + "\n" if args.json else render_markdown(result)
    if args.out:
        try:
            with open(args.out, "w", encoding="utf-8") as out:
                out.write(report)
        except OSError as error:
            print(f"docvec: cannot write {args.out!r}: {error.strerror or error}", file=sys.stderr)
            return EXIT_USAGE
    sys.stdout.write(report)
    return 1 if result.verdict == REGRESSION else 0


# -- `docvec plan` ------------------------------------------------------------------------------


def _add_plan_command(commands: argparse._SubParsersAction) -> None:
    """Add `plan --strategy S | --model M | --backend B`: what a switch would embed, embedding nothing."""
    plan = commands.add_parser(
        "plan",
        help="what switching the serving strategy, model or backend would embed, and how long it would take",
        description=(
            "Read the build warehouse (read-only; nothing is embedded) and report how many distinct chunk texts "
            "and word pieces switching to --strategy, --model and/or --backend would embed: the texts with no "
            "vector yet under the planned model id in the embedding cache. The current configuration is the "
            "latest pipeline_runs row; the time estimate uses the throughput pipeline_runs measured for the "
            "same model id (none without a measurement). A new strategy needs its chunks built first "
            "(dbt build --select +chunks). Exit status: 0, 2 when the plan cannot be made."
        ),
    )
    plan.add_argument("--strategy", default=None, help="a chunking strategy_id that has chunks in the warehouse")
    plan.add_argument("--model", default=None, help="an embedding_model_id (default: the current one)")
    plan.add_argument("--backend", default=None, help="torch, onnx, onnx-int8 or openai (default: the current backend)")
    plan.add_argument(
        "--db",
        default=None,
        help="the build warehouse (default: env DOCVEC_DB_PATH, else docvec.duckdb); a publication has no cache",
    )
    plan.add_argument("--json", action="store_true", help="print JSON instead of the report")


def _plan(args: argparse.Namespace) -> int:
    """`docvec plan`: the report (or JSON); 2 with one line when the plan cannot be made."""
    from docvec.planning import PlanError, plan_warehouse, render_text

    try:
        result = plan_warehouse(args.db, strategy=args.strategy, model=args.model, backend=args.backend)
    except PlanError as error:
        print(f"docvec: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2) if args.json else render_text(result))
    return 0


def format_table(results: Sequence[SearchResult], width: int | None = None) -> str:
    """Search results as text: rank, score, path, section, offsets, title and a snippet."""
    if not results:
        return "no results"
    width = width or shutil.get_terminal_size((100, 20)).columns
    lines = []
    for rank, r in enumerate(results, start=1):
        where = r.source_path + (f"  § {r.section}" if r.section else "")
        lines.append(f"{rank:>2}. {r.score:.4f}  {where}  [{r.start_char}:{r.end_char}]")
        if r.title:
            lines.append(f"    {r.title}")
        snippet = " ".join(r.chunk_text.split())
        lines.extend(
            textwrap.wrap(
                snippet,
                width=max(40, width - 4),
                initial_indent="    ",
                subsequent_indent="    ",
                max_lines=3,
                placeholder=" …",
            )
        )
    return "\n".join(lines)


def _search(args: argparse.Namespace) -> int:
    """`docvec search QUERY`: the ranking as a table (or JSON)."""
    filters = SearchFilters(
        groups=args.groups, path_prefix=args.path_prefix, file_type=args.file_type, metadata=tuple(args.meta)
    )
    weights = (args.vector_weight, args.keyword_weight)
    if args.target:
        return _search_target(args, filters, weights)
    path = args.db or "the serving store"
    try:
        check_search_arguments(args.k, args.mode, weights, args.rrf_k, args.candidates)
        with connect(args.db) as conn:
            results = search(conn, args.query, **_search_options(args, filters, weights))
    except (FileNotFoundError, RuntimeError, ValueError) as error:
        print(f"docvec: {error}", file=sys.stderr)
        return EXIT_USAGE
    except duckdb.Error as error:  # read while searching: damage found past the file's header, a missing index
        known = explain_known_error(path, error, retry="search again")
        print(f"docvec: {known or 'the search failed in DuckDB: ' + first_line(error)}", file=sys.stderr)
        return EXIT_USAGE
    _print_results(results, args.format)
    return 0


def _search_options(args: argparse.Namespace, filters: SearchFilters, weights: tuple[float, float]) -> dict[str, Any]:
    """The keyword arguments `docvec search` passes to docvec.search and to search_target."""
    return {
        "k": args.k,
        "mode": args.mode,
        "filters": filters,
        "model_path": args.model_path,
        "backend": args.backend,
        "weights": weights,
        "rrf_k": args.rrf_k,
        "candidates": args.candidates,
        "exact": args.exact,
    }


def _search_target(args: argparse.Namespace, filters: SearchFilters, weights: tuple[float, float]) -> int:
    """`docvec search --target NAME`: the same search on an external publish target."""
    from docvec.publishing.store import serving_path_for
    from docvec.publishing.target_search import open_target, search_target, target_model_id
    from docvec.publishing.targets import TargetError

    try:
        check_search_arguments(args.k, args.mode, weights, args.rrf_k, args.candidates)
        serving = serving_path_for()
        target = open_target(serving, args.target)
        try:
            stored = None if args.mode == "keyword" else target_model_id(serving, target)
            options = _search_options(args, filters, weights)
            results = search_target(target, args.query, stored_model_id=stored, **options)
        finally:
            target.close()
    except (TargetError, ValueError) as error:
        print(f"docvec: {error}", file=sys.stderr)
        return EXIT_USAGE
    _print_results(results, args.format)
    return 0


def _print_results(results: Sequence[SearchResult], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps([r.as_dict() for r in results], ensure_ascii=False, indent=2))
    else:
        print(format_table(results))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns its exit status (2: a message on stderr says what is wrong;
    130: stopped by Ctrl-C)."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "eval":
            return _eval(args)
        if args.command == "lineage":
            return _lineage(args)
        if args.command == "publish":
            return run_publish(args)
        if args.command == "verify":
            return run_verify(args)
        if args.command == "serve":
            return run_serve(args)
        if args.command == "mcp":
            return run_mcp(args)
        if args.command == "compare":
            return _compare(args)
        if args.command == "plan":
            return _plan(args)
        return _search(args)
    except KeyboardInterrupt:
        print("docvec: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
