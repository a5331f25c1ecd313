"""One turn, from an utterance to a spoken reply. Owns no hardware: everything comes in built."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voiceloop.audio import read_wav
from voiceloop.config import Config
from voiceloop.errors import AudioDeviceError, LLMError
from voiceloop.intents import SCHEMA, SYSTEM_PROMPT, Action, Intent, IntentParseError, parse_intents
from voiceloop.llm import LLMClient, Message
from voiceloop.speech import Speaker, SpeechInterrupted, SpeechStream
from voiceloop.stt import Transcriber, Transcript
from voiceloop.tools import ActionResult, Tools
from voiceloop.vad import Segmenter, Utterance, WebRtcVad, join_utterances

NO_SPEECH_REPLY = "I didn't hear any speech."
NOT_CAUGHT_REPLY = "Sorry, I didn't catch that. Please say it again."
HISTORY_TURNS = 8  # user/assistant pairs kept for follow-up questions


@dataclass(frozen=True)
class Turn:
    """Everything one turn did, for the screen, --json and tests."""

    transcript: str = ""
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    intents: tuple[Intent, ...] = ()
    actions: tuple[ActionResult, ...] = ()
    reply: str = ""
    error: str = ""
    """A one-line problem that stopped the turn (LLM down, ...), also part of the reply."""
    warning: str = ""
    """A problem that did not stop the turn (e.g. the speaker failed; the reply is still printed)."""
    timings_ms: dict[str, float] = field(default_factory=dict)
    spoken_s: float = 0.0
    """Seconds of reply audio produced (0 with speech off)."""
    spoken_text: str = ""
    """What was really said aloud (the reply, or less when the person talked over it)."""
    interrupted: bool = False
    """The person talked over the reply and it was stopped."""

    def to_json(self) -> dict[str, Any]:
        return {
            "transcript": self.transcript,
            "avg_logprob": self.avg_logprob,
            "no_speech_prob": self.no_speech_prob,
            "intents": [i.to_json() for i in self.intents],
            "actions": [a.to_json() for a in self.actions],
            "reply": self.reply,
            "error": self.error,
            "warning": self.warning,
            "spoken_s": round(self.spoken_s, 3),
            "interrupted": self.interrupted,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }


class Clock:
    """Collects per-stage milliseconds."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}
        self._t = time.perf_counter()
        self.origin = self._t
        """When the turn started, moved later by skip() so skipped time never counts."""

    def skip(self) -> None:
        """Leave the time since the last lap out of every stage (e.g. loading models)."""
        now = time.perf_counter()
        self.origin += now - self._t
        self._t = now

    def since_start_ms(self, at: float) -> float:
        """Milliseconds from the start of the turn to the perf_counter() value `at`."""
        return (at - self.origin) * 1000

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.ms[stage] = self.ms.get(stage, 0.0) + (now - self._t) * 1000
        self._t = now


