"""Incremental builds on the PowerShell docs: full build, no-op rebuild, rebuild after editing 1%.

    .venv/bin/python -m bench.incremental_bench [--files 300] [--out bench/results/incremental.json]

`--files 0` takes the whole corpus (3,088 files; the full build embeds every chunk text of both
default strategies and takes a long time on 2 cores). Files are a seeded random subset, copied
into a temporary landing folder so that the edits never touch ../shared.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
from pathlib import Path

from bench._dbt import SHARED, Warehouse, machine

CORPUS = SHARED / "datasets" / "powershell-docs"


def copy_subset(destination: Path, n_files: int, seed: int = 0) -> list[Path]:
    files = sorted(CORPUS.rglob("*.md"))
    if n_files:
        files = sorted(random.Random(seed).sample(files, min(n_files, len(files))))
    copied = []
    for source in files:
        target = destination / source.relative_to(CORPUS)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        copied.append(target)
    return copied


def edit_one_paragraph(path: Path, n: int) -> None:
    """Append a sentence to the last paragraph of a file (a small, realistic edit)."""
    text = path.read_text(encoding="utf-8", errors="replace").rstrip("\n")
    path.write_text(text + f" Edited for the incremental benchmark, revision {n}.\n", encoding="utf-8")


def slowest_nodes(workdir: Path, n: int = 5) -> list[tuple[str, float]]:
    """The n dbt nodes of the last build that took longest (from run_results.json)."""
    results = json.loads((workdir / "target" / "run_results.json").read_text())["results"]
    timed = sorted(((r["unique_id"], round(r["execution_time"], 2)) for r in results), key=lambda r: -r[1])
    return timed[:n]


def measured_build(warehouse: Warehouse) -> dict[str, object]:
    seconds = warehouse.build()
    return {
        "seconds": seconds,
        "peak_rss_mb": warehouse.peak_rss_bytes / 2**20,
        "slowest_nodes": slowest_nodes(warehouse.workdir),
        **warehouse.last_run(),
    }


def run(
    n_files: int,
    change_fraction: float = 0.01,
    workdir: Path | None = None,
    progress: Path | None = None,
    resume: bool = False,
) -> dict[str, object]:
    """Full build, no-op rebuild, 1% edit. `workdir` keeps the warehouse (else a temporary folder);
    `progress` is rewritten with the steps measured so far after each build. `resume` reuses the
    warehouse and full build of an earlier run in `workdir`/`progress` (e.g. after a code change,
    instead of another full build of hours): one catch-up build, then the no-op and the edit."""
    if not CORPUS.is_dir():
        raise SystemExit(f"{CORPUS} not found: this benchmark needs ../shared/datasets/powershell-docs")
    if resume and not (workdir and progress and progress.is_file() and (workdir / "landing").is_dir()):
        raise SystemExit("--resume needs --workdir and --out of an earlier run of this benchmark")
    with tempfile.TemporaryDirectory(prefix="docvec-bench-") as tmp:
        workdir = workdir or Path(tmp)
        landing = workdir / "landing"
        warehouse = Warehouse(workdir, landing)
        if resume:
            result = json.loads(progress.read_text())
            result["steps"] = {"full build": result["steps"]["full build"]}
            result["resumed_on"] = machine()
            files = sorted(landing.rglob("*.md"))
        else:
            files = copy_subset(landing, n_files)
            size = sum(f.stat().st_size for f in files)
            result = {"machine": machine(), "files": len(files), "megabytes": size / 1e6, "steps": {}}
        steps = result["steps"]

        def record(name: str) -> None:
            steps[name] = measured_build(warehouse)
            full = steps["full build"]["seconds"]
            for step in steps.values():
                step["share_of_full_build"] = step["seconds"] / full
            if progress:
                progress.parent.mkdir(parents=True, exist_ok=True)
                progress.write_text(json.dumps(result, indent=2, default=str))

        if resume:
            record("catch-up build (code changed since the full build)")
        else:
            record("full build")
        record("no-op rebuild")
        changed = random.Random(2 if resume else 1).sample(files, max(1, round(len(files) * change_fraction)))
        for n, path in enumerate(changed):
            edit_one_paragraph(path, n)
        record(f"rebuild after editing {len(changed)} files ({change_fraction:.0%})")
    return result


def markdown(result: dict[str, object]) -> str:
    lines = [
        f"Machine: {result['machine']}; {result['files']} files ({result['megabytes']:.1f} MB).",
        "",
        "| step | seconds | % of full build | texts embedded | vectors reused | embed s | PII s | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, step in result["steps"].items():
        lines.append(
            f"| {name} | {step['seconds']:.1f} | {100 * step['share_of_full_build']:.1f}% | "
            f"{step['texts_embedded']:,} | {step['embeddings_reused']:,} | {step['embed_seconds'] or 0:.1f} | "
            f"{step['redact_seconds'] or 0:.2f} | {step['peak_rss_mb']:,.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=300, help="seeded subset size; 0 = whole corpus")
    parser.add_argument("--out", default="bench/results/incremental.json")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="keep the landing copy and warehouse here (default: a temporary folder)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="reuse the warehouse and full build of an earlier run (same --workdir and --out)",
    )
    args = parser.parse_args()
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    out = Path(args.out)
    result = run(args.files, workdir=args.workdir, progress=out, resume=args.resume)
    out.write_text(json.dumps(result, indent=2, default=str))
    print(markdown(result))


if __name__ == "__main__":
    main()
