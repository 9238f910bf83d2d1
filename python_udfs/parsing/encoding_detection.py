"""Statistical encoding detection: the candidate decoding whose text is the most plausible wins.

For bytes that are neither valid UTF-8 nor marked (byte-order mark, UTF-16/32 layout, ISO-2022
escapes), every candidate encoding decodes a sample strictly and each distinct text is scored:

    score = MODEL_WEIGHT * model_confidence + prior(encoding) - IMPLAUSIBLE_CHAR_COST * implausible characters

* implausible characters: mojibake, judged by ``text_plausibility``; a decoding whose judged
  characters are less than ``MIN_PLAUSIBILITY`` plausible is not a candidate at all (unless no
  decoding is and too few characters were judged to tell);
* ``model_confidence``: chardet's byte-bigram language models (``chardet.detect_all``), which
  tell apart decodings that all look well formed ("Ýstanbul" or "İstanbul");
* ``prior``: how common the encoding is, so that a tie between windows-1252 and an obsolete
  Baltic, Mac or DOS code page goes to windows-1252.

The candidates are chardet's best plus ``EXTRA_CANDIDATES``. The confidence of the winner is its
softmax share of the scores of all distinct texts: near 1 when no other reading comes close,
about 0.5 when another one is as good.
"""

from __future__ import annotations

import codecs
import math
from dataclasses import dataclass

import chardet

from .text_plausibility import judge

__all__ = ["Detection", "decode_sample", "detect_encoding"]

MODEL_WEIGHT = 20.0  # one score unit per 0.05 of chardet confidence
IMPLAUSIBLE_CHAR_COST = 1.0  # one score unit per implausible character
# A decoding less plausible than this is not text at all (every text of the benchmark reads 1.0
# in its own encoding), once at least MIN_JUDGED_TO_REJECT characters were judged: a few stray
# bytes in ASCII text ("\xff\xfe\xc3\x28" in a sentence) are not enough to call a file non-text.
MIN_PLAUSIBILITY = 0.9
MIN_JUDGED_TO_REJECT = 16
# Bytes looked at: chardet's window and the sample whose plausibility is scored.
DETECTION_WINDOW_BYTES = 65_536
# Candidates scored, best chardet confidence first (plus the multi-byte ones below).
MAX_MODEL_CANDIDATES = 16
# Always tried as well: the East Asian multi-byte encodings (supersets of Shift_JIS, EUC-JP, GBK,
# Big5, EUC-KR), which chardet drops for short inputs, and BOM-less UTF-16 (CJK text in UTF-16
# has too few NUL bytes to be recognised by them).
EXTRA_CANDIDATES = ("cp932", "euc_jis_2004", "gb18030", "big5hkscs", "cp949", "utf-16-le", "utf-16-be")

# Priors in score units. Windows-1252 and its ISO subsets are the commonest legacy encodings;
# then the national code pages in wide use; then obsolete ISO, Mac and DOS pages; then the rest
# (EBCDIC, rare regional pages).
_WESTERN_PRIOR = 0.3
_WESTERN_EURO_PRIOR = 0.25  # ISO-8859-15: Western too, but rarer than windows-1252 and Latin-1
_COMMON_PRIOR = 0.0
_UNCOMMON_PRIOR = -0.5
_RARE_PRIOR = -1.5
_WESTERN = frozenset(("cp1252", "iso8859-1"))
_COMMON = frozenset(
    "cp1250 iso8859-2 cp1251 koi8-r cp1253 iso8859-7 cp1254 iso8859-9 cp1255 iso8859-8 cp1256 cp1257 "
    "cp874 tis-620 cp932 shift_jis shift_jis_2004 euc_jp euc_jis_2004 gb2312 gbk gb18030 big5 big5hkscs "
    "cp949 euc_kr iso2022_jp iso2022_jp_2 iso2022_jp_2004 iso2022_jp_ext iso2022_kr "
    "utf-16-le utf-16-be utf-32-le utf-32-be".split()
)
_UNCOMMON = frozenset(
    "koi8-u iso8859-5 iso8859-13 cp1258 iso8859-16 iso8859-4 iso8859-3 iso8859-10 iso8859-14 iso8859-6 "
    "mac-roman cp437 cp850 cp866 johab".split()
)


