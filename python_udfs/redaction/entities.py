"""The entity types the detectors report, their placeholders, and one finding (type and span)."""

from __future__ import annotations

from dataclasses import dataclass

ENTITY_TYPES: tuple[str, ...] = (
    "EMAIL",
    "PHONE",
    "CREDIT_CARD",
    "US_SSN",
    "IBAN",
    "IP_ADDRESS",
    "AWS_ACCESS_KEY",
    "PRIVATE_KEY",
    "JWT",
    "GITHUB_TOKEN",
    "SLACK_TOKEN",
    "SECRET",
)
PLACEHOLDERS: dict[str, str] = {t: f"[{t}]" for t in ENTITY_TYPES}

# Tie-break on overlaps of equal length: lower wins (the most specific shape first).
PRIORITY: dict[str, int] = {
    t: i
    for i, t in enumerate(
        (
            "PRIVATE_KEY",
            "JWT",
            "GITHUB_TOKEN",
            "SLACK_TOKEN",
            "AWS_ACCESS_KEY",
            "EMAIL",
            "IBAN",
            "CREDIT_CARD",
            "US_SSN",
            "IP_ADDRESS",
            "PHONE",
            "SECRET",
        )
    )
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected entity: its type and its span ``[start, end)`` (0-based code points) in a text."""

    entity_type: str
    start: int
    end: int


# A detector's raw candidate: (start, end, entity_type), before overlaps are resolved.
Candidate = tuple[int, int, str]