class Assistant:
    """Transcribe -> confidence gate -> classify -> act (with confirmation) -> speak."""

    def __init__(
        self,
        cfg: Config,
        transcriber: Transcriber,
        llm: LLMClient,
        tools: Tools,
        speaker: Speaker,
    ) -> None:
        self.cfg = cfg
        self.transcriber = transcriber
        self.llm = llm
        self.tools = tools
        self.speaker = speaker
        self.history: list[Message] = []
        self.on_stage: Callable[[str], None] = lambda stage: None
        """Told "transcribing", "thinking", "speaking" as a turn moves on (the live view)."""
        self.speaking: SpeechStream | None = None
        """The reply being spoken now, if any (barge-in cancels it)."""

    def find_speech(self, samples: Any) -> Utterance | None:
        """The speech in a whole recording as one utterance, or None if there is none."""
        seg = Segmenter(self.cfg.vad, WebRtcVad(self.cfg.vad.aggressiveness))
        utts = list(seg.segment(samples))
        return join_utterances(utts, samples) if utts else None

    def run_file(self, path: Path) -> Turn:
        """`once`: one turn from a WAV file (AudioFormatError for a bad file)."""
        clock = Clock()
        samples = read_wav(path)
        clock.lap("read_wav")
        return self.run_audio(samples, clock)

    def run_audio(self, samples: Any, clock: Clock | None = None) -> Turn:
        """One turn from a whole recording already read as 16 kHz mono int16."""
        clock = clock or Clock()
        utt = self.find_speech(samples)
        clock.lap("vad")
        if utt is None:
            return self._finish(Turn(reply=NO_SPEECH_REPLY), clock)
        return self.handle(utt, clock)

    def handle(self, utt: Utterance, clock: Clock | None = None) -> Turn:
        clock = clock or Clock()
        self.on_stage("transcribing")
        heard = self.transcriber.transcribe(utt.samples)
        clock.lap("stt")
        if not self._confident(heard):
            turn = Turn(heard.text, heard.avg_logprob, heard.no_speech_prob, reply=NOT_CAUGHT_REPLY)
            return self._finish(turn, clock)
        return self.handle_text(heard.text, clock, heard)

    def _confident(self, t: Transcript) -> bool:
        words = t.text.strip(" .!?,")
        return (
            bool(words)
            and t.avg_logprob >= self.cfg.stt.min_avg_logprob
            and t.no_speech_prob <= self.cfg.stt.max_no_speech_prob
        )

    def handle_text(self, text: str, clock: Clock | None = None, heard: Transcript | None = None) -> Turn:
        """Act on a transcript (also the entry point for typed commands)."""
        clock = clock or Clock()
        base = Turn(text, heard.avg_logprob if heard else None, heard.no_speech_prob if heard else None)
        self.on_stage("thinking")
        try:
            intents = self.classify(text)
        except LLMError as e:
            clock.lap("intent")
            return self._finish(dataclasses.replace(base, reply=str(e), error=str(e)), clock)
        clock.lap("intent")
        stream = self._open_stream()
        results = []
        try:
            for intent in intents:  # each reply is spoken as soon as it exists, chat token by token
                result = self.tools.run(intent, self.history, on_token=stream.feed)
                results.append(result)
                if result.streamed:
                    stream.flush()
                elif result.say:
                    stream.say(result.say)
                clock.lap("act")
        except SpeechInterrupted:  # they talked over us: what they asked next matters more than the rest
            clock.lap("act")
        except BaseException:  # Ctrl-C mid-turn: silence at once
            stream.cancel()
            self.speaking = None
            raise
        reply = " ".join(r.say for r in results if r.say)
        done = dataclasses.replace(base, intents=tuple(intents), actions=tuple(results), reply=reply)
        turn = self._finish(done, clock)
        said = turn.spoken_text if turn.interrupted else reply  # history holds what they really heard
        self.history += [{"role": "user", "content": text}, {"role": "assistant", "content": said}]
        self.history = self.history[-2 * HISTORY_TURNS :]
        return turn

    def classify(self, text: str) -> list[Intent]:
        """One schema-constrained call; one retry with the error fed back; then plain chat."""
        messages: list[Message] = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": text}]
        options = {"temperature": self.cfg.llm.temperature, "num_predict": self.cfg.llm.num_predict}
        for attempt in range(2):
            answer = self.llm.chat(messages, fmt=SCHEMA, options=options).content
            try:
                return parse_intents(answer)
            except IntentParseError as e:
                if attempt == 0:
                    messages += [
                        {"role": "assistant", "content": answer[:2000]},
                        {"role": "user", "content": f"That was not valid: {e}. Answer again with only the JSON."},
                    ]
        return [Intent(Action.GENERAL_CHAT, request=text)]

    def _open_stream(self) -> SpeechStream:
        """The reply's speech stream; kept in self.speaking so barge-in can cancel it."""
        self.speaking = self.speaker.stream(on_start=lambda: self.on_stage("speaking"))
        return self.speaking

    def _finish(self, turn: Turn, clock: Clock) -> Turn:
        """Speak what is left of the reply (everything, if nothing was streamed) and add the timings."""
        stream = self.speaking
        if stream is None:
            stream = self._open_stream()
            if turn.reply:
                with contextlib.suppress(SpeechInterrupted):
                    stream.say(turn.reply)
        spoken = None
        try:
            spoken = stream.close()
        except AudioDeviceError as e:  # the turn's work stands; only the voice is missing
            turn = dataclasses.replace(turn, warning=f"could not speak the reply: {e}")
        finally:
            self.speaking = None
        clock.lap("speak")
        timings = dict(clock.ms)
        timings["total"] = sum(clock.ms.values())
        if spoken is not None and spoken.first_audio_at is not None:
            timings["first_audio"] = clock.since_start_ms(spoken.first_audio_at)
        if spoken is None:
            return dataclasses.replace(turn, timings_ms=timings)
        return dataclasses.replace(
            turn,
            timings_ms=timings,
            spoken_s=spoken.audio_s,
            spoken_text=spoken.text,
            interrupted=spoken.interrupted,
        )
