"""Repetition: the sampling penalties sent with spoken answers, and a watcher that notices a stream
going round in circles (the same clause, or the same run of words, again and again).

Small models under greedy-ish sampling fall into loops ("Zephyr then uses the firework to cook the
dragon's teeth, ... the dragon's fur, ... the dragon's feathers, ..."). Penalties make that less likely
where the server honours them; the watcher catches it where it does not, before the loop is read aloud.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from voiceloop.config import AnswerConfig

LONG_NGRAM = 8  # words: a run this long said twice is a loop (natural prose almost never does that)
SHORT_NGRAM = 4  # words: a run this short must come back SHORT_REPEATS times
SHORT_REPEATS = 4
_WORD = re.compile(r"[\w']+")


def penalties(cfg: AnswerConfig) -> dict[str, float]:
    """Ollama-style option names; a 1.0 repeat penalty and 0.0 frequency/presence penalties are left out
    (they are every server's "off"), so a server that rejects unknown fields never sees them."""
    out: dict[str, float] = {}
    if cfg.repeat_penalty != 1.0:
        out["repeat_penalty"] = cfg.repeat_penalty
    if cfg.frequency_penalty:
        out["frequency_penalty"] = cfg.frequency_penalty
    if cfg.presence_penalty:
        out["presence_penalty"] = cfg.presence_penalty
    return out


@dataclass(frozen=True)
class Loop:
    """A repetition found in a stream."""

    phrase: str
    """The run of words that came back (lower case)."""
    times: int
    """How many times it has been seen, the last one included."""
    start: int
    """Character offset (in the text fed so far) where the occurrence that completed the loop begins."""


class RepetitionWatcher:
    """Fed a stream piece by piece; feed() returns a Loop the moment the text starts repeating itself.

    Only complete words count (a word is complete once something that is not part of a word follows it),
    so a token boundary never changes the verdict. Linear in the length of the text.
    """

    def __init__(self) -> None:
        self.text = ""
        self._words: list[str] = []
        self._starts: list[int] = []
        self._scanned = 0
        self._counts: dict[int, Counter[tuple[str, ...]]] = {LONG_NGRAM: Counter(), SHORT_NGRAM: Counter()}
        self.loop: Loop | None = None
        """The first loop found (it stays found)."""

    def feed(self, piece: str) -> Loop | None:
        self.text += piece
        if self.loop is not None:
            return self.loop
        for m in _WORD.finditer(self.text, self._scanned):
            if m.end() == len(self.text):
                break  # the word may go on in the next piece
            self._scanned = m.end()
            self._words.append(m.group().lower())
            self._starts.append(m.start())
            found = self._check()
            if found is not None:
                self.loop = found
                return found
        return None

    def _check(self) -> Loop | None:
        for n, limit in ((LONG_NGRAM, 2), (SHORT_NGRAM, SHORT_REPEATS)):
            if len(self._words) < n:
                continue
            gram = tuple(self._words[-n:])
            self._counts[n][gram] += 1
            if self._counts[n][gram] >= limit:
                return Loop(" ".join(gram), self._counts[n][gram], self._starts[-n])
        return None


def find_loop(text: str) -> Loop | None:
    """The first loop in a finished text, or None (the answer check scores every answer with it)."""
    watcher = RepetitionWatcher()
    return watcher.feed(text + "\n")
