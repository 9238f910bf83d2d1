"""The `docvec publish` and `docvec verify` commands (docvec/cli.py registers them)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from docvec.publishing.publisher import describe, rollback
from docvec.publishing.store import PublishError, serving_path_for
from docvec.publishing.targets import TargetError
from docvec.publishing.verify import verify

EXIT_DRIFT = 1  # verify found a store that does not hold the current publication
EXIT_USAGE = 2


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add `publish` and `verify` to the docvec command line."""
    publish = commands.add_parser(
        "publish",
        help="audit the build warehouse's search_index (dbt test) and publish it when every test passes",
        description=(
            "Run `dbt test` on the project: its on-run-end hook publishes search_index to the serving store "
            "and to var publish_targets when every error-severity test passes (as after `dbt build`), else "
            "records in publish_runs which tests held it back. --rollback serves the previous publication "
            "again instead (no dbt run)."
        ),
    )
    publish.add_argument("--rollback", action="store_true", help="serve the publication before the current one")
    publish.add_argument("--project-dir", default=".", help="the dbt project (default: the current folder)")
    publish.add_argument("--profiles-dir", default=None, help="dbt profiles folder (default: --project-dir)")
    publish.add_argument("--vars", default=None, help='dbt --vars for the audit, e.g. "{publish_targets: [...]}"')
    publish.add_argument("--serving", default=None, help="serving store path for --rollback (default: as dbt's)")

    check = commands.add_parser(
        "verify",
        help="check that every serving store holds exactly the current publication (exit 1 on drift)",
        description=(
            "Recompute the current publication's content digest in the embedded serving store and the per-row "
            "checksums (text hash, model id, access groups, vector bytes) of each external target from its own "
            "data, and compare them with the publication. Exit 0 when all match, 1 on any drift."
        ),
    )
    check.add_argument("--target", action="append", default=None, help="only this store (repeatable; `embedded`)")
    check.add_argument("--serving", default=None, help="serving store path (default: env DOCVEC_SERVING_PATH, ...)")
    check.add_argument("--format", choices=("table", "json"), default="table")


def run_publish(args: argparse.Namespace) -> int:
    if args.rollback:
        serving = args.serving or serving_path_for()
        try:
            records = rollback(serving)
        except (PublishError, TargetError) as error:
            print(f"docvec: {error}", file=sys.stderr)
            return EXIT_USAGE
        for line in describe(records):
            print(line)
        return 0
    project = Path(args.project_dir).resolve()
    if not (project / "dbt_project.yml").is_file():
        print(
            f"docvec: {str(project)!r} is not a dbt project (no dbt_project.yml): give --project-dir", file=sys.stderr
        )
        return EXIT_USAGE
    command = [
        str(Path(sys.executable).with_name("dbt")),
        "test",
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(Path(args.profiles_dir).resolve() if args.profiles_dir else project),
    ]
    if args.vars:
        command += ["--vars", args.vars]
    return subprocess.call(command, cwd=str(project), env=dict(os.environ))


def run_verify(args: argparse.Namespace) -> int:
    serving = args.serving or serving_path_for()
    try:
        checks = verify(serving, args.target)
    except (PublishError, TargetError) as error:
        print(f"docvec: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        print(json.dumps([c.as_dict() for c in checks], indent=2))
    else:
        for c in checks:
            version = f"v{c.version}" if c.version is not None else "-"
            state = "ok" if c.ok else "DRIFT"
            print(
                f"{c.target:<12} {state:<6} {version:<8} rows={c.rows} missing={c.missing} extra={c.extra} "
                f"mismatched={c.mismatched}  {c.detail}"
            )
    return 0 if all(c.ok for c in checks) else EXIT_DRIFT
