"""When is the turn over? The silence timer, told how long to run by what is known about the words so far.

Two hints, each cheap, each wrong in its own way:
- the smart-turn model hears whether the speech *sounds* finished (falling pitch, a complete phrase);
  it is fooled by a hesitant speaker who pauses after a word that can end a sentence ("why do cats …").
- the early transcript (listen's early start, at the first short pause) shows whether the words *read*
  unfinished: a sentence does not end on "the", "of", "called", "um", or on "why do cats" with no verb.
Ends at once when the model hears a finished sentence and the words agree; waits long
(`vad.smart_turn_max_silence_ms`) when either says unfinished, except for a question the words show whole (its
question mark) that the model hears unfinished: that one waits the plain `vad.silence_ms`, as does anything else.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable

import numpy as np

from voiceloop.config import VadConfig

Spoken = Callable[[], np.ndarray]
Heard = Callable[[], str | None]
"""The transcript of the utterance so far, once it is known (None before)."""

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# words a spoken request does not end on: articles, conjunctions, determiners, fillers, prepositions that
# are rarely left at the end ("what is it for" is fine, "a list of" is not), the words that introduce a name
UNFINISHED_LAST = _words(
    """a an the and or but nor because if that whose whether of into onto than my your his her its our their
    these those some any every each many much few um uh er erm hmm uhm called named titled saying dot underscore"""
)
COMMAND_VERBS = _words("create make write summarize summarise add tell explain edit change open show give name append")
QUESTION_WORDS = _words("what why how where when who which")
DO = _words("do does did")
# prepositions a request ends on only when it is a question about where/what/who ("what is it for?"); after a
# command they wait for their object ("write a haiku about …", "add a line to …"); "in"/"on" end commands
# too often ("carry on", "log in") to be counted
OBJECT_PREPOSITIONS = _words("about to for with from at by like between")
THINGS_NAMED = _words("file folder script document")  # "make an empty file name …" is "file named", misheard


def sounds_unfinished(text: str) -> bool:
    """True when the words so far cannot be the whole request (the speaker is mid-sentence)."""
    words = _WORD.findall(text.lower().replace("…", " "))
    if not words:
        return False
    last = words[-1]
    if last in UNFINISHED_LAST or text.rstrip().endswith(("...", "…", ",", "-")):
        return True
    if len(words) == 1 and difflib.get_close_matches(last, COMMAND_VERBS, n=1, cutoff=0.8):
        return True  # "Summarize" … what? (also as first heard: "Sumerize")
    if len(words) >= 2 and words[-2] in ("the", "a", "an") and last.endswith("est"):  # "the tallest" … what?
        return True
    asking = words[0].split("'")[0] in QUESTION_WORDS  # "what's" asks too
    if len(words) >= 3 and last in QUESTION_WORDS:  # "can you explain what" … what?
        return True
    if len(words) >= 2 and last in OBJECT_PREPOSITIONS and (last == "between" or not asking):
        return True
    if len(words) >= 2 and last == "name" and words[-2] in THINGS_NAMED:
        return True
    return len(words) == 3 and words[0] in QUESTION_WORDS and words[1] in DO  # "why do cats" … do what?


def reads_asked(text: str) -> bool:
    """A whole question as the words read: Whisper wrote it with its question mark, and nothing in it reads cut
    off (sounds_unfinished). Smart turn hears a flat or slow question's end as a pause ("why is the sky blue?")."""
    return text.rstrip().endswith("?") and not sounds_unfinished(text)


class EndPolicy:
    """How much silence ends the utterance in progress, asked by the Segmenter on every silent frame."""

    def __init__(self, cfg: VadConfig, probability: Callable[[np.ndarray], float] | None = None) -> None:
        self.cfg = cfg
        self.probability = probability
        """The smart-turn model (0..1 that the speech sounds finished), or None without it."""
        self.heard: Heard | None = None
        """Set by listen when early start transcribes at the first pause; None: decide without words."""
        self.threshold = 0.5
        self._key: object = None
        self._p: float | None = None
        self.asked = 0
        """Times the model was run."""

    def silence_needed_ms(self, spoken: Spoken, silence_ms: int, key: object) -> int:
        """Silence (ms) after which this utterance ends, given what is known now; `key` changes whenever
        more speech arrived, so the model is run once per pause, not once per frame."""
        cfg = self.cfg
        longest = max(cfg.silence_ms, cfg.smart_turn_max_silence_ms) if self.probability else cfg.silence_ms
        text = self.heard() if self.heard is not None else None
        if text and sounds_unfinished(text):
            return max(longest, cfg.smart_turn_max_silence_ms)
        if self.probability is None or silence_ms < cfg.smart_turn_ask_ms:
            return cfg.silence_ms if self.probability is None else longest
        if key != self._key:
            self._key, self._p = key, self.probability(spoken())
            self.asked += 1
        assert self._p is not None
        if self._p < self.threshold:  # sounds unfinished: a question that reads whole waits the plain timer only
            return cfg.silence_ms if text and reads_asked(text) else cfg.smart_turn_max_silence_ms
        if self.heard is not None and not text:  # sounds finished; end once the words agree (or the timer)
            return cfg.silence_ms
        return silence_ms
