"""A listen turn's clock starts where the person stopped talking, not where the turn's code began: the silence
that ended the utterance, and any wait for early work, are then part of what the timings show.

With VOICELOOP_TRACE naming a file, each turn also appends one JSON line to it: when the speech ended on the
monotonic clock (the same clock in every process on the machine) and the turn's timings from there, so
`voiceloop bench --acoustic` can set them beside what it recorded at the devices.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from typing import Any

from voiceloop.agent.clock import Clock as Clock  # listen's turns are timed from here
from voiceloop.agent.turn import HeadStart, Turn
from voiceloop.audio.bus import AudioChunk
from voiceloop.audio.formats import SAMPLE_RATE
from voiceloop.audio.frames import FrameChunker
from voiceloop.listen.early import EarlyStart
from voiceloop.listen.speculate import SpeculativeLLM

TRACE_ENV = "VOICELOOP_TRACE"
REPLY_CHARS = 200  # of the reply, in the trace: enough to see where its first clause ended


def speech_clock(chunk: AudioChunk | None, frames: FrameChunker, unfed: int, silent: int) -> Clock:
    """The clock of a turn whose utterance ended just now, started at the end of its speech, its first lap
    (`endpoint`, the silence that ended it) taken.

    chunk: the newest chunk read from the microphone; frames: the chunker it went through, its tail still
    pending; unfed: whole frames of it after the frame that ended the utterance; silent: silent frames counted
    up to that frame, which is itself one more."""
    now = time.perf_counter()
    if chunk is None:
        return Clock()
    after = len(frames.pending) + unfed * frames.frame_samples  # samples that reached the mic after that frame
    frame_end = chunk.t1 - after / SAMPLE_RATE  # on the bus's clock: when it reached the microphone
    ended = frame_end - (silent + 1) * frames.frame_samples / SAMPLE_RATE
    clock = Clock(start=min(now, now - (time.monotonic() - ended)))
    clock.lap("endpoint")
    return clock


def trace_turn(
    clock: Clock, turn: Turn, early: EarlyStart[Any] | None, llm: SpeculativeLLM | None, head: HeadStart | None
) -> None:
    """Append the turn to the VOICELOOP_TRACE file, if one is named (a trace that cannot be written is skipped);
    the early start's counts are the session's so far."""
    path = os.environ.get(TRACE_ENV)
    if not path:
        return
    timings = dict(turn.timings_ms)
    if head is not None and head.started_at is not None:  # when the early transcription began
        timings["early_start"] = clock.since_start_ms(head.started_at)
    if llm is not None and llm.last is not None:  # the early reply this turn took over: when it was asked
        timings["reply_asked"] = clock.since_start_ms(llm.last.started)
        if llm.last.first_at is not None:
            timings["llm_first_token"] = clock.since_start_ms(llm.last.first_at)
    warm = early.last_warming if early is not None else None
    if warm is not None and warm.asked_at is not None and warm.answered_at is not None:  # the last warming's request
        timings["warm_asked"] = clock.since_start_ms(warm.asked_at)
        timings["warm_answered"] = clock.since_start_ms(warm.answered_at)
    done = llm.last.result if llm is not None and llm.last is not None else None
    line: dict[str, Any] = {
        "speech_ended": clock.origin + time.monotonic() - time.perf_counter(),
        "timings_ms": {k: round(v, 1) for k, v in timings.items()},
        "transcript": turn.transcript,
        "reply": turn.reply[:REPLY_CHARS],
        "early_jobs": early.started if early is not None else 0,
        "early_used": early.used if early is not None else 0,
        "replies_started": getattr(early.work, "replies", 0) if early is not None else 0,
        "replies_taken": llm.taken if llm is not None else 0,
        "warmings": early.warmed if early is not None else 0,
        "prompt_tokens": done.prompt_tokens if done is not None else None,  # the answer's, not in the server's cache
    }
    with contextlib.suppress(OSError), open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")
