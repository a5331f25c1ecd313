"""The always-listening loop: mic -> frames -> segmenter -> turn, half-duplex while speaking."""

from __future__ import annotations

import threading
import time
from enum import Enum

import numpy as np
from rich.console import Console

from voiceloop.assistant import Assistant
from voiceloop.audio import SAMPLE_RATE, ms_to_samples
from voiceloop.errors import LLMError, VoiceloopError
from voiceloop.microphone import AudioSource
from voiceloop.ui import print_turn
from voiceloop.vad import Segmenter, SegState

READ_TIMEOUT_S = 0.1  # every wait is bounded so a stop request is seen quickly


class State(Enum):
    LISTENING = "listening"
    HEARING = "hearing"
    THINKING = "transcribing + thinking"


class Listener:
    """Feeds microphone chunks to the segmenter and runs a turn for each utterance."""

    def __init__(self, assistant: Assistant, source: AudioSource, segmenter: Segmenter, console: Console) -> None:
        self.assistant = assistant
        self.source = source
        self.segmenter = segmenter
        self.console = console
        self.stop = threading.Event()
        self.turns = 0
        self._pending = np.zeros(0, dtype=np.int16)
        self._state = State.LISTENING

    def _show(self, state: State) -> None:
        if state is not self._state:
            self._state = state
            self.console.print(f"[dim]● {state.value}[/dim]", highlight=False)

    def run(self, max_turns: int | None = None) -> None:
        frame = self.segmenter.frame_samples
        self.console.print("[bold green]● listening[/bold green] (Ctrl-C to stop)", highlight=False)
        while not self.stop.is_set():
            chunk = self.source.read(READ_TIMEOUT_S)
            if chunk is None:
                if getattr(self.source, "finished", False):  # a recording, not a live mic: it has ended
                    last = self.segmenter.flush()
                    if last is not None:
                        self._turn(last)
                        self.turns += 1
                    return
                continue
            self._pending = np.concatenate([self._pending, chunk])
            while len(self._pending) >= frame and not self.stop.is_set():
                f, self._pending = self._pending[:frame], self._pending[frame:]
                utt = self.segmenter.feed(f)
                if utt is None:
                    self._show(State.HEARING if self.segmenter.state is SegState.SPEECH else State.LISTENING)
                    continue
                self._show(State.THINKING)
                self._turn(utt)
                self.turns += 1
                if max_turns is not None and self.turns >= max_turns:
                    return
                self._show(State.LISTENING)

    def _turn(self, utt: object) -> None:
        try:
            turn = self.assistant.handle(utt)  # type: ignore[arg-type]
            print_turn(self.console, turn)
        except (LLMError, VoiceloopError) as e:
            self.console.print(f"[red]error:[/red] {e} — still listening", highlight=False, soft_wrap=True)
        # half-duplex: whatever the mic caught while we worked and spoke (our own voice) is dropped,
        # and we stay deaf for the echo tail after playback really ended
        self.source.drain()
        tail = ms_to_samples(self.assistant.cfg.vad.echo_tail_ms)
        deadline = time.monotonic() + tail / SAMPLE_RATE + 1.0  # bounded even if the mic stalls
        while tail > 0 and time.monotonic() < deadline and not self.stop.is_set():
            chunk = self.source.read(READ_TIMEOUT_S)
            tail -= len(chunk) if chunk is not None else 0
        self.segmenter.reset()
        self._pending = np.zeros(0, dtype=np.int16)
