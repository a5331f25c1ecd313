"""A file name chosen by two Whisper models' beams together, not by one model's best guess.

tiny.en and base mishear names in different ways: tiny.en hears "travel-nash-land.md" and "whether dot pi" where base
hears travel-plan.mb and weather.py, base hears "palindrom.py" and "fizbiz.py" where tiny hears "valentromes" and
"thizbus". Each beam's five hypotheses, as shares of that model's belief (a softmax of their total log-probability),
vote for the names in them; the name with the most votes over both models is the one said. A name from the
session's files (the ones Whisper's prompt already holds) gets SESSION_BONUS: a file just made is the likeliest
to be pointed at again. The words around the name stay those of the first model's choice: only the name is
replaced, so base's "Find a hello world script" for "Write ..." never reaches the command.

Names are compared as written after heard_names.mend, lower case: "whether dot pi", "Whether.py" and "whether.py"
are one vote. Measured on the spoken eval and held-out sets (README).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from voiceloop.stt.heard_names import extensions, mend
from voiceloop.vocabulary import phrases, table

SECOND_WEIGHT = 1.5
"""The second model's votes count this much more than the first's (base hears more than tiny.en does)."""
SESSION_BONUS = 0.5
"""Added to the votes of a name the session already has (a share of one model's whole belief)."""
SURE = 0.9
"""A name the first model's own beam gives this much of its belief is not asked of the second (sure_of)."""


@dataclass(frozen=True)
class Beam:
    """One model's hypotheses for one utterance, best first."""

    texts: tuple[str, ...]
    logprobs: tuple[float, ...]
    """Each hypothesis's total log-probability (mean per token times tokens)."""

    def shares(self) -> list[float]:
        """How much of the model's belief each hypothesis holds (they add up to 1)."""
        if not self.logprobs:
            return []
        top = max(self.logprobs)
        weights = [math.exp(lp - top) for lp in self.logprobs]
        return [w / sum(weights) for w in weights]


@dataclass(frozen=True)
class HeardName:
    """A file name in a transcript: where it is written, and as what."""

    start: int
    end: int
    name: str
    """Lower case, spoken marks written ("shopping underscore list.txt" -> shopping_list.txt)."""


@functools.cache
def _name_pattern() -> re.Pattern[str]:
    marks = "|".join(re.escape(m) for m in table("spoken_marks") if m != "dot")
    part = r"[A-Za-z0-9][\w-]*"
    return re.compile(
        rf"(?<![\w.])((?:{part},?\s+(?:{marks})\s+)*{part})(?:\.|\s+dot\s+)([A-Za-z][A-Za-z0-9]{{0,4}})(?![\w-]|\.\w)",
        re.I,
    )


def heard_names(text: str) -> list[HeardName]:
    """The file names in text (mended first: see heard_names.mend) with a known extension, in order."""
    marks, glued = table("spoken_marks"), phrases("called")
    out = []
    for m in _name_pattern().finditer(text):
        ext = table("extensions").get(m[2].lower(), m[2].lower())
        if ext not in extensions():
            continue
        words = m[1].lower().replace(",", " ").split()
        stem = "".join(marks.get(w, w) for w in words)
        for word in glued:  # Whisper glues "called" to the name: "calledsons.txt"
            if stem.startswith(word) and len(stem) > len(word) + 1:
                stem = stem[len(word) :]
        out.append(HeardName(m.start(), m.end(), f"{stem}.{ext}"))
    return out


def votes(beams: Sequence[tuple[Beam, float]], session: Sequence[str] = ()) -> dict[str, float]:
    """Each name's votes: the shares of the hypotheses that hold it, times their model's weight, each name once a
    hypothesis; SESSION_BONUS more for a session file's name."""
    out: dict[str, float] = {}
    for beam, weight in beams:
        for text, share in zip(beam.texts, beam.shares(), strict=True):
            for name in {n.name for n in heard_names(mend(text)) if n.start > 0}:  # see choose()
                out[name] = out.get(name, 0.0) + weight * share
    known = {s.lower() for s in session}
    return {name: v + SESSION_BONUS * (name in known) for name, v in out.items()}


def sure_of(chosen: str, first: Beam, session: Sequence[str] = ()) -> bool:
    """True when the first model's beam alone is sure of chosen's one file name: its hypotheses that hold it have SURE
    of its belief, the name does not start the text (see choose), and it is one of the session's files or the session
    has none (a file made before, heard as a new name, is read or changed in vain: "start.txt" for notes.txt)."""
    held = heard_names(chosen)
    if len(held) != 1 or held[0].start == 0:
        return len(held) != 1
    known = {s.lower() for s in session}
    return votes([(first, 1.0)]).get(held[0].name, 0.0) >= SURE and (not known or held[0].name in known)


def choose(chosen: str, first: Beam, second: Beam, session: Sequence[str] = ()) -> str:
    """What was said, when chosen (the first model's pick, mended) holds one file name: chosen itself when its name
    has the most votes of both beams (votes); else the first beam's likeliest hypothesis whose one name is the
    winner, mended; else chosen with the winner written in its name's place.

    A text that starts with its file name lost its request's first words into the name ("RemiNotes.txt." for "read
    me notes dot txt", "Renotes.txt to me"): a name that starts its hypothesis gets no vote, and the winner is
    written in its place in any case."""
    held = heard_names(chosen)
    if len(held) != 1:
        return chosen  # no name to mend, or two ("a.txt and b.txt"): each one's votes would mix
    tally = votes([(first, 1.0), (second, SECOND_WEIGHT)], session)
    best = max(tally, key=lambda n: (tally[n], n == held[0].name), default=held[0].name)
    if best == held[0].name and held[0].start > 0:
        return chosen
    for text in map(mend, first.texts):  # the second beam's stop soon after the name (second_ear.NAME_SLACK)
        if [(n.name, n.start > 0) for n in heard_names(text)] == [(best, True)]:
            return text
    return chosen[: held[0].start] + best + chosen[held[0].end :]
