"""Encoding detection: does each legacy or Unicode encoding round-trip exactly through docvec's decoder?

    .venv/bin/python -m bench.encoding_eval [--texts 5] [--prefix-step 9] [--out bench/results/encoding_eval.json]

The texts are bench/encoding_texts.py: prose written for this benchmark, several languages per
encoding family (5 texts per encoding by default, in the languages the encoding is meant for).
Each text is encoded with Python's codec and decoded three ways:

- docvec: ``python_udfs.parsing.encoding.decode_bytes`` (what the pipeline runs);
- charset-normalizer alone: ``from_bytes(data).best()``;
- chardet alone: ``chardet.detect(data)``, decoded with the encoding it names.

A text round-trips when the decoded text equals the original exactly. The table gives, per
encoding, the texts that round-trip with each, and docvec's recorded encoding and confidence.
A second table decodes every prefix of every text (6 characters and up, every ``--prefix-step``
characters): how often docvec is right, and whether it is ever wrong with a confidence at or
above the default ``encoding_min_confidence`` (0.5), i.e. wrong without the warn test noticing.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from bench.encoding_texts import ENCODING_LANGUAGES, TEXTS, UNICODE_LANGUAGES  # noqa: E402
from python_udfs.parsing.results import TextDecodeError  # noqa: E402

MIN_CONFIDENCE = 0.5  # dbt var encoding_min_confidence's default
UNICODE_ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
MIN_PREFIX_CHARS = 6


@dataclass(frozen=True)
class Outcome:
    """One text in one encoding: whether each decoder got it back, and docvec's answer."""

    encoding: str
    language: str
    chars: int
    docvec: bool
    charset_normalizer: bool
    chardet: bool
    detected: str | None
    confidence: float | None


def texts_for(encoding: str, count: int) -> list[tuple[str, str]]:
    """Up to ``count`` (language, text) pairs the encoding can represent, languages taken in turn."""
    languages = UNICODE_LANGUAGES if encoding in UNICODE_ENCODINGS else ENCODING_LANGUAGES[encoding]
    pools = {language: list(TEXTS[language]) for language in languages}
    chosen: list[tuple[str, str]] = []
    while len(chosen) < count and any(pools.values()):
        for language in languages:
            if pools[language] and len(chosen) < count:
                text = pools[language].pop(0)
                try:
                    text.encode(encoding)
                except UnicodeEncodeError:
                    continue
                chosen.append((language, text))
        if encoding in UNICODE_ENCODINGS:
            break  # one text per language
    return chosen


def docvec_decode(data: bytes) -> tuple[str | None, str | None, float | None]:
    """(text, encoding, confidence) from docvec's decoder; Nones when it rejects the bytes."""
    from python_udfs.parsing.encoding import decode_bytes

    try:
        decoded = decode_bytes(data)
    except TextDecodeError:
        return None, None, None
    return decoded.text, decoded.encoding, decoded.confidence


def charset_normalizer_decode(data: bytes) -> str | None:
    """The text of charset-normalizer's best guess, None when it has none."""
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return None if best is None else str(best)


def chardet_decode(data: bytes) -> str | None:
    """``data`` decoded with the encoding chardet names, None when it names none or that fails."""
    import chardet

    name = chardet.detect(data)["encoding"]
    if name is None:
        return None
    try:
        return data.decode(name)
    except (UnicodeDecodeError, LookupError):
        return None


def evaluate(encoding: str, language: str, text: str) -> Outcome:
    """Decode ``text`` written in ``encoding`` with the three decoders."""
    data = text.encode(encoding)
    decoded, detected, confidence = docvec_decode(data)
    return Outcome(
        encoding,
        language,
        len(text),
        decoded == text,
        charset_normalizer_decode(data) == text,
        chardet_decode(data) == text,
        detected,
        None if confidence is None else round(confidence, 3),
    )


PREFIX_KINDS = ("prefixes", "right", "right_flagged", "wrong_flagged", "wrong_confident", "rejected")
BASELINE_KINDS = ("charset_normalizer_right", "chardet_right")


def prefix_outcomes(encoding: str, texts: list[tuple[str, str]], step: int) -> Counter[str]:
    """Counts over the prefixes of ``texts``: docvec's ``PREFIX_KINDS`` and the baselines' right answers.

    docvec is right (of which some flagged: confidence under ``MIN_CONFIDENCE``), wrong but
    flagged, wrong and not flagged, or rejects the bytes. Prefixes of pure ASCII are left
    out: any ASCII-compatible reading is right.
    """
    counts: Counter[str] = Counter()
    for _, text in texts:
        for length in range(MIN_PREFIX_CHARS, len(text), step):
            prefix = text[:length]
            if prefix.isascii():
                continue
            data = prefix.encode(encoding)
            decoded, _, confidence = docvec_decode(data)
            flagged = confidence is not None and confidence < MIN_CONFIDENCE
            counts["prefixes"] += 1
            if decoded is None:
                counts["rejected"] += 1
            elif decoded == prefix:
                counts["right"] += 1
                counts["right_flagged"] += flagged
            else:
                counts["wrong_flagged" if flagged else "wrong_confident"] += 1
            counts["charset_normalizer_right"] += charset_normalizer_decode(data) == prefix
            counts["chardet_right"] += chardet_decode(data) == prefix
    return counts


