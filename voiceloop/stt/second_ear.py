"""A second model's ear on a request that names a file: its beam and the first model's vote on the name.

tiny.en decides the words and when a request ends; where its beam's choice holds one file name and its own beam is
not sure of it (name_vote.sure_of), `stt.names_model` (base) decodes the same clip with a beam too, and
name_vote.choose takes the name both beams hold likeliest. A question, a command that names no file, a name tiny.en
is sure of and a clip too long for the fitted window pay nothing. The model is loaded
with the engine and warmed on a worker, so the first request does not wait for it.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from voiceloop.config import SttConfig
from voiceloop.runtime import spawn
from voiceloop.stt.heard_names import mend
from voiceloop.stt.inflight import RUNNING
from voiceloop.stt.models import cpu_threads, device_and_compute, resolve_ct2
from voiceloop.stt.name_vote import choose, heard_names, sure_of
from voiceloop.stt.short_window import NAMES_BEAM, SAMPLE_RATE, Decoded, beam_short

NAME_SLACK = 6
"""The second model decodes as many tokens as the first model's words up to the end of the name, and this many more
(its name may take more tokens): the words after the name are the first model's, so a dictated create's text is
not decoded twice (w_todo on the acoustic bench: ~1.5 s of base's beam over "with the text buy milk and eggs")."""
WARM_WAIT_S = 10.0
"""A request that comes before the model is warm waits at most this long for it, then goes on without it."""


class SecondEar:
    """stt.names_model, loaded: hear() gives a decode whose file name both models voted on."""

    def __init__(self, model: Any, warm: threading.Event, language: str) -> None:
        self._model, self._warm, self._language = model, warm, language
        self.files: tuple[str, ...] = ()
        """The session's files, newest last (a name among them gets name_vote.SESSION_BONUS)."""
        self.decodes = 0
        """How many requests this model decoded (only those whose one file name the first model is unsure of)."""

    @classmethod
    def load(cls, cfg: SttConfig) -> SecondEar | None:
        """The names model for cfg, or None: off (names_model "" or stt.model itself, repair_names or short_window
        off) or not installed (a request then keeps tiny.en's beam alone)."""
        wanted = cfg.names_model not in ("", cfg.model) and cfg.repair_names and cfg.short_window
        local = resolve_ct2(cfg.names_model) if wanted else None
        if local is None:
            return None
        return cls(*_loaded(str(local), *device_and_compute(cfg.device, cfg.compute_type)), cfg.language)

    def hear(self, audio: np.ndarray, prompt: str, first: Decoded) -> Decoded:
        """first with its file name voted on by both models' beams, when it is the names beam's decode, holds one name
        and the first model is not sure of it; first as it is otherwise."""
        chosen = mend(first.text)
        if not first.second_look or sure_of(chosen, first.beam, self.files) or not self._warm.wait(WARM_WAIT_S):
            return first
        self.decodes += 1
        said = self._model.hf_tokenizer.encode(" " + chosen[: heard_names(chosen)[0].end], add_special_tokens=False)
        with RUNNING.running():
            second = beam_short(
                self._model,
                audio,
                language=self._language,
                prompt=prompt,
                beam_size=NAMES_BEAM,
                max_new=len(said.ids) + NAME_SLACK,
            )
        if second is None:
            return first
        voted = choose(chosen, first.beam, second.beam, self.files)
        return first if voted == chosen else dataclasses.replace(first, text=voted)

    def hint_files(self, files: Sequence[str]) -> None:
        self.files = tuple(files)


@functools.cache
def _loaded(path: str, device: str, compute: str) -> tuple[Any, threading.Event]:
    """The model, loaded once a process (every engine with the same names model shares it), and an event set once
    its warm-up on a worker is done."""
    from faster_whisper import WhisperModel

    model, warm = WhisperModel(path, device=device, compute_type=compute, cpu_threads=cpu_threads()), threading.Event()
    spawn("stt-names-warm-up", _warm_up, model, warm)
    return model, warm


def _warm_up(model: Any, warm: threading.Event) -> None:
    try:
        with RUNNING.running():
            silence = np.zeros(SAMPLE_RATE // 2, np.float32)
            beam_short(model, silence, language="en", prompt="", beam_size=NAMES_BEAM)
    except Exception:  # a failing model fails again, visibly, on the first request that names a file
        pass
    finally:
        warm.set()
