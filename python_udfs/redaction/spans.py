"""What the PII stage outputs: the text per ``pii_mode`` and the findings' spans in THAT text.

One convention for every function here: a finding's span indexes the text returned beside it (0-based
code points, end exclusive), so ``out[f.start:f.end]`` is the placeholder in redact mode and the
value in flag mode. `find_pii` gives the spans in the original text.
"""

from __future__ import annotations

from .detectors import find_pii
from .entities import PLACEHOLDERS, Finding

# The values of the dbt var `pii_mode` (models/intermediate/int_documents_redacted.sql).
PII_MODES: tuple[str, ...] = ("redact", "flag", "off")


def _replace(text: str, findings: list[Finding]) -> tuple[str, list[Finding]]:
    """`text` with each finding (original spans, sorted, non-overlapping) replaced by its placeholder,
    and the placeholders' spans in the result."""
    parts: list[str] = []
    placed: list[Finding] = []
    pos = 0  # in `text`
    out_pos = 0  # in the result
    for f in findings:
        kept = text[pos : f.start]
        placeholder = PLACEHOLDERS[f.entity_type]
        out_pos += len(kept)
        parts += [kept, placeholder]
        placed.append(Finding(f.entity_type, out_pos, out_pos + len(placeholder)))
        out_pos += len(placeholder)
        pos = f.end
    parts.append(text[pos:])
    return "".join(parts), placed


def redact(text: str) -> tuple[str, list[Finding]]:
    """`text` with every finding replaced by its typed placeholder, and the placeholders' spans in it.

    Text without findings is returned as is (the same object).
    """
    findings = find_pii(text)
    if not findings:
        return text, findings
    return _replace(text, findings)


def apply_pii_mode(text: str | None, mode: str | None) -> tuple[str, list[Finding]] | None:
    """The text the documents table stores under `mode`, and the findings' spans in that text.

    ``redact``: placeholders instead of the values, and the placeholders' spans; ``flag``: the
    text unchanged and the values' spans; ``off``: the text unchanged and no findings (no scan).
    NULL text gives None. Raises ValueError for any other `mode` (even with NULL text).
    """
    if mode not in PII_MODES:
        raise ValueError(f"pii_mode must be one of {', '.join(PII_MODES)}, got {mode!r}")
    if text is None:
        return None
    if mode == "off":
        return text, []
    if mode == "flag":
        return text, find_pii(text)
    return redact(text)
