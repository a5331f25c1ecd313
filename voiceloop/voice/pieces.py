"""Where spoken text is cut: into sentences, and a reply's first sentence into two parts, so that its first part
can be spoken while the model is still writing the rest (at a clause mark, or before a joining word or the verb
after a long subject)."""

from __future__ import annotations

import functools
import re

from voiceloop.vocabulary import phrase_set, phrases

SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_CLAUSE_END = re.compile(r"[,;:](?=\s)")  # "1,000" is not a clause end
FIRST_CLAUSE_WORDS = 4  # the first clause of a reply is spoken on its own once it has this many words ("The sky is
# blue, | because ..."; at 5 a short answer's first sentence waited for its full stop, ~8 tokens more on the 0.5B
# model; fewer would let "so" and "that" that join nothing cut "The water is, | so hot")
PAUSE = ","  # what a first part cut before a joining word is voiced with: a pause that goes on, not a stop


@functools.cache
def _words(name: str) -> re.Pattern[str]:
    """Any phrase of the list `name` (phrase_joint, phrase_verb), whole: a space on either side."""
    words = "|".join(re.escape(w) for w in phrases(name))
    return re.compile(rf"\s(?:{words})\s", re.IGNORECASE)


def subject_end(text: str) -> re.Match[str] | None:
    """The sentence's first verb of being, having or may ("is", "has", "could"), whole, when the words before it are
    a subject of FIRST_CLAUSE_WORDS words or more ("The capital of France | is Paris."): a one-sentence answer with
    no comma or joining word pauses there. None when the first such verb comes sooner ("The sky is blue"), or
    after a pronoun ("One of the things you | can ...": no subject of its own)."""
    m = _words("phrase_verb").search(text)
    if m is None:
        return None
    before = text[: m.start()].split()
    if len(before) < FIRST_CLAUSE_WORDS or before[-1].lower().strip("\"'") in phrase_set("phrase_not_subject"):
        return None
    return m


def first_joint(text: str) -> re.Match[str] | None:
    """Where a reply's first sentence may pause before its full stop: the first joining word in text (" where ",
    " because ": whole, the space after it has come) with at least FIRST_CLAUSE_WORDS words before it, or the
    subject's end before its verb (subject_end), whichever comes first. The match starts at the space before the
    word that goes with the rest and ends after the space that follows that word."""
    verb = subject_end(text)
    for m in _words("phrase_joint").finditer(text):
        if verb is not None and verb.start() < m.start():
            break
        if len(text[: m.start()].split()) >= FIRST_CLAUSE_WORDS:
            return m
    return verb


def first_piece(text: str) -> tuple[int, int, bool] | None:
    """Where the first part of an unfinished first sentence ends: (its end, where the rest starts, whether it is
    voiced with PAUSE), at its first clause mark or first_joint that FIRST_CLAUSE_WORDS words come before; None
    when it has neither yet."""
    clause = next((m for m in _CLAUSE_END.finditer(text) if len(text[: m.end()].split()) >= FIRST_CLAUSE_WORDS), None)
    joint = first_joint(text)
    if joint is not None and (clause is None or joint.start() < clause.start()):
        return joint.start(), joint.start(), True
    if clause is not None:
        return clause.end(), clause.end(), False
    return None


def split_sentences(text: str) -> list[str]:
    """Sentences to synthesize one at a time, so the first can play while the rest are made."""
    return [s.strip() for s in SENTENCE_END.split(text) if s and s.strip()]
