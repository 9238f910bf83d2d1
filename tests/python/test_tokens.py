"""Tests for python_udfs.tokens: model path resolution, the model's tokenizer and its limits."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from python_udfs import tokens  # noqa: E402
from python_udfs.tokens import (  # noqa: E402
    ModelTokenizer,
    bundled_model_path,
    load_tokenizer,
    resolve_model_path,
)


@pytest.fixture(scope="session")
def tok() -> ModelTokenizer:
    return load_tokenizer()


def model_copy(tmp_path: Path, **configs: dict) -> Path:
    """A model folder holding the bundled tokenizer.json plus the given JSON config files."""
    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copy(bundled_model_path() / "tokenizer.json", folder / "tokenizer.json")
    for name, content in configs.items():
        (folder / f"{name}.json").write_text(json.dumps(content))
    return folder


# ---------------------------------------------------------------------------------------------
# resolve_model_path
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("empty", [None, ""])
def test_empty_model_path_is_the_bundled_model(empty) -> None:
    path = resolve_model_path(empty)
    assert path == bundled_model_path()
    assert (path / "tokenizer.json").is_file()


def test_missing_model_folder_raises_a_helpful_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(FileNotFoundError) as excinfo:
        resolve_model_path(str(missing))
    message = str(excinfo.value)
    assert str(missing) in message
    assert "tokenizer.json" in message
    assert "never downloaded" in message


def test_folder_without_tokenizer_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="tokenizer.json"):
        resolve_model_path(str(tmp_path))
    with pytest.raises(FileNotFoundError):
        load_tokenizer(str(tmp_path))


def test_hub_model_id_is_not_downloaded() -> None:
    # A bare hub id is not a local folder: it must fail instead of reaching for the network.
    with pytest.raises(FileNotFoundError):
        resolve_model_path("sentence-transformers/all-MiniLM-L6-v2-not-here")


def test_home_directory_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = model_copy(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_model_path("~/model") == folder


def test_local_model_folder_is_used(tmp_path: Path) -> None:
    folder = model_copy(tmp_path)
    assert resolve_model_path(str(folder)) == folder


# ---------------------------------------------------------------------------------------------
# load_tokenizer and the maximum sequence length
# ---------------------------------------------------------------------------------------------


def test_bundled_model_limits(tok: ModelTokenizer) -> None:
    assert tok.max_seq_length == 256
    assert tok.n_special_tokens == 2


def test_load_tokenizer_is_cached(tok: ModelTokenizer) -> None:
    # The cache holds a few tokenizers; other tests load temporary model folders, so compare two
    # consecutive calls rather than the module fixture (which may have been evicted since).
    assert load_tokenizer() is load_tokenizer()
    assert load_tokenizer(None) is load_tokenizer(None)
    assert load_tokenizer(None).max_seq_length == tok.max_seq_length


def test_max_seq_length_from_sentence_bert_config(tmp_path: Path) -> None:
    folder = model_copy(
        tmp_path,
        sentence_bert_config={"max_seq_length": 128},
        tokenizer_config={"model_max_length": 512},
    )
    loaded = load_tokenizer(str(folder))
    assert loaded.max_seq_length == 128  # sentence-transformers' own setting wins
    assert loaded.n_special_tokens == 2


def test_max_seq_length_from_tokenizer_config(tmp_path: Path) -> None:
    folder = model_copy(tmp_path, tokenizer_config={"model_max_length": 384})
    assert load_tokenizer(str(folder)).max_seq_length == 384


@pytest.mark.parametrize(
    "configs",
    [
        {},
        # transformers writes a huge sentinel when the limit is unknown
        {"tokenizer_config": {"model_max_length": 1000000000000000019884624838656}},
        {"sentence_bert_config": {"max_seq_length": 0}, "tokenizer_config": {"model_max_length": -1}},
        {"sentence_bert_config": {"max_seq_length": "256"}},
    ],
)
def test_max_seq_length_default(tmp_path: Path, configs: dict) -> None:
    folder = model_copy(tmp_path, **configs)
    assert load_tokenizer(str(folder)).max_seq_length == 512


def test_tokenizer_has_no_truncation_or_padding(tok: ModelTokenizer) -> None:
    long_text = "word " * 2000
    # Counting must see the whole text: truncation at 256 would hide over-long chunks.
    assert tok.count(long_text) == 2000 + 2
    assert tok.count_batch(["a", long_text]) == [3, 2002]


# ---------------------------------------------------------------------------------------------
# count / count_batch / offsets
# ---------------------------------------------------------------------------------------------


SAMPLES = [
    "",
    "hello",
    "Hello, world!",
    "Tokenization of unbelievably antidisestablishmentarian words",
    "naïve café — 東京タワー 😀",
    "line one\nline two\n\n\tTabbed",
]


def test_count_of_empty_text_is_the_special_tokens(tok: ModelTokenizer) -> None:
    assert tok.count("") == 2
    assert tok.count("   \n\t ") == 2
    assert tok.offsets("") == []


@pytest.mark.parametrize("text", SAMPLES)
def test_count_is_word_pieces_plus_special_tokens(tok: ModelTokenizer, text: str) -> None:
    assert tok.count(text) == len(tok.offsets(text)) + tok.n_special_tokens
    raw = tok.tokenizer.encode(text, add_special_tokens=False)
    assert tok.count(text) == len(raw.ids) + 2


def test_count_grows_with_text(tok: ModelTokenizer) -> None:
    assert tok.count("hello") == 3
    assert tok.count("hello hello") == 4
    assert tok.count("hello " * 10) == 12
    # A rare long word is split into several word pieces.
    assert tok.count("antidisestablishmentarianism") > 3


def test_count_batch_matches_count(tok: ModelTokenizer) -> None:
    assert tok.count_batch(SAMPLES) == [tok.count(t) for t in SAMPLES]
    assert tok.count_batch([]) == []


@pytest.mark.parametrize("text", SAMPLES)
def test_offsets_are_ordered_spans_inside_the_text(tok: ModelTokenizer, text: str) -> None:
    offsets = tok.offsets(text)
    previous_end = 0
    for start, end in offsets:
        assert 0 <= previous_end <= start < end <= len(text)
        assert not text[start:end].isspace()
        previous_end = end


@pytest.mark.parametrize("text", SAMPLES)
def test_offsets_cover_every_non_space_character(tok: ModelTokenizer, text: str) -> None:
    covered = set()
    for start, end in tok.offsets(text):
        covered.update(range(start, end))
    assert covered == {i for i, ch in enumerate(text) if not ch.isspace()}


def test_offsets_count_code_points_not_bytes(tok: ModelTokenizer) -> None:
    text = "😀 é 東京 abc"
    spans = [text[s:e] for s, e in tok.offsets(text)]
    assert spans[-1] == "abc"
    assert tok.offsets(text)[-1] == (len(text) - 3, len(text))
    assert "東" in spans and "京" in spans  # CJK characters are tokens of their own


def test_offsets_of_split_word_join_back(tok: ModelTokenizer) -> None:
    word = "antidisestablishmentarianism"
    offsets = tok.offsets(word)
    assert len(offsets) > 1
    assert offsets[0][0] == 0 and offsets[-1][1] == len(word)
    assert all(a[1] == b[0] for a, b in zip(offsets, offsets[1:]))


def test_default_model_id() -> None:
    assert tokens.DEFAULT_MODEL_ID == "all-MiniLM-L6-v2"
