"""The listen loop's turn machine, driven by scripted event sequences (no sleeps, no audio): the moves a
session makes, the moves it must refuse, and which consumers of the microphone each state feeds."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from voiceloop.audio.bus import CaptureBus, Tap
from voiceloop.audio.formats import SAMPLE_RATE, wav_bytes
from voiceloop.audio.mic import WavSource
from voiceloop.listen.live import LiveView
from voiceloop.listen.switchboard import Switchboard
from voiceloop.state import FED, TRANSITIONS, Consumer, LoopState, TransitionError, TurnEvent, TurnMachine

S, E = LoopState, TurnEvent


def run(events: list[TurnEvent], start: LoopState = S.LISTENING) -> list[LoopState]:
    machine = TurnMachine(start)
    return [machine.fire(e) for e in events]


def test_a_question_answered_aloud() -> None:
    states = run([E.VOICE_STARTED, E.UTTERANCE, E.TRANSCRIBED, E.REPLY_STARTED, E.TURN_DONE])
    assert states == [S.HEARING, S.TRANSCRIBING, S.THINKING, S.SPEAKING, S.LISTENING]


def test_a_write_confirmed_then_the_reply() -> None:
    events = [E.VOICE_STARTED, E.UTTERANCE, E.TRANSCRIBED, E.ASKED, E.ANSWERED, E.REPLY_STARTED, E.TURN_DONE]
    assert run(events) == [S.HEARING, S.TRANSCRIBING, S.THINKING, S.CONFIRMING, S.THINKING, S.SPEAKING, S.LISTENING]


def test_talking_over_the_reply_starts_the_next_utterance() -> None:
    events = [E.VOICE_STARTED, E.UTTERANCE, E.REPLY_STARTED, E.BARGED_IN, E.UTTERANCE, E.TURN_DONE]
    assert run(events) == [S.HEARING, S.TRANSCRIBING, S.SPEAKING, S.HEARING, S.TRANSCRIBING, S.LISTENING]


def test_a_cough_is_not_a_turn_and_a_kept_sentence_is() -> None:
    assert run([E.VOICE_STARTED, E.VOICE_STOPPED, E.UTTERANCE]) == [S.HEARING, S.LISTENING, S.TRANSCRIBING]


def test_a_lost_microphone_from_anywhere_and_back() -> None:
    for state in LoopState:
        if state is not S.MIC_LOST:
            assert run([E.MIC_LOST, E.MIC_BACK], start=state) == [S.MIC_LOST, S.LISTENING]


@pytest.mark.parametrize(
    "start,event",
    [
        (S.LISTENING, E.REPLY_STARTED),  # no turn, so no reply
        (S.LISTENING, E.TURN_DONE),
        (S.THINKING, E.UTTERANCE),  # a sentence heard while thinking is kept, not a turn inside a turn
        (S.CONFIRMING, E.REPLY_STARTED),  # the prompt is answered first
        (S.THINKING, E.BARGED_IN),  # nothing is playing to talk over
        (S.MIC_LOST, E.UTTERANCE),
        (S.MIC_LOST, E.MIC_LOST),
    ],
)
def test_a_move_not_in_the_table_is_refused_with_a_clear_error(start: LoopState, event: TurnEvent) -> None:
    machine = TurnMachine(start)
    with pytest.raises(TransitionError, match=f"no move on '{event.value}' while {start.value}; from here: "):
        machine.fire(event)
    assert machine.state is start and not machine.can(event)


def test_each_state_feeds_only_its_consumers() -> None:
    assert set(FED) == set(LoopState)
    listening = {Consumer.SEGMENTER, Consumer.WAKE_WORD}
    assert FED[S.LISTENING] == listening and FED[S.HEARING] == listening | {Consumer.SMART_TURN}
    assert FED[S.THINKING] == FED[S.TRANSCRIBING] == {Consumer.OVERHEAR}
    assert FED[S.SPEAKING] == {Consumer.BARGE_IN}  # our own voice never reaches the segmenter
    assert FED[S.CONFIRMING] == {Consumer.YES_NO}
    assert FED[S.MIC_LOST] == frozenset()
    # every consumer is fed somewhere, and the segmenter never while a turn is under way
    assert set().union(*FED.values()) == set(Consumer)
    turn = (S.TRANSCRIBING, S.THINKING, S.SPEAKING, S.CONFIRMING)
    assert all(Consumer.SEGMENTER not in FED[s] for s in turn)


def test_the_table_reaches_every_state_and_every_state_gets_back_to_listening() -> None:
    reached = {S.LISTENING}
    frontier = [S.LISTENING]
    while frontier:
        state = frontier.pop()
        for (src, _), dst in TRANSITIONS.items():
            if src is state and dst not in reached:
                reached.add(dst)
                frontier.append(dst)
    assert reached == set(LoopState)
    for state in LoopState:
        seen, frontier = {state}, [state]
        while frontier:
            src = frontier.pop()
            for (s, _), dst in TRANSITIONS.items():
                if s is src and dst not in seen:
                    seen.add(dst)
                    frontier.append(dst)
        assert S.LISTENING in seen, state


def test_the_turn_remembers_what_it_went_through() -> None:
    machine = TurnMachine()
    for e in [E.VOICE_STARTED, E.UTTERANCE, E.ASKED, E.ANSWERED, E.REPLY_STARTED, E.TURN_DONE]:
        machine.fire(e)
    assert {S.CONFIRMING, S.SPEAKING} <= machine.visited
    machine.fire(E.UTTERANCE)  # the next turn starts with a clean record
    assert machine.visited == {S.TRANSCRIBING}


@pytest.mark.parametrize("handler", [Consumer.OVERHEAR, Consumer.BARGE_IN])
def test_the_switchboard_feeds_the_loop_where_it_has_a_handler(tmp_path: Path, handler: Consumer) -> None:
    """The machine wired to a real capture bus on the WAV source: the loop's one tap is fed in every state whose
    consumers the loop hears for (its own segmenter, and here the overhearing or the barge-in watcher), never at
    the write prompt (its yes/no has a tap of its own), and the audio reaches it without a gap or a repeat."""
    wav = tmp_path / "mic.wav"
    wav.write_bytes(wav_bytes((np.arange(SAMPLE_RATE * 3) % 30000).astype(np.int16)))
    bus = CaptureBus(WavSource(wav), threading.Event())
    board = Switchboard(bus, LiveView(Console(file=io.StringIO())), {handler})
    bus.start()
    seqs: list[int] = []

    def take(tap: Tap, n: int) -> None:
        for _ in range(n):
            chunk = tap.next(10.0)
            assert chunk is not None, tap.name
            seqs.append(chunk.seq)

    fed: dict[LoopState, bool] = {}
    take(board.loop, 3)
    for event in [E.VOICE_STARTED, E.UTTERANCE, E.TRANSCRIBED, E.ASKED, E.ANSWERED, E.REPLY_STARTED, E.TURN_DONE]:
        state = board.move(event)
        fed[state] = board.loop.on
        seqs += [c.seq for c in board.loop.take_all()]  # what it was handed before a switch is still its own
        if board.loop.on:
            take(board.loop, 3)
    hears = handler is Consumer.OVERHEAR
    assert fed == {
        S.HEARING: True,
        S.TRANSCRIBING: hears,
        S.THINKING: hears,
        S.CONFIRMING: False,
        S.SPEAKING: not hears,
        S.LISTENING: True,
    }
    assert board.view.state is S.LISTENING
    assert seqs == list(range(len(seqs)))  # a recording waits while no tap is on: nothing lost


def test_two_threads_moving_the_switchboard_never_make_a_move_the_table_refuses(tmp_path: Path) -> None:
    """The loop and the speech worker both move the machine. Two threads saying whether the person is talking, as
    fast as they can: each looks at the state and moves in one step (under the machine's lock), so neither makes a
    move from a state the other has just left, and the loop's tap ends fed exactly as the final state says."""
    import sys

    wav = tmp_path / "mic.wav"
    wav.write_bytes(wav_bytes(np.zeros(SAMPLE_RATE, np.int16)))
    board = Switchboard(CaptureBus(WavSource(wav), threading.Event()), LiveView(Console(file=io.StringIO())))
    errors: list[BaseException] = []

    def talk(speaking: bool) -> None:
        try:
            for _ in range(20_000):
                board.hearing(speaking)
                board.hearing(not speaking)
        except TransitionError as e:
            errors.append(e)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        threads = [threading.Thread(target=talk, args=(s,)) for s in (True, False)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        sys.setswitchinterval(interval)
    assert not errors, errors[0]
    assert board.machine.state in (S.LISTENING, S.HEARING)
    assert board.loop.on  # both states feed the segmenter
    assert board.view.state is board.machine.state
