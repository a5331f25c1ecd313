"""The product's commands: once, listen, devices, models, version."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from voiceloop import __version__
from voiceloop.cli.app import ConfigOpt, ModelOpt, app, build_assistant, fail, session_config
from voiceloop.config import Config
from voiceloop.errors import ConfigError, VoiceloopError
from voiceloop.runtime import RUNTIME, install_signals
from voiceloop.safetext import line


@app.command()
def once(
    wav: Path = typer.Argument(..., help="a recording of one request (wav, m4a, mp3, ogg/opus, flac, ...)"),
    config: Path | None = ConfigOpt,
    model: str | None = ModelOpt,
    as_json: bool = typer.Option(
        False, "--json", help="print one JSON object (transcript, intents, actions, reply, timings_ms)"
    ),
    no_speak: bool = typer.Option(False, "--no-speak", help="do not speak the reply"),
) -> None:
    """Run one turn from an audio file: speech -> transcript -> intent -> confirmed action -> spoken reply."""
    console = Console(stderr=as_json)
    try:
        cfg = session_config(config, model, no_speak)
        from voiceloop.agent.clock import Clock
        from voiceloop.audio.formats import read_audio

        clock = Clock()
        samples = read_audio(wav)  # a bad file fails fast, before models load
        clock.lap("read_wav")
        assistant = build_assistant(cfg, console)
        clock.skip()  # model loading is start-up, not part of the turn
        turn = assistant.run_audio(samples, clock)
    except VoiceloopError as e:
        fail(console, e)
        return
    if as_json:
        sys.stdout.write(json.dumps(turn.to_json()) + "\n")
    else:
        from voiceloop.listen.ui import print_turn

        print_turn(console, turn)
    if turn.error:
        raise typer.Exit(6)


def _listen_config(cfg: Config, mode: str | None, wake_word: str | None) -> Config:
    """--mode and --wake-word over [listen], checked like config keys (bad values name the option).
    --wake-word alone means wake_word mode: left at "always", every sentence would be answered without it."""
    from voiceloop.config import from_dict

    if wake_word is not None and mode is None:
        mode = "wake_word"
    elif wake_word is not None and mode != "wake_word":
        raise ConfigError(f"--wake-word works only in wake_word mode, not with --mode {mode}: leave --mode out")
    raw: dict[str, Any] = {}
    if mode is not None:
        raw["mode"] = mode
    if wake_word is not None:
        raw["wake_word"] = wake_word
    if not raw:
        return cfg
    try:
        checked = from_dict({"listen": {**dataclasses.asdict(cfg.listen), **raw}}).listen
    except VoiceloopError as e:
        named = str(e).replace("config: listen.mode", "--mode").replace("config: listen.wake_word", "--wake-word")
        raise type(e)(named) from e
    return dataclasses.replace(cfg, listen=checked)


@app.command()
def listen(
    config: Path | None = ConfigOpt,
    model: str | None = ModelOpt,
    no_speak: bool = typer.Option(False, "--no-speak", help="do not speak replies"),
    mode: str | None = typer.Option(
        None, "--mode", help="always | wake_word | push_to_talk (overrides listen.mode)", show_default=False
    ),
    wake_word: str | None = typer.Option(
        None,
        "--wake-word",
        help="hey_jarvis | okay_nabu | hey_mycroft | alexa (overrides listen.wake_word; implies --mode wake_word)",
    ),
) -> None:
    """Listen on the microphone and handle every sentence you say (or those after the wake word, or while
    space is held), until Ctrl-C."""
    import signal

    console = Console()
    source = None
    listener = None
    assistant = None
    ptt = None
    runtime = RUNTIME  # the process's one owner of worker threads and its stop token
    install_signals(runtime)  # Ctrl-C and SIGTERM set the one stop token every worker watches
    import faulthandler

    terminal = os.fdopen(os.dup(2), "w")  # fd 2 itself goes nowhere while listen runs (native_stderr_hidden)
    faulthandler.register(signal.SIGUSR1, terminal, all_threads=True)  # `kill -USR1 <pid>`: every thread's stack
    faulthandler.enable(terminal, all_threads=True)  # a native crash says where each thread was, not nothing
    try:
        cfg = _listen_config(session_config(config, model, no_speak), mode, wake_word)
        if wake_word is not None and mode is None:
            console.print(f"[dim]--wake-word: wake_word mode, only what follows {wake_word} is a turn[/dim]")
        from voiceloop.agent.confirm import TerminalConfirmer
        from voiceloop.audio.devices import native_stderr_hidden, open_pyaudio
        from voiceloop.audio.mic import PyAudioSource
        from voiceloop.audio.vad import build_segmenter
        from voiceloop.listen.activation import build_gate, build_ptt
        from voiceloop.listen.confirming import PausingConfirmer
        from voiceloop.listen.live import LiveView
        from voiceloop.listen.loop import Listener
        from voiceloop.listen.voice_confirm import Ears, VoiceConfirmer

        def open_mic() -> PyAudioSource:
            return PyAudioSource(open_pyaudio(), cfg.audio.input_device, cfg.audio.chunk_ms, cfg.audio.ring_buffer_s)

        view = LiveView(console)
        ptt = build_ptt(cfg, runtime.stop, console)  # push_to_talk: the space-bar reader, paused at the write prompt
        asker = VoiceConfirmer(console, cfg, runtime.stop) if cfg.confirm.voice else TerminalConfirmer(console)
        confirmer = PausingConfirmer(asker, view, ptt)  # the live line steps aside there
        assistant = build_assistant(
            cfg, console, runtime, confirmer=confirmer, on_stage=view.set_state, stream_player=cfg.audio.echo_cancel
        )
        opener: Any = open_mic
        if cfg.audio.echo_cancel:
            from voiceloop.listen.echo import with_echo_cancel

            opener = with_echo_cancel(open_mic, assistant.speaker)
        with native_stderr_hidden():  # PortAudio/ALSA print from C threads when a device goes away
            source = opener()
            segmenter = build_segmenter(cfg.vad)
            gate = build_gate(cfg, assistant.transcriber, console)
            listener = Listener(
                assistant, source, segmenter, console, reopen=opener, stop=runtime.stop, view=view, gate=gate, ptt=ptt
            )
            confirmer.lend = listener.lend_mic  # while the prompt waits, nothing else reads the microphone
            if isinstance(asker, VoiceConfirmer):  # a spoken yes/no is heard with listen's own microphone
                live = listener
                mic = Ears(assistant.speaker, live.bus, segmenter, assistant.transcriber, live.lend_mic)
                asker.ears = mic
            listener.run()
    except VoiceloopError as e:
        fail(console, e)
    except KeyboardInterrupt:
        console.print(f"\nstopped after {listener.turns if listener else 0} turns", highlight=False)
    finally:
        runtime.shutdown()
        if listener is not None:
            listener.source.close()
        elif source is not None:
            source.close()
        if ptt is not None:  # the space-bar reader gives the terminal back
            ptt.close()
        player = assistant.speaker.player if assistant is not None else None
        if player is not None:
            player.close()  # a callback stream must stop before the interpreter goes


@app.command()
def devices() -> None:
    """List audio input and output devices (use the index or name as audio.input_device / output_device)."""
    console = Console()
    try:
        from voiceloop.audio.devices import list_devices, open_pyaudio

        pa = open_pyaudio()
    except VoiceloopError as e:
        fail(console, e)
        return
    for d in list_devices(pa):
        kinds = "/".join(k for k, n in (("in", d.inputs), ("out", d.outputs)) if n)
        console.print(line((f"{d.index:>3}  {kinds:<6}  ", ""), d.name, (f"  {d.default_rate:.0f} Hz", "dim")))


@app.command()
def models(config: Path | None = ConfigOpt) -> None:
    """List the models the LLM server has (Ollama or OpenAI-compatible, per llm.backend)."""
    console = Console()
    try:
        cfg = session_config(config)
        from voiceloop.llm.backend import connect

        names = connect(cfg)[0].models()
    except VoiceloopError as e:
        fail(console, e)
        return
    for name in names:
        mark = "*" if name == cfg.llm.model else " "
        console.print(line((f"{mark} ", ""), name))  # the server's names, shown as they are


@app.command()
def version() -> None:
    """Print the version."""
    Console().print(f"voiceloop {__version__}")
