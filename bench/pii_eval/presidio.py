"""presidio-analyzer, scored on the same labelled set for comparison (not a docvec dependency)."""

from __future__ import annotations

from .corpora import first_mb, load_powershell_docs, load_scifact
from .generator import LabelledDoc
from .scorer import Detector, evaluate, markdown_table, score_table, scores_json, throughput

PRESIDIO_TYPES = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CREDIT_CARD",
    "US_SSN": "US_SSN",
    "IBAN_CODE": "IBAN",
    "IP_ADDRESS": "IP_ADDRESS",
}


def presidio_detector(engine: str = "noop") -> Detector:
    """presidio-analyzer's pattern recognizers, fully offline.

    The network is switched off for the whole process (any socket connect raises), tldextract
    is given no suffix-list URL (its bundled snapshot only) and the NLP engine loads no model:
    presidio's NoOpNlpEngine (``engine="noop"``) or a blank spaCy pipeline (``"blank-spacy"``).
    Overlaps are resolved like docvec's: highest score, then longest, wins.
    """
    import socket

    def no_network(self, *args, **kwargs):
        raise RuntimeError(f"network access attempted: {args}")

    socket.socket.connect = no_network  # type: ignore[method-assign]
    import spacy
    import tldextract
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine, SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        IpRecognizer,
        PhoneRecognizer,
        UsSsnRecognizer,
    )

    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    class BlankSpacyEngine(SpacyNlpEngine):
        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}

    registry = RecognizerRegistry()
    for recognizer in (EmailRecognizer(), PhoneRecognizer(), CreditCardRecognizer(), UsSsnRecognizer(),
                       IbanRecognizer(), IpRecognizer()):  # fmt: skip
        registry.add_recognizer(recognizer)
    models = [{"lang_code": "en", "model_name": engine}]
    nlp = NoOpNlpEngine(models=models) if engine == "noop" else BlankSpacyEngine(models=models)
    nlp.load()
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])

    def detect(text: str) -> list[tuple[str, int, int]]:
        results = analyzer.analyze(text=text, language="en", entities=list(PRESIDIO_TYPES))
        results.sort(key=lambda r: (-r.score, r.start - r.end))
        kept: list = []
        for r in results:
            if all(r.end <= k.start or k.end <= r.start for k in kept):
                kept.append(r)
        return [(PRESIDIO_TYPES[r.entity_type], r.start, r.end) for r in kept]

    return detect


def run_presidio(docs: list[LabelledDoc], repeat: int) -> dict[str, object]:
    """Score presidio on the labelled set (its six types) and time it on ~1 MB of each corpus."""
    report: dict[str, object] = {}
    corpora = {
        "powershell-docs (*.md)": [t for _, t in load_powershell_docs()],
        "scifact abstracts": load_scifact(),
    }
    for engine in ("noop", "blank-spacy"):
        detect = presidio_detector(engine)
        scores = evaluate(detect, docs, PRESIDIO_TYPES.values())
        print(f"\n## presidio-analyzer ({engine} NLP engine) on the same labelled set\n")
        print(score_table(scores))
        rows, speed = [], {}
        for name, texts in corpora.items():
            if texts:
                result = throughput(first_mb(texts), detect, repeat)
                speed[name] = result
                rows.append([name, result["mb"], result["cpu_seconds"], result["mb_per_s_cpu"]])
        print()
        print(markdown_table(["corpus (first ~1 MB)", "MB", "CPU seconds", "MB/s (CPU)"], rows))
        report[engine] = {
            "scores": scores_json(scores),
            "throughput": speed,
        }
    return report
