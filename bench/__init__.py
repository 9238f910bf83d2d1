"""Benchmarks of docvec (`make bench`; see BENCHMARKS.md).

Importing the package sets the offline settings every benchmark needs, before any of them loads
a model: `python -m bench.<name>` runs this first.
"""

import os

for _name, _value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("TOKENIZERS_PARALLELISM", "false")):
    os.environ.setdefault(_name, _value)