@dataclass(frozen=True)
class Detection:
    """The winning decoding of a sample: its encoding (a Python codec name) and confidence."""

    encoding: str
    confidence: float


@dataclass(frozen=True)
class _Scored:
    """One distinct decoded text, the likeliest encoding giving it and its score."""

    encoding: str
    text: str
    score: float


def _prior(encoding: str) -> float:
    """The prior of an encoding, in score units (see the module docstring)."""
    if encoding in _WESTERN:
        return _WESTERN_PRIOR
    if encoding == "iso8859-15":
        return _WESTERN_EURO_PRIOR
    if encoding in _COMMON:
        return _COMMON_PRIOR
    return _UNCOMMON_PRIOR if encoding in _UNCOMMON else _RARE_PRIOR


def _canonical(name: str) -> str | None:
    """Python's canonical codec name, None for an unknown one."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _model_candidates(sample: bytes) -> dict[str, float]:
    """Candidate encodings and chardet's confidence in each (0 for the extras it does not list)."""
    candidates: dict[str, float] = {}
    for result in chardet.detect_all(sample, ignore_threshold=True, prefer_superset=False, compat_names=False):
        name = result["encoding"]
        encoding = _canonical(name) if name else None
        if encoding is not None and encoding not in candidates and len(candidates) < MAX_MODEL_CANDIDATES:
            candidates[encoding] = float(result["confidence"])
    for name in EXTRA_CANDIDATES:
        candidates.setdefault(codecs.lookup(name).name, 0.0)
    return candidates


def decode_sample(sample: bytes, encoding: str, complete: bool) -> str | None:
    """``sample`` decoded strictly; a character cut at the end of an incomplete sample is dropped."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        return str(decoder.decode(sample, final=complete))
    except UnicodeDecodeError:
        return None


def _scored_texts(sample: bytes, complete: bool) -> list[_Scored]:
    """One entry per distinct decoded text, best score first; the likeliest encoding names each text.

    Only plausible decodings (``MIN_PLAUSIBILITY``) compete; when there is none, those with too
    few judged characters to tell (``MIN_JUDGED_TO_REJECT``) do.
    """
    plausible: dict[str, _Scored] = {}
    undecided: dict[str, _Scored] = {}
    for encoding, confidence in _model_candidates(sample).items():
        text = decode_sample(sample, encoding, complete)
        if text is None:
            continue
        judgement = judge(text)
        if judgement.plausibility >= MIN_PLAUSIBILITY:
            best = plausible
        elif judgement.judged < MIN_JUDGED_TO_REJECT:
            best = undecided
        else:
            continue
        score = MODEL_WEIGHT * confidence + _prior(encoding) - IMPLAUSIBLE_CHAR_COST * judgement.implausible
        if text not in best or score > best[text].score:
            best[text] = _Scored(encoding, text, score)
    return sorted((plausible or undecided).values(), key=lambda scored: -scored.score)


def _softmax_share(scores: list[float]) -> float:
    """The first score's share of ``exp(score)`` over all scores."""
    top = scores[0]
    return 1.0 / sum(math.exp(score - top) for score in scores)


def detect_encoding(content: bytes) -> list[Detection]:
    """Candidate encodings for ``content``, most plausible first, each with its confidence.

    Detection looks at the first ``DETECTION_WINDOW_BYTES``; the caller decodes the whole
    content with the first candidate that decodes it strictly. Empty when no decoding reads as
    text (see ``_scored_texts``).
    """
    sample = content[:DETECTION_WINDOW_BYTES]
    ranked = _scored_texts(sample, complete=len(sample) == len(content))
    if not ranked:
        return []
    scores = [scored.score for scored in ranked]
    return [Detection(scored.encoding, _softmax_share(scores[index:])) for index, scored in enumerate(ranked)]
