"""How plausible a decoded text is: the share of its non-ASCII characters that look like real text.

Mojibake (bytes decoded with the wrong encoding) breaks rules that real text in any language
keeps; each non-ASCII character of a word is judged by them (``_implausible``):

* no control, unassigned, private-use or surrogate character (C0 controls other than
  white space count too, ASCII as they are);
* no symbol between two letters ("zauwa¿yli"), except apostrophes, hyphens and middle dots, and
  CJK punctuation, which has no spaces around it;
* no fraction, currency sign or pilcrow right before a letter ("½uvres", "¶γιο");
* no word mixing scripts, no non-Latin letter in a word with ASCII letters, and no script that is
  only a sprinkle in the text (one "и" in an Italian text is "è" read as windows-1251);
* no capital letter right after a small one ("naĎve");
* no Latin word made almost only of accented letters ("Ïðèâåò" is Russian read as windows-1252);
* no box drawing, no generic currency sign (¤); spacing accents (ˆ ˜ ¨ ´ ¸) alone are half
  suspicious.

Well-formed readings that differ only in which letters they produce ("Ýstanbul", "İstanbul")
are all plausible: telling them apart is the language models' job (``encoding_detection``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

__all__ = ["Judgement", "judge", "plausibility"]

# Non-ASCII characters judged per candidate text, and characters whose letters give the shares of
# the scripts: samples, enough to tell mojibake apart.
MAX_JUDGED_CHARS = 3_000
SCRIPT_SAMPLE_CHARS = 20_000

# A script that holds less than this share of the letters of a text is a sprinkle: one "и" in an
# Italian text is a windows-1251 reading of "è", not Russian.
_MINORITY_SCRIPT_SHARE = 0.1
# A Latin word of at least this many letters with more than this share of accented letters is
# mojibake ("Ïðèâåò" is Russian read as windows-1252).
_DENSE_ACCENT_MIN_LETTERS = 4
_DENSE_ACCENT_SHARE = 0.75
# Marks that may sit between two letters of a word.
_WORD_INTERNAL_MARKS = frozenset("’'‘·-‐")
# Symbols that are only half suspicious on their own (spacing accents: ˆ ˜ ¨ ´ ¸...).
_HALF_IMPLAUSIBLE_CATEGORIES = frozenset(("Sk",))
_UNTEXT_CATEGORIES = frozenset(("Cc", "Cn", "Co", "Cs"))  # not Cf: soft hyphens, ZWNJ, RLM are text
# Fractions, superscripts, currency signs and the pilcrow may follow a letter (m², 5 €) but never
# start a word ("½uvres" is ISO-8859-15 "œuvres" read as Latin-1, "¶γιο" ISO-8859-7 "Άγιο" read
# as windows-1253).
_NEVER_BEFORE_LETTER_CATEGORIES = frozenset(("No", "Sc"))
_NEVER_BEFORE_LETTER = frozenset("¶§")
_BOX_DRAWING = range(0x2500, 0x25A0)
# The generic currency sign is not used in text: it is where ISO-8859-15 has "€", read as Latin-1.
_NOT_IN_TEXT = frozenset("¤")
# Letters whose Unicode name does not start with their script.
_LATIN_SIGNS = frozenset("ªºµ")
_EAST_ASIAN_NAME_PARTS = ("CJK", "HIRAGANA", "KATAKANA", "IDEOGRAPH", "BOPOMOFO", "HANGUL")
_EAST_ASIAN = "EAST_ASIAN"
_LATIN = "LATIN"
_NON_ASCII_WORD = re.compile(r"\S*[^\x00-\x7f]\S*")
_NON_ASCII_LETTER = re.compile(r"[^\W\d_\x00-\x7f]")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_C0_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


@functools.lru_cache(maxsize=65_536)
def _script(char: str) -> str:
    """The script of a non-ASCII letter: LATIN, CYRILLIC, GREEK..., EAST_ASIAN for Han, kana, Hangul."""
    if char in _LATIN_SIGNS:
        return _LATIN
    name = unicodedata.name(char, "")
    if any(part in name for part in _EAST_ASIAN_NAME_PARTS):
        return _EAST_ASIAN
    return name.split(" ", 1)[0]


def _script_shares(text: str) -> dict[str, float]:
    """Share of the letters of ``text`` in each script (ASCII letters count as Latin), from its start."""
    text = text[:SCRIPT_SAMPLE_CHARS]
    counts = Counter(_script(char) for char in _NON_ASCII_LETTER.findall(text))
    counts[_LATIN] += len(_ASCII_LETTER.findall(text))
    total = sum(counts.values()) or 1
    return {script: count / total for script, count in counts.items()}


@dataclass(frozen=True)
class _Word:
    """What the letters of one word say about each of its characters."""

    scripts: frozenset[str]  # of its non-ASCII letters
    has_ascii_letter: bool
    dense_latin: bool  # a Latin word made almost only of accented letters

    @classmethod
    def of(cls, word: str) -> _Word:
        letters = [c for c in word if c.isalpha()]
        accented = [c for c in letters if not c.isascii()]
        scripts = frozenset(_script(c) for c in accented)
        dense = (
            scripts == {_LATIN}
            and len(letters) >= _DENSE_ACCENT_MIN_LETTERS
            and len(accented) > _DENSE_ACCENT_SHARE * len(letters)
        )
        return cls(scripts, len(accented) < len(letters), dense)


def _implausible_letter(word: str, index: int, facts: _Word, shares: dict[str, float]) -> bool:
    """A non-ASCII letter that mojibake would produce, judged by its word and the text."""
    char = word[index]
    script = _script(char)
    if script != _LATIN:
        if shares.get(script, 0.0) < _MINORITY_SCRIPT_SHARE:
            return True
        if script != _EAST_ASIAN and facts.has_ascii_letter:
            return True  # "Firenze" and a Cyrillic letter in one word
    if len(facts.scripts) > 1 or facts.dense_latin:
        return True
    previous = word[index - 1] if index else ""
    return char.isupper() and previous.isalpha() and previous.islower()


def _implausible(word: str, index: int, facts: _Word, shares: dict[str, float]) -> float:
    """How implausible (0, 0.5 or 1) the non-ASCII character ``word[index]`` is."""
    char = word[index]
    category = unicodedata.category(char)
    if category in _UNTEXT_CATEGORIES:
        return 1.0
    if category[0] == "L":
        return 1.0 if _implausible_letter(word, index, facts, shares) else 0.0
    previous = word[index - 1] if index else ""
    following = word[index + 1] if index + 1 < len(word) else ""
    if category == "Mn":  # a combining mark belongs after a letter
        return 0.0 if previous.isalpha() else 1.0
    if char in _WORD_INTERNAL_MARKS:
        return 0.0
    if previous.isalpha() and following.isalpha():
        east_asian = _EAST_ASIAN in (_script(previous), _script(following))
        return 0.0 if east_asian else 1.0  # CJK text puts punctuation between letters, without spaces
    before_letter = category in _NEVER_BEFORE_LETTER_CATEGORIES or char in _NEVER_BEFORE_LETTER
    if ord(char) in _BOX_DRAWING or char in _NOT_IN_TEXT or (before_letter and following.isalpha()):
        return 1.0
    return 0.5 if category in _HALF_IMPLAUSIBLE_CATEGORIES else 0.0


@dataclass(frozen=True)
class Judgement:
    """How many characters of a text were judged and how implausible they were, in sum."""

    judged: int
    implausible: float

    @property
    def plausibility(self) -> float:
        """The plausible share (0..1) of the judged characters; 1.0 when none was judged."""
        return 1.0 - self.implausible / self.judged if self.judged else 1.0


def judge(text: str) -> Judgement:
    """Judge the non-ASCII characters of ``text`` (the first ``MAX_JUDGED_CHARS``) and its controls.

    Control characters other than whitespace are always implausible.
    """
    shares = _script_shares(text)
    controls = len(_C0_CONTROL.findall(text))
    judged = controls
    implausible = float(controls)
    for match in _NON_ASCII_WORD.finditer(text):
        word = match.group()
        facts = _Word.of(word)
        for index, char in enumerate(word):
            if not char.isascii():
                judged += 1
                implausible += _implausible(word, index, facts, shares)
        if judged >= MAX_JUDGED_CHARS:
            break
    return Judgement(judged, implausible)


def plausibility(text: str) -> float:
    """The share (0..1) of the judged characters of ``text`` that look like real text (``judge``)."""
    return judge(text).plausibility
