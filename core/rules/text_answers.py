"""Open text answers: what a voter may type, the one moderation key, and the block lists.

Pure functions (the shipped lists and Unicode's confusables are read once, from
core/rules/blocklists/ and core/rules/confusables/). An answer is kept as typed
(`typed_answer`: one Unicode form, runs of spaces one space) and shown that way;
everything that judges it (the block lists, the presenter's hiding, which answers
count together) compares `moderation_key`s, so look-alikes of one answer are one:

- NFKC (fullwidth and other compatibility forms are their plain letters);
- capitals of other scripts drawn as Latin capitals are those capitals (Cyrillic В,
  Greek Β are B), then case folded;
- Unicode's confusable skeleton (UTS #39: Cyrillic а is a, "m" and "rn" are one),
  except that digits stay digits: "10" and "lo" are different answers;
- without format characters (zero-width space, soft hyphen, joiners), controls and
  combining marks (accents: "pédé" is "pede"), and letters that draw nothing;
- without the punctuation between letters ("b.a.d", "bad-word") and the sentence
  punctuation and quotes around the answer ("Boring!" is "boring"; "C#" and "C++"
  keep theirs), and a word spelled out in single letters ("b a d") is one word.

Two answers count together when their keys are equal: "Great talk", " great
TALK " and "GREAT TALK" are one answer, shown in the spelling given most.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path

MAX_TEXT_LENGTH = 60
# Marks stacked on one letter: Vietnamese, Thai, Hebrew and Arabic use up to 3 or 4;
# more is drawing over the neighbouring rows of the results.
MAX_STACKED_MARKS = 4
# Up to this many words an answer is drawn in the word cloud; longer ones are listed.
CLOUD_WORDS = 3
BLOCKLIST_LANGUAGES = ("en", "de", "es", "fr", "ar")
# Characters that reorder what follows them (embeddings, overrides, isolates): an
# answer holding one can show a word backwards, so it is refused, not cleaned.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters that draw nothing (Hangul fillers): not format characters, so named here.
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
_LEFT_OUT = frozenset({"Cf", "Cc", "Mn", "Me"})
# Around an answer: what ends or quotes a sentence, in the blocklists' scripts and CJK.
_AROUND = ".,!?;:…¡¿。、！？，；：،؛؟\"'“”‘’«»„"
_WORD = re.compile(r"\w+")
_HERE = Path(__file__).parent
_BLOCKLISTS = _HERE / "blocklists"
_CONFUSABLES = _HERE / "confusables" / "confusables.txt"


def typed_answer(text: str) -> str:
    """The answer as the voter typed it: NFC, every run of whitespace one space, no
    space around. What is stored, shown, and counted against MAX_TEXT_LENGTH (code
    points, as the form's counter)."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def answer_refusal(typed: str, max_length: int = MAX_TEXT_LENGTH) -> str | None:
    """Why a typed answer (`typed_answer`) is refused, or None if it may be queued.
    `max_length`: the code points it may hold (an audience's question takes more)."""
    if not 1 <= len(typed) <= max_length:
        return f"an answer of 1 to {max_length} characters"
    stacked = 0
    for char in typed:
        if unicodedata.category(char) == "Cc":
            return "control characters are not accepted"
        if char in BIDI_CONTROLS:
            return "characters that change the text's direction are not accepted"
        stacked = stacked + 1 if unicodedata.category(char) in ("Mn", "Me") else 0
        if stacked > MAX_STACKED_MARKS:
            return f"at most {MAX_STACKED_MARKS} accents or marks on one letter"
    if not moderation_key(typed):
        return "an answer needs a letter, a digit or a sign that shows"
    return None


@functools.lru_cache(maxsize=8192)
def moderation_key(text: str) -> str:
    """The key every moderation decision compares (see the module's docstring).

    A fixed point: the key of a key is itself, so a counter's text (a key) is judged
    as the answer it counts."""
    text = unicodedata.normalize("NFKC", text).translate(_latin_capitals())
    key = text
    for _ in range(4):  # case folding and the skeleton feed each other: until stable
        folded = _skeleton(key.casefold()).casefold()
        folded = "".join(c for c in folded if c not in BLANK_LETTERS
                         and unicodedata.category(c) not in _LEFT_OUT)  # fmt: skip
        if folded == key:
            break
        key = folded
    # An answer of punctuation alone ("?") keeps it: it is an answer too.
    words = [_without_inner_punctuation(w) for w in (key.strip(_AROUND) or key).split()]
    return " ".join(_spelled_out_joined(words))


def _skeleton(text: str) -> str:
    """UTS #39's skeleton: NFD, each character its confusable prototype, NFD again."""
    mapped = unicodedata.normalize("NFD", text).translate(_prototypes())
    return unicodedata.normalize("NFD", mapped)


@functools.cache
def _prototypes() -> dict[int, str]:
    """confusables.txt (Unicode's, vendored with its licence) as a translate table:
    source -> prototype, digits left out (a number is an answer of its own)."""
    table: dict[int, str] = {}
    for line in _CONFUSABLES.read_text(encoding="utf-8-sig").splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) < 2:
            continue
        source = chr(int(fields[0], 16))
        if not source.isdigit():
            table[ord(source)] = "".join(chr(int(code, 16)) for code in fields[1].split())
    return table


