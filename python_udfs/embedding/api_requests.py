"""Cutting texts into embedding API requests, within the provider's token limits.

There is no offline tokenizer for the provider's models (tiktoken downloads its BPE files on
first use; it is not installed and this machine has no internet), so tokens are bounded, not
counted: `token_bound(text)` is the text's UTF-8 byte count plus TOKEN_BOUND_OVERHEAD. It is an
upper bound for byte-level BPE tokenizers (OpenAI's cl100k/o200k: every token is at least one
byte) and for WordPiece and SentencePiece ones (every token is at least one character, plus
[CLS]/[SEP] or a prefix piece), so a request planned within the limits is never rejected as too
long. It overestimates English text by about 4x, which only makes requests smaller.

An input whose bound exceeds `max_input_tokens` is never sent (a provider would reject or
silently truncate it): `plan_requests` returns it apart, and the caller fails with the text's
hash once every other text is embedded (python_udfs.embedding.api_streaming).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

# Tokens a tokenizer may add to a text besides its own (e.g. [CLS] and [SEP]).
TOKEN_BOUND_OVERHEAD = 2


def token_bound(text: str) -> int:
    """An upper bound of the tokens of `text` for any provider's tokenizer (see the module doc)."""
    return len(text.encode("utf-8", "surrogatepass")) + TOKEN_BOUND_OVERHEAD


@dataclass(frozen=True)
class RequestPlan:
    """`requests`: lists of positions in the texts, each within the limits; `too_long`: the
    positions of texts over `max_input_tokens` (not sent); `bounds`: each text's token bound."""

    requests: list[list[int]]
    too_long: list[int]
    bounds: list[int]

    def tokens(self, request: Sequence[int]) -> int:
        return sum(self.bounds[i] for i in request)


def plan_requests(
    texts: Sequence[str], *, max_input_tokens: int, max_request_tokens: int, max_texts_per_request: int
) -> RequestPlan:
    """Texts in input order, packed greedily into requests of at most `max_texts_per_request`
    texts and `max_request_tokens` (bounded) tokens."""
    if min(max_input_tokens, max_request_tokens, max_texts_per_request) < 1:
        raise ValueError("max_input_tokens, max_request_tokens and max_texts_per_request must be >= 1")
    bounds = [token_bound(t) for t in texts]
    too_long = [i for i, b in enumerate(bounds) if b > max_input_tokens or b > max_request_tokens]
    skipped = set(too_long)
    requests = list(
        _pack((i for i in range(len(texts)) if i not in skipped), bounds, max_request_tokens, max_texts_per_request)
    )
    return RequestPlan(requests, too_long, bounds)


def _pack(positions: Iterator[int], bounds: Sequence[int], max_tokens: int, max_texts: int) -> Iterator[list[int]]:
    current: list[int] = []
    tokens = 0
    for i in positions:
        if current and (len(current) >= max_texts or tokens + bounds[i] > max_tokens):
            yield current
            current, tokens = [], 0
        current.append(i)
        tokens += bounds[i]
    if current:
        yield current
