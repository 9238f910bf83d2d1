"""The rule of var `publish_targets`: a list of {name, type, ...} entries, one per external store.

The target types are defined here, once: dbt's configuration check (this room) and the
publisher (docvec.publishing.targets, which maps each type to its class) read the same tuple.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

PUBLISH_TARGET_TYPES = ("lancedb", "postgres")
EMBEDDED_TARGET = "embedded"  # the embedded serving store's name in publish_runs
TARGET_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Keys a target entry may never carry: secrets come from the environment (postgres: dsn_env).
SECRET_KEYS = frozenset({"password", "passwd", "secret", "token", "api_key", "dsn", "conninfo"})


def target_config_problems(configs: object) -> list[str]:
    """What is wrong with a `publish_targets` value, one line per problem."""
    if configs is None:
        return []
    if not isinstance(configs, Sequence) or isinstance(configs, str):
        return [f"publish_targets must be a list of {{name, type, ...}} entries, got {configs!r}"]
    problems: list[str] = []
    names: set[str] = set()
    for position, config in enumerate(configs):
        where = f"publish_targets[{position}]"
        if not isinstance(config, Mapping):
            problems.append(f"{where} must be a mapping with name and type, got {config!r}")
            continue
        name, kind = config.get("name"), config.get("type")
        if not isinstance(name, str) or not TARGET_NAME.match(name) or name == EMBEDDED_TARGET:
            problems.append(
                f"{where}.name must be a lowercase identifier (a-z, 0-9, _), not {EMBEDDED_TARGET!r}, got {name!r}"
            )
        elif name in names:
            problems.append(f"{where}.name {name!r} is used twice")
        else:
            names.add(name)
        if kind not in PUBLISH_TARGET_TYPES:
            problems.append(f"{where}.type must be one of {', '.join(PUBLISH_TARGET_TYPES)}, got {kind!r}")
        secret = sorted(SECRET_KEYS.intersection(str(key).lower() for key in config))
        if secret:
            problems.append(
                f"{where} has {', '.join(secret)}: credentials never go in vars; name an environment variable "
                "instead (dsn_env for postgres)"
            )
    return problems


def publish_targets(value: object) -> str | None:
    """The VAR_RULES rule: None when allowed, else the problems in words."""
    problems = target_config_problems(value)
    return "; ".join(problems) if problems else None
