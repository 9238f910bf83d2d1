"""Per-type redaction policy and allow-lists (dbt vars ``pii_policy``, ``pii_allow_patterns``, ``pii_allow_values``).

Each entity type has an action: ``redact`` (the placeholder replaces the value; the default),
``flag`` (the value stays in the text, the finding is recorded) or ``keep`` (the value stays and
nothing is recorded). A finding whose value is one of the allowed values, or matches one of the
allowed patterns as a whole (``re.fullmatch``), is kept whatever its type's action.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from .entities import ENTITY_TYPES, Finding

# The actions of `pii_policy`, in the order the error messages name them.
PII_ACTIONS: tuple[str, ...] = ("redact", "flag", "keep")
DEFAULT_ACTION = "redact"
# The keys of the policy JSON the ``docvec_pii`` UDF takes (macros/pii_policy_json.sql writes it).
POLICY_KEYS: tuple[str, ...] = ("actions", "allow_patterns", "allow_values")


@dataclass(frozen=True)
class PiiPolicy:
    """What happens to each entity type's findings, and the values that are never masked."""

    actions: Mapping[str, str] = field(default_factory=dict)
    allow_patterns: tuple[re.Pattern[str], ...] = ()
    allow_values: frozenset[str] = frozenset()

    def action(self, entity_type: str) -> str:
        """The action for `entity_type` (``redact`` unless the policy names another)."""
        return self.actions.get(entity_type, DEFAULT_ACTION)

    def allows(self, value: str) -> bool:
        """Whether `value` is an allowed value or matches an allowed pattern as a whole."""
        return value in self.allow_values or any(p.fullmatch(value) for p in self.allow_patterns)

    def decide(self, text: str, finding: Finding) -> str:
        """The action for one finding in `text`: its type's action, or ``keep`` when allowed."""
        action = self.action(finding.entity_type)
        if action != "keep" and (self.allow_values or self.allow_patterns):
            if self.allows(text[finding.start : finding.end]):
                return "keep"
        return action


DEFAULT_POLICY = PiiPolicy()


def make_policy(
    actions: Mapping[str, str] | None = None,
    allow_patterns: Iterable[str] = (),
    allow_values: Iterable[str] = (),
) -> PiiPolicy:
    """A validated `PiiPolicy`; ValueError names what is wrong and the allowed types and actions."""
    actions = dict(actions or {})
    for entity_type, action in actions.items():
        if entity_type not in ENTITY_TYPES:
            raise ValueError(f"pii_policy: unknown entity type {entity_type!r}; allowed: {', '.join(ENTITY_TYPES)}")
        if action not in PII_ACTIONS:
            raise ValueError(
                f"pii_policy: action for {entity_type} must be one of {', '.join(PII_ACTIONS)}, got {action!r}"
            )
    patterns: list[re.Pattern[str]] = []
    for pattern in allow_patterns:
        if not isinstance(pattern, str):
            raise ValueError(f"pii_allow_patterns: every pattern must be a string, got {pattern!r}")
        try:
            patterns.append(re.compile(pattern))
        except re.error as e:
            raise ValueError(f"pii_allow_patterns: {pattern!r} is not a valid regular expression: {e}") from e
    values = list(allow_values)
    if not all(isinstance(v, str) for v in values):
        raise ValueError(f"pii_allow_values: every value must be a string, got {values!r}")
    return PiiPolicy(MappingProxyType(actions), tuple(patterns), frozenset(values))


@lru_cache(maxsize=64)
def parse_policy(policy_json: str | None) -> PiiPolicy:
    """The `PiiPolicy` of the UDF's JSON argument (``{"actions": {...}, "allow_patterns": [...],
    "allow_values": [...]}``, every key optional); NULL or empty gives `DEFAULT_POLICY`."""
    if not policy_json:
        return DEFAULT_POLICY
    try:
        raw: Any = json.loads(policy_json)
    except json.JSONDecodeError as e:
        raise ValueError(f"pii policy is not valid JSON: {e}") from e
    if not isinstance(raw, dict) or set(raw) - set(POLICY_KEYS):
        raise ValueError(f"pii policy must be a JSON object with the keys {', '.join(POLICY_KEYS)}, got {raw!r}")
    actions, patterns, values = raw.get("actions") or {}, raw.get("allow_patterns") or [], raw.get("allow_values") or []
    if not isinstance(actions, dict):
        raise ValueError(f"pii_policy must map entity types to {' | '.join(PII_ACTIONS)}, got {actions!r}")
    if not isinstance(patterns, list) or not isinstance(values, list):
        raise ValueError("pii_allow_patterns and pii_allow_values must be lists of strings")
    return make_policy(actions, patterns, values)
