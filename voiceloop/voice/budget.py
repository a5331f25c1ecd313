"""The answer budget: a spoken answer is a few sentences, cut at a sentence boundary, and never a loop.

An AnswerGuard sits between the LLM stream and whoever speaks it. It passes the text on clause by clause, and
the first sentence up to its first joining word too (so a long first sentence can be spoken in two parts
before its full stop, voice/speech.py), counts finished sentences, and stops
the stream (raising Enough from the token callback, which closes the LLM request) when the budget is
spent, when one sentence runs on without end, or when the RepetitionWatcher sees the text repeating.
Its `said` is exactly the text it passed on, up to the last whole sentence: what is printed, spoken and
remembered.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from enum import Enum

from voiceloop.llm.repetition import LONG_NGRAM, Loop, RepetitionWatcher
from voiceloop.voice.pieces import first_joint

_SENTENCE_END = re.compile(r"[.!?]\s|\n")  # the speech stream's rule: a full stop and a space (passed on too)
_CLAUSE_END = re.compile(r"[,;:]\s")  # passed on with its space: the speech stream knows a clause by it
RUN_ON_WORDS = 60  # a "sentence" this long without a full stop is ended at its last clause
LOOP_NOTE = "I was starting to repeat myself, so I stopped there."
_PLAIN = re.compile(r"[^a-z0-9 ]+")
_LETTER = re.compile(r"[^\W\d_]")  # "1." opening a list item ends no sentence
SAME_SENTENCE = 0.75  # word-sequence similarity above which a continuation's sentence counts as said before


class Cut(str, Enum):
    """Why an answer ended."""

    DONE = "done"  # the model finished by itself
    BUDGET = "budget"  # the sentence budget was spent: there may be more ("tell me more")
    RUN_ON = "run_on"  # one sentence ran past RUN_ON_WORDS words
    LOOP = "loop"  # the stream started repeating itself


class Enough(Exception):
    """Raised from the token callback to stop the LLM stream; carries why."""

    def __init__(self, cut: Cut) -> None:
        super().__init__(cut.value)
        self.cut = cut


def _words(sentence: str) -> list[str]:
    return _PLAIN.sub(" ", sentence.lower()).split()


class AnswerGuard:
    """Budget and loop watch for one streamed answer.

    sentences: the most sentences to pass on. already_said: sentences spoken before (a "tell me more"
    continuation), which are skipped when the model says them again instead of going on.
    """

    def __init__(
        self, sentences: int, on_text: Callable[[str], None] | None = None, already_said: str = ""
    ) -> None:
        self.sentences = sentences
        self.on_text = on_text
        self.cut = Cut.DONE
        self.loop: Loop | None = None
        self.watcher = RepetitionWatcher()
        self._said: list[str] = []  # whole sentences passed on
        self._open = ""  # the unfinished sentence: the part already passed on
        self._held = ""  # received, not yet passed on (waiting for a clause or sentence end)
        self._old = [_words(s) for s in split_said(already_said)]
        old_words = _words(already_said)
        self._old_runs = {tuple(old_words[i : i + LONG_NGRAM]) for i in range(len(old_words) - LONG_NGRAM + 1)}

    @property
    def said(self) -> str:
        """The whole sentences passed on: what the person heard (an unfinished one is not counted)."""
        return " ".join(self._said)

    @property
    def unfinished(self) -> str:
        """Text passed on that is not a whole sentence yet (the caller drops it after a loop)."""
        return self._open

    def feed(self, piece: str) -> None:
        """A piece of the stream; raises Enough when the answer should stop here."""
        loop = self.watcher.feed(piece)
        if loop is not None:  # nothing of this piece is passed on
            self.loop = loop
            self._stop(Cut.LOOP)
        self._held += piece
        while (m := _SENTENCE_END.search(self._held)) is not None:
            self._sentence_done(self._held[: m.end()])
            self._held = self._held[m.end() :]
            if len(self._said) >= self.sentences:
                self._stop(Cut.BUDGET)
        if not self._old:  # pass on whole clauses: the speech stream may speak a long first one early
            ends = [m.end() for m in _CLAUSE_END.finditer(self._held)]
            if ends:
                self._pass_on(ends[-1])
            if not self._said and (joint := first_joint(self._open + self._held)) is not None:
                self._pass_on(joint.end() - len(self._open))  # the joining word and the space after it, whole
        if len((self._open + self._held).split()) > RUN_ON_WORDS:
            if self._open.strip():  # what was passed on of it ends the answer
                self._said.append(self._open.strip())
                self._open = ""
            self._stop(Cut.RUN_ON)

    def _pass_on(self, n: int) -> None:
        """The first n characters held go on now: part of the unfinished sentence, passed on."""
        if n > 0:
            self._give(self._held[:n])
            self._open += self._held[:n]
            self._held = self._held[n:]

    def finish(self) -> None:
        """The stream ended by itself: what is held is the last sentence."""
        rest, self._held = self._held, ""
        if (self._open + rest).strip():
            self._sentence_done(rest)

    def _sentence_done(self, text: str) -> None:
        if not _LETTER.search(self._open + text) and (self._open + text).strip():
            self._give(text)  # a list number: the sentence goes on
            self._open += text
            return
        sentence, self._open = (self._open + text).strip(), ""
        if self._said_before(sentence):  # a continuation saying it again: skip it
            return
        self._give(text)
        if sentence:
            self._said.append(sentence)

    def _said_before(self, sentence: str) -> bool:
        """Nearly the same as a sentence said before, or repeating a long run of its words."""
        words = _words(sentence)
        if any(tuple(words[i : i + LONG_NGRAM]) in self._old_runs for i in range(len(words) - LONG_NGRAM + 1)):
            return True
        return any(difflib.SequenceMatcher(None, words, old).ratio() >= SAME_SENTENCE for old in self._old)

    def _give(self, text: str) -> None:
        if self.on_text is not None and text:
            self.on_text(text)

    def _stop(self, cut: Cut) -> None:
        self.cut = cut
        raise Enough(cut)


def split_said(text: str) -> list[str]:
    """Sentences of something said, counted the way the guard counts them."""
    out: list[str] = []
    carry = ""
    for part in re.split(r"(?<=[.!?])\s+|\n+", text):
        part = f"{carry} {part}".strip()
        carry = "" if _LETTER.search(part) else part
        if part and not carry:
            out.append(part)
    return out + ([carry] if carry else [])
