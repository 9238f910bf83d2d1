"""PII/secret redaction: precision/recall on a generated labelled set, throughput on real docs.

    .venv/bin/python -m bench.pii_eval [--seed 20240115] [--per-type 300] [--repeat 3] \
        [--sample 15] [--out bench/results/pii_eval.json] [--presidio]

1. A labelled set is generated (seeded ``random.Random``; the same generator backs
   tests/python/test_redaction.py): planted values of every entity type in varied formats and
   contexts, mixed with filler prose and look-alikes that must survive untouched (versions,
   dates, ISBNs, order ids, UUIDs, hex colours, git SHAs, PowerShell parameters, ports, times,
   amounts, invalid phone numbers, SSNs and IPs, Luhn-invalid cards, bad-checksum IBANs, ...).
   A finding is a true positive only when its type AND span equal a planted value's.
2. ``redact()`` throughput (MB/s, best of --repeat) on every ``*.md`` file of
   /work/shared/datasets/powershell-docs (read as text) and on the SciFact abstracts (plain
   prose), and the number of findings per type on the PowerShell docs with a sample of each
   (a sanity check of false positives on real technical docs). Missing corpora are skipped.

The generator only needs the standard library, so other detectors can be scored on the same set:
``evaluate(detect, docs)`` takes any ``text -> [(entity_type, start, end)]``. ``--presidio`` scores
presidio-analyzer's pattern recognizers (offline, no spaCy model) the same way; presidio is not a
docvec dependency, so run that from a venv that has it (python_udfs/redaction/__init__.py says why).

Modules: ``values`` (planted values per type) and ``generator`` (contexts, look-alikes, the
labelled set) are the generator; ``scorer`` (precision/recall, MB/s), ``corpora``, ``presidio`` and
``__main__`` (the run and its JSON report) use it.
"""

from __future__ import annotations

from .generator import ALL_TYPES, STRUCTURED_TYPES, LabelledDoc, build_labelled_set
from .scorer import Detector, Score, errors, evaluate, throughput

__all__ = [
    "ALL_TYPES",
    "STRUCTURED_TYPES",
    "Detector",
    "LabelledDoc",
    "Score",
    "build_labelled_set",
    "errors",
    "evaluate",
    "throughput",
]
