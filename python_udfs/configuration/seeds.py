"""Checks of the seed rows a user edits, read from the CSV files themselves.

The checks run in the on-run-start hook, before `dbt seed` has loaded anything (a fresh warehouse
has no seed tables yet), so they read the CSV file of each seed with Python's csv module. Each
problem is one line naming the file, the line and the row's id, the column, its value and the
allowed values.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..chunking import METHODS
from .rules import shown

# The fewest word pieces a chunk may hold, special tokens included: below this a chunk carries too
# little text to be retrieved by meaning.
MIN_MAX_TOKENS = 16
ACCESS_GROUP_SEPARATOR = ";"
STRATEGY_COLUMNS = ("strategy_id", "method", "max_tokens", "overlap_tokens")
# Column the chunking models read too; checked apart (`min_chunk_tokens_problems`), so a seed
# without it is named once, after the problems of its rows.
MIN_CHUNK_TOKENS_COLUMN = "min_chunk_tokens"
ACCESS_RULE_COLUMNS = ("priority", "path_glob", "access_groups")
_INTEGER = re.compile(r"[+-]?\d+")


@dataclass(frozen=True)
class TokenLimits:
    """What the embedding model allows: its maximum sequence length and its special tokens per text."""

    max_seq_length: int
    n_special_tokens: int


@dataclass(frozen=True)
class SeedRow:
    """One data row of a seed CSV: its line in the file and its values by column."""

    line: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        return (self.values.get(column) or "").strip()


@dataclass(frozen=True)
class SeedFile:
    """A seed CSV as the user wrote it: its name for messages, its columns and rows."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[SeedRow, ...]


def read_seed(path: str | Path, name: str) -> SeedFile:
    """The rows of the CSV file at `path` (`name`, e.g. seeds/x.csv, is how messages call it)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = []
        for values in reader:
            rows.append(SeedRow(reader.line_num, {k: v for k, v in values.items() if k is not None}))
        columns = tuple(column.strip() for column in reader.fieldnames or ())
    return SeedFile(name, columns, tuple(rows))


def as_integer(value: str) -> int | None:
    """The integer a seed cell holds, or None when it holds something else."""
    return int(value) if _INTEGER.fullmatch(value) else None


def missing_columns(seed: SeedFile, required: Sequence[str]) -> list[str]:
    """A line when the file lacks one of the `required` columns (no row can then be checked)."""
    missing = [column for column in required if column not in seed.columns]
    if not missing:
        return []
    return [f"{seed.name}: missing column(s) {', '.join(missing)}: expected the columns {', '.join(required)}"]


def _where(seed: SeedFile, row: SeedRow, key: str) -> str:
    return f"{seed.name} line {row.line} ({key} {row.get(key)!r})"


def strategy_ids(seed: SeedFile) -> list[str]:
    """The strategy ids of the chunking strategies seed, in file order."""
    return [row.get("strategy_id") for row in seed.rows]


def check_chunking_strategies(seed: SeedFile, limits: TokenLimits | None) -> list[str]:
    """A line per broken strategy row: id blank or repeated, unknown method, token limits out of range.

    `limits` None (the model could not be read; that problem is reported on its var) checks
    max_tokens against the minimum only.
    """
    problems = missing_columns(seed, STRATEGY_COLUMNS)
    if problems:
        return problems
    if not seed.rows:
        return [f"{seed.name} has no row: expected at least one chunking strategy"]
    first_line: dict[str, int] = {}
    for row in seed.rows:
        where = _where(seed, row, "strategy_id")
        strategy_id = row.get("strategy_id")
        if not strategy_id:
            problems.append(f"{where}: strategy_id is blank: expected a non-empty, unique id")
        elif strategy_id in first_line:
            problems.append(f"{where}: strategy_id is already on line {first_line[strategy_id]}: expected a unique id")
        else:
            first_line[strategy_id] = row.line
        if row.get("method") not in METHODS:
            problems.append(f"{where}: method {row.get('method')!r}: expected one of {', '.join(METHODS)}")
        problems += _token_problems(where, row, limits)
    return problems


def _token_problems(where: str, row: SeedRow, limits: TokenLimits | None) -> list[str]:
    """max_tokens between MIN_MAX_TOKENS and the model's maximum; overlap below the token budget."""
    max_tokens, overlap = as_integer(row.get("max_tokens")), as_integer(row.get("overlap_tokens"))
    highest = limits.max_seq_length if limits else None
    allowed = (
        f"an integer from {MIN_MAX_TOKENS} to {highest} (the embedding model's maximum sequence length)"
        if highest
        else f"an integer >= {MIN_MAX_TOKENS}"
    )
    problems = []
    if max_tokens is None or max_tokens < MIN_MAX_TOKENS or (highest is not None and max_tokens > highest):
        problems.append(f"{where}: max_tokens {row.get('max_tokens')!r}: expected {allowed}")
        max_tokens = None
    special = limits.n_special_tokens if limits else 0
    if overlap is None or overlap < 0 or (max_tokens is not None and overlap >= max_tokens - special):
        upper = f" and < {max_tokens - special} (max_tokens less {special} special tokens)" if max_tokens else ""
        problems.append(f"{where}: overlap_tokens {row.get('overlap_tokens')!r}: expected an integer >= 0{upper}")
    if MIN_CHUNK_TOKENS_COLUMN in row.values:
        minimum = as_integer(row.get(MIN_CHUNK_TOKENS_COLUMN))
        if minimum is None or minimum < 0 or (max_tokens is not None and minimum >= max_tokens):
            upper = f" and < {max_tokens} (max_tokens)" if max_tokens else ""
            problems.append(
                f"{where}: {MIN_CHUNK_TOKENS_COLUMN} {row.get(MIN_CHUNK_TOKENS_COLUMN)!r}: "
                f"expected an integer >= 0{upper} (0: no merging of short chunks)"
            )
    return problems


def min_chunk_tokens_problems(seed: SeedFile) -> list[str]:
    """A line when the chunking strategies seed has no min_chunk_tokens column."""
    if MIN_CHUNK_TOKENS_COLUMN in seed.columns:
        return []
    return [
        f"{seed.name}: missing column {MIN_CHUNK_TOKENS_COLUMN}: expected the fewest word pieces of a chunk "
        "(e.g. 20; 0: no merging of short chunks) in every row"
    ]


def check_access_rules(seed: SeedFile) -> list[str]:
    """A line per broken access rule: priority not an integer, blank path_glob, no access group."""
    problems = missing_columns(seed, ACCESS_RULE_COLUMNS)
    if problems:
        return problems
    for row in seed.rows:
        where = _where(seed, row, "path_glob")
        if as_integer(row.get("priority")) is None:
            problems.append(f"{where}: priority {row.get('priority')!r}: expected an integer")
        if not row.get("path_glob"):
            problems.append(f"{where}: path_glob is blank: expected a GLOB pattern such as hr/*")
        groups = [group.strip() for group in row.get("access_groups").split(ACCESS_GROUP_SEPARATOR)]
        if not any(groups):
            problems.append(
                f"{where}: access_groups {row.get('access_groups')!r}: "
                f"expected at least one group (several separated by '{ACCESS_GROUP_SEPARATOR}')"
            )
    return problems


def check_serving_strategy(value: object, ids: Sequence[str], seed_name: str) -> list[str]:
    """A line when var serving_strategy names no strategy of the seed."""
    if value in ids:
        return []
    return [f"var serving_strategy = {shown(value)}: expected one of the strategy_ids of {seed_name}: {', '.join(ids)}"]
