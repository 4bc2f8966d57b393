"""Open text answers: one normal form, and the block lists that keep answers off the screen.

Pure functions (the shipped lists are read once, from core/blocklists/). Two
answers count together when their normal forms are equal: "Great talk",
" great   TALK " and "GREAT TALK" are one answer.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path

MAX_TEXT_LENGTH = 60
# Up to this many words an answer is drawn in the word cloud; longer ones are listed.
CLOUD_WORDS = 3
BLOCKLIST_LANGUAGES = ("en", "de", "es", "fr", "ar")
_WORD = re.compile(r"\w+")
_BLOCKLISTS = Path(__file__).with_name("blocklists")


def normalize_text(text: str) -> str:
    """NFC, every run of whitespace one space, no space around, case folded."""
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


@functools.cache
def shipped_blocklist() -> frozenset[str]:
    """Every shipped language's list at once: an audience answers in any language."""
    words: set[str] = set()
    for language in BLOCKLIST_LANGUAGES:
        for line in (_BLOCKLISTS / f"{language}.txt").read_text(encoding="utf-8").splitlines():
            entry = normalize_text(line)
            if entry and not entry.startswith("#"):
                words.add(entry)
    return frozenset(words)


def is_blocked(answer: str, extra: list[str] | tuple[str, ...] = ()) -> bool:
    """Is the normalized `answer` blocked: the whole answer, or any of its words,
    on the shipped lists or the topic's own `extra` entries?"""
    return blocker(extra)(answer)


def blocker(extra: list[str] | tuple[str, ...] = ()):
    """`is_blocked` for many answers of one topic: the lists are joined once."""
    return _blocker(tuple(extra))


# A topic's results read tests the same top answers against the same lists on every
# read: one test per list and answer, kept (bounded) for the next reads.
@functools.lru_cache(maxsize=256)
def _blocker(extra: tuple[str, ...]):
    blocked = shipped_blocklist() | {normalize_text(entry) for entry in extra}
    phrases = [entry for entry in blocked if " " in entry]
    return functools.lru_cache(maxsize=4096)(
        lambda answer: _blocked_by(answer, blocked, phrases)
    )


def _blocked_by(answer: str, blocked: frozenset[str], phrases: list[str]) -> bool:
    # Words without the punctuation around them ("merde!" is "merde"); a phrase
    # entry matches a run of whole words ("ابن الكلب" inside a longer answer).
    words = _WORD.findall(answer)
    padded = f" {' '.join(words)} "
    return (
        answer in blocked
        or any(word in blocked for word in words)
        or any(f" {phrase} " in padded for phrase in phrases)
    )


def in_cloud(answer: str) -> bool:
    """Short answers (1-3 words) make the word cloud; longer ones are listed."""
    return len(answer.split(" ")) <= CLOUD_WORDS
