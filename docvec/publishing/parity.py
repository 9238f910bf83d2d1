"""Parity of a store with its publication: which chunk ids are missing, extra or different."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Parity:
    """How a store's rows (`found`) differ from the publication's (`expected`), by chunk_id and row checksum."""

    expected_rows: int
    found_rows: int
    missing: tuple[str, ...]
    extra: tuple[str, ...]
    mismatched: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.mismatched) and self.expected_rows == self.found_rows

    def summary(self) -> str:
        """One line: row counts and the first ids of each difference."""
        if self.ok:
            return f"{self.found_rows} rows, all match"
        parts = [f"{self.found_rows} rows (expected {self.expected_rows})"]
        for label, ids in (("missing", self.missing), ("extra", self.extra), ("mismatched", self.mismatched)):
            if ids:
                shown = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
                parts.append(f"{len(ids)} {label} ({shown})")
        return "; ".join(parts)


def compare(expected: Mapping[str, str], found: Mapping[str, str]) -> Parity:
    """Compare chunk_id -> checksum maps."""
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    mismatched = sorted(chunk_id for chunk_id in set(expected) & set(found) if expected[chunk_id] != found[chunk_id])
    return Parity(len(expected), len(found), tuple(missing), tuple(extra), tuple(mismatched))


def diff_counts(before: Mapping[str, str], after: Mapping[str, str]) -> tuple[int, int, int]:
    """(inserted, updated, deleted) rows that turn `before` into `after`."""
    inserted = sum(1 for chunk_id in after if chunk_id not in before)
    updated = sum(1 for chunk_id, checksum in after.items() if chunk_id in before and before[chunk_id] != checksum)
    deleted = sum(1 for chunk_id in before if chunk_id not in after)
    return inserted, updated, deleted
