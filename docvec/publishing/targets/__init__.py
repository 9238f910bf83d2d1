"""The external publish targets (var `publish_targets`) by `type`, imported only when used."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from docvec.publishing.targets.base import PublicationStamp, PublishTarget, SyncCounts, TargetError
from python_udfs.configuration.publish_targets import (
    EMBEDDED_TARGET,
    PUBLISH_TARGET_TYPES,
    target_config_problems,
)

TARGET_TYPES = {
    "lancedb": ("docvec.publishing.targets.lancedb_target", "LanceDBTarget"),
    "postgres": ("docvec.publishing.targets.postgres_target", "PostgresTarget"),
}
assert tuple(TARGET_TYPES) == PUBLISH_TARGET_TYPES

__all__ = [
    "EMBEDDED_TARGET",
    "TARGET_TYPES",
    "PublicationStamp",
    "PublishTarget",
    "SyncCounts",
    "TargetError",
    "make_target",
    "target_config_problems",
]


def make_target(config: Mapping[str, Any]) -> PublishTarget:
    """The target of one `publish_targets` entry."""
    problems = target_config_problems([config])
    if problems:
        raise TargetError(problems[0])
    module_name, class_name = TARGET_TYPES[str(config["type"])]
    cls = getattr(importlib.import_module(module_name), class_name)
    options = {key: value for key, value in config.items() if key not in ("name", "type")}
    target: PublishTarget = cls(str(config["name"]), options)
    return target
