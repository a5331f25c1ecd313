"""Thin wrappers that time the real parts inside one benchmarked turn: when the transcriber, the LLM client
and the voice were called and how long each took, plus a confirmer that declines every write."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from voiceloop.agent.sandbox import Proposal
from voiceloop.llm.ollama import ChatResult, LLMClient, Message, OnToken
from voiceloop.stt.transcript import Transcriber, Transcript
from voiceloop.voice.speech import Synth


class Probe:
    """Event times of the turn in progress, written by the wrappers below."""

    def __init__(self) -> None:
        self.start(time.perf_counter())

    def start(self, t0: float) -> None:
        self.t0 = t0
        self.stt_s = self.llm_s = self.synth_s = 0.0
        self.llm_calls = self.sentences = 0
        self.first_token_s: float | None = None
        self.first_sentence_at: float | None = None
        self.first_audio_at: float | None = None


class TimedTranscriber:
    """Passes through to a Transcriber, adding its time to the probe."""

    def __init__(self, inner: Transcriber, probe: Probe) -> None:
        self.inner = inner
        self.probe = probe
        self.name = inner.name

    def hint_files(self, files: Sequence[str]) -> None:
        self.inner.hint_files(files)

    def transcribe(self, samples: np.ndarray) -> Transcript:
        t = time.perf_counter()
        try:
            return self.inner.transcribe(samples)
        finally:
            self.probe.stt_s += time.perf_counter() - t


class TimedLLM:
    """Passes through to an LLMClient, noting the turn's first token and the time spent waiting."""

    def __init__(self, inner: LLMClient, probe: Probe) -> None:
        self.inner = inner
        self.probe = probe
        self.host = inner.host
        self.model = inner.model
        self.backend = inner.backend

    def chat(
        self,
        messages: list[Message],
        *,
        fmt: dict[str, Any] | str | None = None,
        options: dict[str, Any] | None = None,
        on_token: OnToken | None = None,
        model: str | None = None,
    ) -> ChatResult:
        t = time.perf_counter()
        try:
            result = self.inner.chat(messages, fmt=fmt, options=options, on_token=on_token, model=model)
        finally:
            self.probe.llm_s += time.perf_counter() - t
            self.probe.llm_calls += 1
        if self.probe.first_token_s is None:
            self.probe.first_token_s = result.first_token_s
        return result

    def version(self) -> str:
        return self.inner.version()

    def models(self) -> list[str]:
        return self.inner.models()


class TimedSynth:
    """Passes through to a voice, noting when the first sentence arrived and when its audio was ready."""

    def __init__(self, inner: Synth, probe: Probe) -> None:
        self.inner = inner
        self.probe = probe

    def synth(self, text: str) -> np.ndarray:
        t = time.perf_counter()
        if self.probe.first_sentence_at is None:
            self.probe.first_sentence_at = t
        try:
            return self.inner.synth(text)
        finally:
            done = time.perf_counter()
            self.probe.synth_s += done - t
            self.probe.sentences += 1
            if self.probe.first_audio_at is None:
                self.probe.first_audio_at = done


class Decline:
    """The benchmark's confirmer: every proposed write is shown to no one and declined."""

    def confirm(self, proposal: Proposal) -> tuple[bool, str]:
        return False, "the benchmark writes nothing"
