"""What the PII stage outputs: the text per ``pii_mode`` and policy, and the findings' spans in THAT text.

One convention for every function here: a finding's span indexes the text returned beside it (0-based
code points, end exclusive), so ``out[f.start:f.end]`` is the placeholder of a redacted finding and
the value of a flagged one. `find_pii` gives the spans in the original text.
"""

from __future__ import annotations

from .detectors import find_pii
from .entities import PLACEHOLDERS, Finding
from .policy import DEFAULT_POLICY, PiiPolicy

# The values of the dbt var `pii_mode` (models/intermediate/int_documents_redacted.sql).
PII_MODES: tuple[str, ...] = ("redact", "flag", "off")


def _replace(text: str, findings: list[tuple[Finding, bool]]) -> tuple[str, list[Finding]]:
    """`text` with each finding marked True (original spans, sorted, non-overlapping) replaced by its
    placeholder, and every finding's span in the result (the placeholder's, or the kept value's)."""
    parts: list[str] = []
    placed: list[Finding] = []
    pos = 0  # in `text`
    shift = 0  # result offset minus text offset
    for f, masked in findings:
        if not masked:
            placed.append(Finding(f.entity_type, f.start + shift, f.end + shift))
            continue
        placeholder = PLACEHOLDERS[f.entity_type]
        parts += [text[pos : f.start], placeholder]
        placed.append(Finding(f.entity_type, f.start + shift, f.start + shift + len(placeholder)))
        shift += len(placeholder) - (f.end - f.start)
        pos = f.end
    parts.append(text[pos:])
    return "".join(parts), placed


def _decided(text: str, policy: PiiPolicy) -> list[tuple[Finding, str]]:
    """Every finding of `text` with the policy's action for it (``keep`` for allowed values)."""
    return [(f, policy.decide(text, f)) for f in find_pii(text)]


def redact(text: str, policy: PiiPolicy = DEFAULT_POLICY) -> tuple[str, list[Finding]]:
    """`text` with the findings the policy redacts replaced by their typed placeholders, and the
    spans of those and of the flagged findings in it (kept ones are not reported).

    Text without anything replaced is returned as is (the same object).
    """
    decided = [(f, action == "redact") for f, action in _decided(text, policy) if action != "keep"]
    if not any(masked for _, masked in decided):
        return text, [f for f, _ in decided]
    return _replace(text, decided)


def masked_findings(text: str, policy: PiiPolicy = DEFAULT_POLICY) -> list[Finding]:
    """The findings of `text` the policy would replace in redact mode (spans in `text`).

    What the ``no_pii_detected`` test looks for: in redacted text there must be none.
    """
    return [f for f, action in _decided(text, policy) if action == "redact"]


def apply_pii_mode(
    text: str | None, mode: str | None, policy: PiiPolicy = DEFAULT_POLICY
) -> tuple[str, list[Finding]] | None:
    """The text the documents table stores under `mode` and `policy`, and the findings' spans in it.

    ``redact``: placeholders instead of the values the policy redacts, the values of the types it
    flags left in place; the spans of both. ``flag``: the text unchanged and the spans of every
    finding the policy does not keep. ``off``: the text unchanged and no findings (no scan). NULL
    text gives None. Raises ValueError for any other `mode` (even with NULL text).
    """
    if mode not in PII_MODES:
        raise ValueError(f"pii_mode must be one of {', '.join(PII_MODES)}, got {mode!r}")
    if text is None:
        return None
    if mode == "off":
        return text, []
    if mode == "flag":
        return text, [f for f, action in _decided(text, policy) if action != "keep"]
    return redact(text, policy)
