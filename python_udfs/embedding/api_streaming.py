"""Embedding a build's texts through an API without losing paid work: journal first, then stream.

Two steps (models/marts/embeddings.py runs them in turn):

1. `fill_journal`: for each record batch of (`text_sha256`, `chunk_text`), the texts the journal
   lacks are sent (python_udfs.embedding.api_embedder) and every response is committed to the
   journal as it arrives, with the build's counters (ApiStats) updated. A request that fails for
   good stops the step once the requests in flight have ended: what they brought is kept.
2. `journal_batches`: the vectors of the pending texts are read back from the journal and
   streamed to DuckDB as the embeddings model's output record batches.

So a build killed at any point loses at most its requests in flight; the next build reads the
journal and sends only what is still missing. `api_embedding_batches` runs both steps per record
batch, for `embedding_batches` callers that pass an API embedder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from .api_embedder import ApiEmbedder, InputTooLongError, too_long_message
from .api_stats import ApiStats
from .journal import Journal
from .openai_api import EmbeddingApiError, EmbeddingResponse
from .streaming import Progress, output_schema, vector_batch


@dataclass
class FillResult:
    """`complete`: every pending text was seen (not stopped by a signal); `too_long`: (hash, token
    bound) of the texts over the per-input limit, never sent."""

    complete: bool = True
    too_long: list[tuple[str, int]] = field(default_factory=list)

    def raise_for_too_long(self, embedder: ApiEmbedder) -> None:
        if self.too_long:
            hashes, bounds = zip(*self.too_long)
            raise InputTooLongError(too_long_message(list(hashes), list(bounds), embedder.settings))


def fill_journal(
    batches: Iterable[pa.RecordBatch],
    embedder: ApiEmbedder,
    journal: Journal,
    stats: ApiStats,
    *,
    progress: Progress,
    log: Callable[[str], None],
    stop_reason: Callable[[], str | None] = lambda: None,
) -> FillResult:
    """Send the texts of `batches` that the journal lacks; commit each response to it."""
    result = FillResult()
    for batch in batches:
        if batch.num_rows == 0:
            continue
        hashes = batch.column("text_sha256").to_pylist()
        journal.mark_pending(hashes)
        if not result.complete:
            continue  # stopped: only mark what is still pending
        known = journal.known(hashes)
        stats.texts_from_journal += len(known)
        if known:
            progress.advance(len(known))
        missing = [i for i, h in enumerate(hashes) if h not in known]
        if not missing:
            continue
        texts = batch.column("chunk_text").to_pylist()
        result.complete = _send_missing(
            embedder,
            journal,
            stats,
            [hashes[i] for i in missing],
            [texts[i] for i in missing],
            result,
            progress,
            log,
            stop_reason,
        )
    return result


def _send_missing(
    embedder: ApiEmbedder,
    journal: Journal,
    stats: ApiStats,
    hashes: list[str],
    texts: list[str],
    result: FillResult,
    progress: Progress,
    log: Callable[[str], None],
    stop_reason: Callable[[], str | None],
) -> bool:
    plan = embedder.plan(texts)
    result.too_long.extend((hashes[i], plan.bounds[i]) for i in plan.too_long)

    def commit(rows: list[int], response: EmbeddingResponse) -> None:
        journal.add([hashes[i] for i in rows], response.vectors)
        stats.count_response(len(rows), response.attempts, response.reported_tokens, plan.tokens(rows))
        progress.advance(len(rows))

    def failed(rows: list[int], error: EmbeddingApiError) -> None:
        stats.count_attempts(error.attempts)

    try:
        finished = embedder.send(texts, plan.requests, commit, on_failure=failed, stop_reason=stop_reason)
    except EmbeddingApiError:
        log(
            f"embeddings: a request failed for good after {stats.texts_sent:,} texts embedded this build; "
            f"their vectors are kept in the journal {journal.path}, the next build sends only the others"
        )
        raise
    if not finished:
        log(
            f"embeddings: stopped by {stop_reason()} after {progress.done:,}/{progress.total:,} texts; "
            "the vectors received are kept (journal and this build's rows)"
        )
    return finished


def journal_batches(
    batches: Iterable[pa.RecordBatch],
    journal: Journal,
    *,
    model_id: str,
    dimension: int,
    invocation_id: str | None,
    close: bool = True,
) -> Iterator[pa.RecordBatch]:
    """Output record batches of the pending texts (`text_sha256` of `batches`) that have a vector
    in the journal, in their order; closes the journal at the end when `close`."""
    schema = output_schema(dimension)
    try:
        for batch in batches:
            hashes = batch.column("text_sha256").to_pylist()
            found = journal.vectors(hashes)
            keys = [h for h in hashes if h in found]
            if keys:
                vectors = np.stack([found[h] for h in keys]).astype(np.float32, copy=False)
                yield vector_batch(pa.array(keys, pa.string()), vectors, model_id, invocation_id, schema)
    finally:
        if close:
            journal.close()


def api_embedding_batches(
    batches: Iterable[pa.RecordBatch],
    embedder: ApiEmbedder,
    *,
    model_id: str,
    total: int,
    invocation_id: str | None,
    log: Callable[[str], None],
    stop_reason: Callable[[], str | None],
    stats: ApiStats | None = None,
) -> Iterator[pa.RecordBatch]:
    """`embedding_batches` for an API embedder: journal then stream, one record batch at a time."""
    dimension = embedder.get_embedding_dimension()
    stats = stats if stats is not None else ApiStats()
    progress = Progress(total, log)
    log(f"embeddings: {total:,} texts to embed with {model_id} ({dimension}-d) through {embedder.settings.endpoint}")
    with Journal.for_model(model_id, dimension) as journal:
        for batch in batches:
            result = fill_journal(
                [batch], embedder, journal, stats, progress=progress, log=log, stop_reason=stop_reason
            )
            result.raise_for_too_long(embedder)
            yield from journal_batches(
                [batch], journal, model_id=model_id, dimension=dimension, invocation_id=invocation_id, close=False
            )
            if not result.complete:
                return
