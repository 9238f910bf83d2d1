"""Rankings of every golden question on every chunking strategy, in every search mode.

One row per question x strategy x mode x rank: the chunks that `python_udfs.search.search` would
return if that strategy were served (vector: exact cosine, keyword: BM25 over chunk_text, title
and section, hybrid: reciprocal rank fusion), with the asker's access groups applied before
ranking. Each ranking goes deep enough to cover 100 documents. `retrieval_metrics` scores them.
"""

import pyarrow as pa

from python_udfs.embedding import embed_texts, effective_model_id, load_model
from python_udfs.evaluation import (
    MODES,
    Question,
    RankingSettings,
    StrategyCorpus,
    corpus_table_name,
    rank_strategy,
)

SCHEMA = pa.schema(
    [
        ("dataset", pa.string()),
        ("question_id", pa.string()),
        ("strategy_id", pa.string()),
        ("model_id", pa.string()),
        ("mode", pa.string()),
        ("rank", pa.int32()),
        ("chunk_id", pa.string()),
        ("document_id", pa.string()),
        ("score", pa.float64()),
    ]
)


def model(dbt, session):
    dbt.config(materialized="table")
    backend = dbt.config.get("embedding_backend")
    model_path = dbt.config.get("embedding_model_path") or None
    model_id = effective_model_id(dbt.config.get("embedding_model_id"), backend)
    settings = RankingSettings(
        candidates=int(dbt.config.get("hybrid_candidates")),
        vector_weight=float(dbt.config.get("hybrid_vector_weight")),
        keyword_weight=float(dbt.config.get("hybrid_keyword_weight")),
        rrf_k=int(dbt.config.get("hybrid_rrf_k")),
    )

    dbt.ref("eval_questions").create_view("docvec_eval_questions", replace=True)
    dbt.ref("chunking_strategies").create_view("docvec_eval_strategies", replace=True)
    dbt.ref("chunks").create_view("docvec_eval_chunks", replace=True)
    dbt.ref("embeddings").create_view("docvec_eval_embeddings", replace=True)
    dbt.ref("documents").create_view("docvec_eval_documents", replace=True)

    rows = session.execute(
        "select dataset, question_id, question, groups from docvec_eval_questions order by question_id"
    ).fetchall()
    strategies = [r[0] for r in session.execute(
        "select strategy_id from docvec_eval_strategies order by strategy_id"
    ).fetchall()]

    columns = {name: [] for name in SCHEMA.names}
    if rows:
        embedder = load_model(model_path, backend)
        vectors = embed_texts(embedder, [r[2] for r in rows])
        by_dataset = {}
        for (dataset, question_id, text, groups), vector in zip(rows, vectors):
            question = Question(str(question_id), text, tuple(groups), tuple(vector.tolist()))
            by_dataset.setdefault(dataset, []).append(question)
        for strategy_id in strategies:
            # What search_index would hold if this strategy were served (see models/marts/search_index.sql).
            select = """
                select c.chunk_id, c.document_id, c.access_groups, c.chunk_text, d.title, c.section,
                       e.embedding
                from docvec_eval_chunks c
                inner join docvec_eval_embeddings e
                    on e.text_sha256 = c.text_sha256 and e.model_id = ?
                inner join docvec_eval_documents d on d.document_id = c.document_id
                where c.strategy_id = ?
                order by c.chunk_id
            """
            name = corpus_table_name(strategy_id)
            with StrategyCorpus(session, select, [model_id, strategy_id], name=name) as corpus:
                for dataset, questions in by_dataset.items():
                    for row in rank_strategy(corpus, questions, dataset=dataset, strategy_id=strategy_id,
                                             model_id=model_id, modes=MODES, settings=settings):
                        for name, value in zip(SCHEMA.names, row):
                            columns[name].append(value)
    for name in ("docvec_eval_questions", "docvec_eval_strategies", "docvec_eval_chunks",
                 "docvec_eval_embeddings", "docvec_eval_documents"):
        session.execute(f"drop view if exists {name}")
    return pa.table(columns, schema=SCHEMA)
