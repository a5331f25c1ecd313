"""One turn, from an utterance to a spoken reply. Owns no hardware: everything comes in built."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from voiceloop.agent.answers import Answers, speak_result
from voiceloop.agent.classifier import Classification, Classifier
from voiceloop.agent.clock import Clock, TimedConfirmer
from voiceloop.agent.commands import Command, Kind, parse_command, switch_reply
from voiceloop.agent.intents import Action, Intent
from voiceloop.agent.memory import Memory, llm_summarizer
from voiceloop.agent.progress import acknowledgement
from voiceloop.agent.tools import ActionResult, Status, Tools
from voiceloop.agent.turn import HeadStart, Turn
from voiceloop.agent.understand.clarify import DROPPED_REPLY, answered, cancels
from voiceloop.audio.formats import read_audio
from voiceloop.audio.vad import Segmenter, Utterance, build_segmenter, join_utterances
from voiceloop.config import Config
from voiceloop.errors import AudioDeviceError, LLMError
from voiceloop.llm.ollama import LLMClient
from voiceloop.state import LoopState
from voiceloop.stt.transcript import Transcriber, Transcript
from voiceloop.voice.speech import Speaker, SpeechInterrupted, SpeechStream

NO_SPEECH_REPLY = "I didn't hear any speech."
NOT_CAUGHT_REPLY = "Sorry, I didn't catch that. Please say it again."
START_OVER_REPLY = "Okay, starting over: I forgot our conversation and the files we worked on."
OnHeard = Callable[[Transcript], None] | None


class Assistant:
    """Transcribe -> confidence gate -> classify -> act (with confirmation) -> speak."""

    def __init__(
        self,
        cfg: Config,
        transcriber: Transcriber,
        llm: LLMClient,
        tools: Tools,
        speaker: Speaker,
        *,
        segmenter: Segmenter | None = None,
        classifier: Classifier | None = None,
        on_stage: Callable[[LoopState], None] | None = None,
    ) -> None:
        self.cfg = cfg
        self.transcriber = transcriber
        self.llm = llm
        self.tools = tools
        self.speaker = speaker
        self.model = llm.model if llm.backend == "embedded" else cfg.llm.model or llm.model  # embedded: what it loaded
        """The session's model: classification and every action without a route; "switch to" changes it."""
        self._segmenter = segmenter
        self.classifier = classifier or Classifier(llm, cfg.llm.temperature, cfg.llm.num_predict)
        self.memory = Memory(
            cfg.memory.max_turns, cfg.memory.max_tokens, llm_summarizer(llm, lambda: self.model_for(Action.SUMMARIZE))
        )
        self.on_stage: Callable[[LoopState], None] = on_stage or (lambda stage: None)
        """Told "transcribing", "thinking", "speaking" as a turn moves on (the live view)."""
        self.speaking: SpeechStream | None = None
        """The reply being spoken now, if any (barge-in cancels it)."""
        self.before_reply: Callable[[], None] = lambda: None
        """Called on the speech worker just before a reply's first sound (`listen` waits while they still talk)."""
        self.asked: Intent | None = None
        """The question the last turn asked ("What should I call the file?"); the next thing said answers it."""
        self.answers = Answers(tools, cfg.answer)  # the last spoken answer, which "tell me more" carries on

    @property
    def segmenter(self) -> Segmenter:
        """Finds the speech in a whole recording (`once`, `eval`): the same endpointing as `listen`. Built on
        first use, so typed text and `listen` (which brings its own) never load the smart-turn model for it."""
        if self._segmenter is None:
            self._segmenter = build_segmenter(self.cfg.vad)
        return self._segmenter

    def find_speech(self, samples: Any) -> Utterance | None:
        """The speech in a whole recording as one utterance, or None if there is none."""
        self.segmenter.reset()
        utts = list(self.segmenter.segment(samples))
        return join_utterances(utts, samples) if utts else None

    def run_file(self, path: Path) -> Turn:
        """`once`: one turn from a WAV file (AudioFormatError for a bad file)."""
        clock = Clock()
        samples = read_audio(path)
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

    def head_start(self, samples: np.ndarray, on_heard: OnHeard = None, by: Classifier | None = None) -> HeadStart:
        """The side-effect-free start of a turn (transcript, intents) for listen's early start; on_heard sees the
        transcript before the intent call; `by`: a classifier on a cancellable client."""
        began, heard = time.perf_counter(), self.transcriber.transcribe(samples)  # (left to right: began first)
        head = functools.partial(HeadStart, heard, heard_at=(at := time.perf_counter()), started_at=began)
        if on_heard is not None:
            on_heard(heard)
        if not self._confident(heard) or parse_command(heard.text) is not None:
            return head(decided_at=at)
        try:  # the intents are classified before decided_at is read
            return head(self.classify_turn(heard.text, by), decided_at=time.perf_counter())
        except LLMError as e:  # one deadline per turn: the turn reports it, never asks again
            return head(failed=str(e), decided_at=time.perf_counter())

    def handle(self, utt: Utterance, clock: Clock | None = None, head: HeadStart | None = None) -> Turn:
        """One turn for an utterance; `head` is its transcript (and intents) worked out early, if any: the stages
        it took are timed as they really ended, so a wait for early work shows as stt and intent, not as nothing."""
        clock = clock or Clock()
        self.on_stage(LoopState.TRANSCRIBING)
        heard = head.heard if head is not None else self.transcriber.transcribe(utt.samples)
        clock.lap("stt", head.heard_at if head is not None else None)
        clock.mark("transcript", head.heard_at if head is not None else None)
        if not self._confident(heard):
            turn = Turn(heard.text, heard.avg_logprob, heard.no_speech_prob, reply=NOT_CAUGHT_REPLY)
            return self._finish(turn, clock)
        if head is not None:
            clock.lap("intent", head.decided_at)
        if head is not None and head.failed:
            clock.lap("intent")
            failed = Turn(heard.text, heard.avg_logprob, heard.no_speech_prob, reply=head.failed, error=head.failed)
            return self._finish(failed, clock)
        return self.handle_text(heard.text, clock, heard, head.decided if head is not None else None)

    def _confident(self, t: Transcript) -> bool:
        words = t.text.strip(" .!?,")
        return (
            bool(words)
            and t.avg_logprob >= self.cfg.stt.min_avg_logprob
            and t.no_speech_prob <= self.cfg.stt.max_no_speech_prob
        )

    def handle_text(
        self,
        text: str,
        clock: Clock | None = None,
        heard: Transcript | None = None,
        decided: Classification | None = None,
    ) -> Turn:
        """Act on a transcript (also the entry point for typed commands); `decided`: its intents, if
        they were already classified (early start)."""
        clock = clock or Clock()
        base = Turn(text, heard.avg_logprob if heard else None, heard.no_speech_prob if heard else None)
        command = parse_command(text)
        more = self.answers.more(command)  # "tell me more", "the long version": no intent call
        if more is not None:
            decided = Classification((Intent(Action.GENERAL_CHAT, request=text),), "", 0)
        elif command is not None:
            turn = self._command(command, base)
            clock.lap("command")
            return self._finish(turn, clock)
        self.on_stage(LoopState.THINKING)
        asked, self.asked = self.asked, None
        if asked is not None and more is None and cancels(text, asked):  # nothing from the rest of it is acted on
            clock.lap("intent")
            return self._finish(dataclasses.replace(base, reply=DROPPED_REPLY), clock)
        finished = answered(asked, text) if asked is not None and more is None else None
        try:
            decided = self.classify_turn(finished) if finished else decided or self.classify_turn(text)
        except LLMError as e:
            clock.lap("intent")
            return self._finish(dataclasses.replace(base, reply=str(e), error=str(e)), clock)
        clock.lap("intent")
        models = {"intent": decided.model} if decided.model else {}
        stream = self._open_stream()
        results: list[ActionResult] = []

        def feed(piece: str) -> None:  # the reply's words as they are written: the first one is a milestone
            clock.mark("first_token")
            stream.feed(piece)

        confirmer = self.tools.confirmer
        self.tools.confirmer = TimedConfirmer(confirmer, clock)  # the person's time at the prompt is not "act"
        try:
            for intent in decided.intents:  # each reply is spoken as soon as it exists, chat token by token
                model = self.model_for(intent.action)
                stream.say(acknowledgement(intent))  # "Writing fib.py." while the model writes it
                done = self.answers.act(text, intent, model, self.memory.messages(), feed, more)
                results.append(done)
                models.setdefault(intent.action.value, model)
                speak_result(stream, done)
                clock.lap("act")
                if intent.filename and done.status in (Status.WRITTEN, Status.ANSWERED):
                    self.memory.record(done.written_as or intent.filename, intent.action.value)  # as written
        except SpeechInterrupted:  # they talked over us: what they asked next matters more than the rest
            clock.lap("act")
        except BaseException:  # Ctrl-C mid-turn: silence at once
            stream.cancel()
            self.speaking = None
            raise
        finally:
            self.tools.confirmer = confirmer
        reply = " ".join(r.say for r in results if r.say)
        self.asked = next((i for i in decided.intents if i.action is Action.CLARIFY), None)
        turn = dataclasses.replace(
            base,
            intents=decided.intents,
            actions=tuple(results),
            reply=reply,
            error=next((r.say for r in results if r.llm_failed), ""),  # exit 6, shown as an error
            warning=decided.fallback,
            models=models,
        )
        turn = self._finish(turn, clock)
        self.transcriber.hint_files([a.filename for a in self.memory.actions])  # the next utterance may say them
        folds = self.memory.folds
        self.memory.add_turn(text, turn.spoken_text if turn.interrupted else reply)  # what they really heard
        self.answers.heard(results, turn.interrupted, turn.spoken_text)
        if self.memory.folds > folds:  # older turns went into the summary just now
            models["memory"] = self.model_for(Action.SUMMARIZE)
            clock.lap("memory")
            turn = dataclasses.replace(turn, timings_ms={**turn.timings_ms, "memory": clock.ms["memory"]})
        return turn

    def classify(self, text: str) -> list[Intent]:
        """What the person wants, as intents in order (the session's action log resolves "it")."""
        return list(self.classify_turn(text).intents)

    def classify_turn(self, text: str, classifier: Classifier | None = None) -> Classification:
        """One schema-constrained call on the session model; one retry with the error fed back; then chat."""
        known = tuple(a.filename for a in self.memory.actions)
        return (classifier or self.classifier).classify(text, self.memory.files(), known, self.model, self.tools.exists)

    def model_for(self, action: Action) -> str:
        """The model that carries out `action`: its [llm.routes] entry, else the session's model."""
        if self.llm.backend == "embedded":
            return self.model  # one model is loaded, and it answers whatever name a request carries
        return str(getattr(self.cfg.llm.routes, action.value, "")) or self.model

    def _command(self, command: Command, base: Turn) -> Turn:
        """Start over, or switch the session's model after checking the server has it."""
        if command.kind is Kind.START_OVER:
            self.memory.clear()
            self.asked = None
            self.transcriber.hint_files([])
            self.answers.last = None
            return dataclasses.replace(base, reply=START_OVER_REPLY)

        try:
            found, reply = switch_reply(command.arg, self.llm.models())
        except LLMError as e:
            return dataclasses.replace(base, reply=str(e), error=str(e))
        self.model = found or self.model
        return dataclasses.replace(base, reply=reply, models={"session": found} if found else {})

    def _open_stream(self) -> SpeechStream:
        """The reply's speech stream; kept in self.speaking so barge-in can cancel it."""
        def starting() -> None:
            self.before_reply()
            self.on_stage(LoopState.SPEAKING)

        self.speaking = self.speaker.stream(on_start=starting)
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
            problem = f"could not speak the reply: {e}"
            turn = dataclasses.replace(turn, warning=f"{turn.warning}; {problem}" if turn.warning else problem)
        finally:
            self.speaking = None
        clock.lap("speak")
        timings = dict(clock.ms)
        timings["total"] = sum(clock.ms.values())
        timings.update(clock.marks)
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
