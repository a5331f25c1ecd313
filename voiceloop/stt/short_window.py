"""Whisper on the utterance's own length instead of its 30 s window.

faster-whisper pads every clip to Whisper's 30 s window (3,000 mel frames) before the encoder, so a 3 s
question pays for 30 s of encoder and of cross-attention in every decoded token: about 1 s on a 2-core box.
CTranslate2's encoder takes fewer frames; here it is given the speech plus `PAD_S` of silence, in whole
`STEP_S` steps, and the decoder attends to that alone. The words come out the same on our sets
(`python -m voiceloop.devtools.wer` measures it) at a fraction of the time.

The decoding is faster-whisper's own at temperature 0 (its prompt, suppressed tokens, scores), one greedy or
beam pass, no fallback: what stt/engines.py asked of `transcribe` before.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from voiceloop.stt.heard_names import asks, holds_a_name, names_a_file
from voiceloop.stt.name_vote import Beam

SAMPLE_RATE = 16_000
HOP = 160  # samples per mel frame (10 ms)
ENCODED_HOP = 2 * HOP  # samples per frame of the encoder's output (it halves the mel frames)
WINDOW_FRAMES = 3_000  # Whisper's own window: 30 s
PAD_S = 2.0
"""Silence after the speech, inside the window: the decoder sees where the speech ends. With less (1 s) tiny.en
said some short questions two or three times over; 2 s gave the fewest word errors on our sets."""
MIN_TOKENS_PER_S = 1.2
"""Fewer tokens than this per second of the clip is a decode that stopped early (people say 2-4 words a second;
the clip's own silence at both ends keeps short answers like "Yes." above it)."""
NAMES_BEAM = 5
"""The beam for a request (stt.repair_names): greedy decoding takes the likeliest next token, and a name is where the
likeliest token so often leads astray ("whether dot pi", "count down dot pi", "by.py.net"), and a short command too
("take that Mac" for "take that back"); five hypotheses kept side by side find the words more often (measured in the
README), for one more decode of the encoder output already made (no second encoder pass). A request is anything
that names a file or does not start as a question does (heard_names.asks); questions stay greedy."""
WHOLE_NAME_BONUS = 0.2
"""Added to a beam hypothesis's score (mean log-probability per token) when it holds a whole file name (heard_names.
holds_a_name): of two near-equal hypotheses, "in hello.py" is kept over "in hello." (the end of the name lost)."""
STEP_S = 1.0
"""Windows come in whole steps, so a clip and the same clip a frame longer decode alike."""
MAX_TOKENS_PER_S = 10
MAX_TOKENS_BASE = 12
"""A decode is stopped at MAX_TOKENS_BASE + MAX_TOKENS_PER_S tokens a second of the window's speech: more than anyone
says (5 words a second is fast, ~1.3 tokens a word). A decoder that lost the speech's end says the words over and
over up to the model's own limit: 224 tokens, 1-1.8 s of tiny.en on two cores for warming's 1.1 s look at a
question, beside the early job's transcription (the acoustic bench's "What is a good name for a cat?")."""


@dataclass(frozen=True)
class Decoded:
    """One pass of the decoder over one window."""

    text: str
    tokens: int
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    second_look: bool = False
    """True when this is the names beam's decode (NAMES_BEAM), not the first one."""
    ran_on: bool = False
    """Stopped at max_tokens(): the decoder was saying something over (its text cut off mid-way)."""
    beam: Beam = dataclasses.field(default_factory=lambda: Beam((), ()))
    """Every hypothesis of the decode that is not said over again, with its total log-probability (name_vote)."""

    @property
    def stats(self) -> tuple[int, float, float, float]:
        """(tokens, avg_logprob, no_speech_prob, compression_ratio), as engines.confidence() takes a segment's."""
        return self.tokens, self.avg_logprob, self.no_speech_prob, self.compression_ratio

    def needs_whole_window(self, seconds: float) -> bool:
        """This decode of a `seconds`-long clip is one of the short window's own failures (said over again, letters
        spelled one by one, or stopped early): the whole window decodes the clip again."""
        return self.looped or self.spelled or self.too_short_for(seconds)

    def too_short_for(self, seconds: float) -> bool:
        """Fewer tokens than the speech could hold: a short window's decoder can end at a pause mid-sentence
        ("How many legs does a spider have?" with a pause after "many" came out "How many?")."""
        return self.tokens < MIN_TOKENS_PER_S * seconds

    @property
    def spelled(self) -> bool:
        """Letters said one by one ("n o t e s", "N-O-T-E-S", "w eat h er"): a name being spelled, which a short
        window hears worse on some CPUs (AVX2: two of six spelled names lost, one with the whole window)."""
        return _LONE_LETTER.search(self.text) is not None

    @property
    def looped(self) -> bool:
        """The decoder said something over again: a short window's own failure, decoded again on the whole one."""
        return self.ran_on or repeats(self.text)


def repeats(text: str) -> bool:
    """A sentence said twice in a row ("How do I create a file? How do I create a file?"), or any four words
    three times: people rarely say either in one request, and a decoder that lost the end of the speech does."""
    sentences = [" ".join(_WORD.findall(s.lower())) for s in re.split(r"(?<=[.?!])\s+", text) if s.strip()]
    if any(a and a == b for a, b in itertools.pairwise(sentences)):
        return True
    words = _WORD.findall(text.lower())
    grams = [tuple(words[i : i + 4]) for i in range(len(words) - 3)]
    return any(grams.count(g) >= 3 for g in set(grams))


_WORD = re.compile(r"[a-z0-9']+")
_LONE_LETTER = re.compile(r"(?<![\w'])[b-hj-zB-HJ-Z](?![\w'])")  # any letter alone but "a" and "I"


def max_tokens(samples: int) -> int:
    """The most tokens a decode of speech this long may write (MAX_TOKENS_PER_S)."""
    return MAX_TOKENS_BASE + math.ceil(MAX_TOKENS_PER_S * max(0, samples) / SAMPLE_RATE)


def window_frames(samples: int) -> int | None:
    """Mel frames of the window for a clip this long, or None when it needs Whisper's whole window (or more)."""
    seconds = samples / SAMPLE_RATE + PAD_S
    frames = int(math.ceil(seconds / STEP_S) * STEP_S * SAMPLE_RATE / HOP)
    return frames if frames < WINDOW_FRAMES else None


def transcribe_short(
    model: Any, audio: np.ndarray, *, language: str, prompt: str, beam_size: int, names_beam: int = 0
) -> Decoded | None:
    """Decode float32 16 kHz `audio` with faster-whisper's `model` (a WhisperModel) in a window fitted to it;
    None when the clip is too long for that (the caller uses the whole-window path).

    names_beam > beam_size: a decode whose words name a file (heard_names.names_a_file) or are no question
    (heard_names.asks) is decoded again from the same encoder output with that beam, and the best of its hypotheses
    that is not said over again is the one kept (see NAMES_BEAM, WHOLE_NAME_BONUS)."""
    window = _window(model, audio, language, prompt)
    if window is None:
        return None
    decoded = _decode(model, *window, beam_size)
    if names_beam > beam_size and (names_a_file(decoded.text) or not asks(decoded.text)):
        again = _decode(model, *window, names_beam)
        return dataclasses.replace(again, second_look=True)
    return decoded


def beam_short(
    model: Any, audio: np.ndarray, *, language: str, prompt: str, beam_size: int, max_new: int = 0
) -> Decoded | None:
    """One beam decode of `audio` in its fitted window (None: too long for one), with its hypotheses; with max_new,
    of its first max_new tokens at most."""
    window = _window(model, audio, language, prompt)
    return None if window is None else _decode(model, *window, beam_size, max_new)


def _window(model: Any, audio: np.ndarray, language: str, prompt: str) -> tuple[Any, list[int], Any, list[int]] | None:
    """(encoder output, prompt tokens, tokenizer, suppressed tokens) for audio's fitted window; None: too long."""
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_suppressed_tokens

    frames = window_frames(len(audio))
    if frames is None:
        return None
    features = model.feature_extractor(audio)[:, :frames]  # the extractor adds its own 30 s of silence
    if features.shape[1] < frames:
        features = np.pad(features, ((0, 0), (0, frames - features.shape[1])))
    encoded = model.encode(features)
    multilingual = model.model.is_multilingual
    if multilingual and not language:
        language = model.model.detect_language(encoded)[0][0][0][2:-2]
    tokenizer = Tokenizer(model.hf_tokenizer, multilingual, task="transcribe", language=language or "en")
    previous = tokenizer.encode(" " + prompt.strip()) if prompt else []
    tokens = model.get_prompt(tokenizer, previous, without_timestamps=True)
    return encoded, tokens, tokenizer, list(get_suppressed_tokens(tokenizer, (-1,)) or ())


def _decode(
    model: Any, encoded: Any, tokens: list[int], tokenizer: Any, suppress: list[int], beam: int, max_new: int = 0
) -> Decoded:
    """One decode of the encoded window, stopped at what speech that long can hold (max_tokens: ran_on); with a beam,
    its best hypothesis that is not said over again (one that holds a whole file name given WHOLE_NAME_BONUS)."""
    from faster_whisper.transcribe import get_compression_ratio

    cap = max_tokens(int(encoded.shape[1] * ENCODED_HOP) - int(PAD_S * SAMPLE_RATE))
    cap = min(cap, max_new) if max_new > 0 else cap
    # CTranslate2 writes at most half of max_length, and no more than the prompt leaves of it
    limit = min(model.max_length, max(2 * cap, len(tokens) + cap))

    result = model.model.generate(
        encoded,
        [tokens],
        beam_size=beam,
        num_hypotheses=beam,
        max_length=limit,
        return_scores=True,
        return_no_speech_prob=True,
        suppress_blank=True,
        suppress_tokens=suppress,
    )[0]
    texts = [tokenizer.decode(ids).strip() for ids in result.sequences_ids]
    kept = [n for n, text in enumerate(texts) if not repeats(text)] or [0]
    best = max(kept, key=lambda n: result.scores[n] + WHOLE_NAME_BONUS * holds_a_name(texts[n]))
    ids, text = result.sequences_ids[best], texts[best]
    each = [(n, result.sequences_ids[n]) for n in kept]  # the mean log-probability counts the end token too
    return Decoded(
        text=text,
        tokens=len(ids),
        avg_logprob=result.scores[best] * len(ids) / (len(ids) + 1),
        no_speech_prob=result.no_speech_prob,
        compression_ratio=get_compression_ratio(text),
        ran_on=len(ids) >= cap,
        beam=Beam(tuple(texts[n] for n in kept), tuple(result.scores[n] * (len(ids_n) + 1) for n, ids_n in each)),
    )