def markdown_table(headers: list[str], rows: list[list[object]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def round_trip_rows(outcomes: list[Outcome]) -> list[list[object]]:
    """One table row per encoding: round trips per decoder, docvec's encodings and confidences."""
    rows: list[list[object]] = []
    for encoding in dict.fromkeys(o.encoding for o in outcomes):
        mine = [o for o in outcomes if o.encoding == encoding]
        confidences = [o.confidence for o in mine if o.confidence is not None]
        detected = ", ".join(f"{name} ×{n}" for name, n in Counter(str(o.detected) for o in mine).most_common())
        rows.append(
            [
                encoding,
                ", ".join(dict.fromkeys(o.language for o in mine)),
                f"{sum(o.docvec for o in mine)}/{len(mine)}",
                f"{sum(o.charset_normalizer for o in mine)}/{len(mine)}",
                f"{sum(o.chardet for o in mine)}/{len(mine)}",
                detected,
                f"{min(confidences):.2f}" if confidences else "-",
            ]
        )
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line (``--help`` lists it)."""
    parser = argparse.ArgumentParser(prog="python -m bench.encoding_eval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=5, help="texts per legacy encoding (default 5)")
    parser.add_argument("--prefix-step", type=int, default=9, help="characters between decoded prefixes")
    parser.add_argument("--out", default="bench/results/encoding_eval.json")
    return parser.parse_args(argv)


def print_tables(outcomes: list[Outcome], prefixes: dict[str, Counter[str]], step: int) -> None:
    """The two markdown tables (round trips per encoding, prefixes per encoding) and their totals."""
    headers = ["encoding", "languages", "docvec", "charset-normalizer", "chardet", "docvec detected", "min conf."]
    print(markdown_table(headers, round_trip_rows(outcomes)))
    n = len(outcomes)
    print(
        f"\nExact round trips: docvec {sum(o.docvec for o in outcomes)}/{n}, charset-normalizer "
        f"{sum(o.charset_normalizer for o in outcomes)}/{n}, chardet {sum(o.chardet for o in outcomes)}/{n}.\n"
    )
    kinds = PREFIX_KINDS + BASELINE_KINDS
    total = sum(prefixes.values(), Counter[str]())
    prefix_headers = [
        f"encoding (prefixes every {step} chars)", "prefixes", "docvec right", "right, flagged",
        "wrong, flagged", "wrong, not flagged", "rejected", "charset-normalizer right", "chardet right",
    ]  # fmt: skip
    rows = [[encoding, *(counts[kind] for kind in kinds)] for encoding, counts in prefixes.items()]
    print(markdown_table(prefix_headers, [*rows, ["**all**", *(total[kind] for kind in kinds)]]))
    print(f'\n"docvec right" includes "right, flagged"; flagged = confidence < {MIN_CONFIDENCE}.')


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    outcomes: list[Outcome] = []
    prefixes: dict[str, Counter[str]] = {}
    for encoding in [*ENCODING_LANGUAGES, *UNICODE_ENCODINGS]:
        texts = texts_for(encoding, args.texts)
        outcomes += [evaluate(encoding, language, text) for language, text in texts]
        prefixes[encoding] = prefix_outcomes(encoding, texts, args.prefix_step)
    seconds = time.perf_counter() - started
    kinds = PREFIX_KINDS + BASELINE_KINDS
    report = {
        "benchmark": "encoding_eval",
        "command": " ".join([".venv/bin/python -m bench.encoding_eval", *sys.argv[1:]]),
        "versions": {"python": platform.python_version(), **{n: version(n) for n in ("chardet", "charset-normalizer")}},
        "settings": {"texts": args.texts, "prefix_step": args.prefix_step, "min_confidence": MIN_CONFIDENCE},
        "seconds": round(seconds, 2),
        "round_trips": {
            "texts": len(outcomes),
            "docvec": sum(o.docvec for o in outcomes),
            "charset_normalizer": sum(o.charset_normalizer for o in outcomes),
            "chardet": sum(o.chardet for o in outcomes),
        },
        "prefixes": {encoding: {kind: counts[kind] for kind in kinds} for encoding, counts in prefixes.items()},
        "outcomes": [asdict(o) for o in outcomes],
    }
    print_tables(outcomes, prefixes, args.prefix_step)
    print(f"{seconds:.1f} s in all.")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