@functools.cache
def _latin_capitals() -> dict[int, str]:
    """Capitals of other scripts whose prototype is a Latin capital (Cyrillic В, Greek Β):
    case folding first would make them letters that look like no Latin one (в, β)."""
    return {
        source: target
        for source, target in _prototypes().items()
        if source > 0x7F and chr(source).isupper() and target.isascii()
        and target.isalpha() and target.isupper()
    }  # fmt: skip


def _without_inner_punctuation(word: str) -> str:
    """A word without the punctuation and symbols between two of its letters."""
    kept, pending = [], []
    for char in word:
        if unicodedata.category(char)[0] == "P" or unicodedata.category(char) in ("Sm", "Sk"):
            pending.append(char)
            continue
        if pending and not (kept and kept[-1].isalpha() and char.isalpha()):
            kept += pending
        pending = []
        kept.append(char)
    return "".join(kept + pending)


def _spelled_out_joined(words: list[str]) -> list[str]:
    """Three or more one-letter words in a row are one word: "b a d" is "bad"."""
    joined: list[str] = []
    run: list[str] = []
    for word in [*words, ""]:
        if len(word) == 1 and word.isalpha():
            run.append(word)
            continue
        joined += ["".join(run)] if len(run) >= 3 else run
        run = []
        if word:
            joined.append(word)
    return joined


@functools.cache
def shipped_blocklist() -> frozenset[str]:
    """Every shipped language's list at once, as moderation keys: an audience answers
    in any language."""
    words: set[str] = set()
    for language in BLOCKLIST_LANGUAGES:
        for line in (_BLOCKLISTS / f"{language}.txt").read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                words.add(moderation_key(line))
    return frozenset(words - {""})


def is_blocked(answer: str, extra: list[str] | tuple[str, ...] = ()) -> bool:
    """Is `answer` blocked: its whole key, or any word of it, on the shipped lists or the
    topic's own `extra` entries, compared as moderation keys?"""
    return blocker(extra)(answer)


def blocker(extra: list[str] | tuple[str, ...] = ()):
    """`is_blocked` for many answers of one topic: the lists are joined once."""
    return _blocker(tuple(extra))


# A topic's results read tests the same top answers against the same lists on every
# read: one test per list and answer, kept (bounded) for the next reads.
@functools.lru_cache(maxsize=256)
def _blocker(extra: tuple[str, ...]):
    blocked = shipped_blocklist() | {moderation_key(entry) for entry in extra} - {""}
    phrases = [entry for entry in blocked if " " in entry]
    return functools.lru_cache(maxsize=4096)(
        lambda answer: _blocked_by(moderation_key(answer), blocked, phrases)
    )


def _blocked_by(key: str, blocked: frozenset[str], phrases: list[str]) -> bool:
    # Words without the punctuation around them ("merde!" is "merde"); a phrase
    # entry matches a run of whole words ("ابن الكلب" inside a longer answer).
    words = _WORD.findall(key)
    padded = f" {' '.join(words)} "
    return (
        key in blocked
        or any(word in blocked for word in words)
        or any(f" {phrase} " in padded for phrase in phrases)
    )


def in_cloud(answer: str) -> bool:
    """Short answers (1-3 words) make the word cloud; longer ones are listed."""
    return len(answer.split(" ")) <= CLOUD_WORDS
