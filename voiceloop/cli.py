"""Command line: wiring from config, and the only place errors become messages and exit codes."""

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
from voiceloop.config import Config, load
from voiceloop.errors import AudioDeviceError, VoiceloopError
from voiceloop.runtime import Runtime, install_signals

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="voiceloop: a private, always-listening voice agent."
)

ConfigOpt = typer.Option(
    None, "--config", "-c", help="config.toml to use (default: ./config.toml, or $VOICELOOP_CONFIG)"
)
ModelOpt = typer.Option(None, "--model", "-m", help="Ollama model for this run (overrides llm.model)")


def session_config(path: Path | None, model: str | None = None, no_speak: bool = False) -> Config:
    """The config a command runs with: --config, $VOICELOOP_CONFIG or ./config.toml, then --model/--no-speak."""
    if path is None:
        env = os.environ.get("VOICELOOP_CONFIG")
        path = Path(env) if env else (Path("config.toml") if Path("config.toml").is_file() else None)
    cfg = load(path)
    if model:
        cfg = dataclasses.replace(cfg, llm=dataclasses.replace(cfg.llm, model=model))
    if no_speak:
        cfg = dataclasses.replace(cfg, tts=dataclasses.replace(cfg.tts, enabled=False))
    return cfg


def _fail(console: Console, e: VoiceloopError) -> None:
    from rich.markup import escape

    console.print(f"[red]error:[/red] {escape(str(e))}", highlight=False, soft_wrap=True)
    raise typer.Exit(e.exit_code)


def build_assistant(
    cfg: Config,
    console: Console,
    runtime: Runtime | None = None,
    *,
    confirmer: Any = None,
    on_stage: Any = None,
    stream_player: bool = False,
) -> Any:
    """Everything a turn needs, built once from config; `stream_player`: one output stream kept open
    for the session (listen with echo cancellation needs its steady timing)."""
    from voiceloop.agent.assistant import Assistant
    from voiceloop.agent.confirm import TerminalConfirmer
    from voiceloop.agent.sandbox import Sandbox
    from voiceloop.agent.tools import Tools
    from voiceloop.llm.backend import connect
    from voiceloop.llm.cache import with_cache
    from voiceloop.llm.warmup import warm_llm_soon
    from voiceloop.stt.engines import load_transcriber
    from voiceloop.voice.speech import SentenceSpeaker, SilentSpeaker, Speaker

    llm, how = connect(cfg, lambda msg: console.print(f"[dim]{msg}[/dim]", highlight=False))
    if cfg.llm.backend in ("auto", "embedded"):
        console.print(f"[dim]LLM: {how}[/dim]", highlight=False)
    # the model is loaded and the intent prompt read while we load the rest
    warm_llm_soon(llm, runtime or Runtime(), cfg.llm.temperature)
    llm = with_cache(llm, cfg.llm.cache_entries)
    from voiceloop.output_dir import output_outside

    sandbox = Sandbox(Path(cfg.output.dir), mark=output_outside(cfg.output.dir, Path.cwd()))
    tools = Tools(llm, sandbox, confirmer or TerminalConfirmer(console), cfg.llm.num_predict, cfg.answer)
    speaker: Speaker = SilentSpeaker()
    if cfg.tts.enabled:
        from voiceloop.audio.devices import PyAudioPlayer, open_pyaudio
        from voiceloop.voice.engines import load_synth

        try:
            if stream_player:
                from voiceloop.audio.stream_player import StreamPlayer

                player: Any = StreamPlayer(open_pyaudio(), cfg.audio.output_device)
            else:
                player = PyAudioPlayer(open_pyaudio(), cfg.audio.output_device)
        except AudioDeviceError as e:
            console.print(f"[yellow]warning:[/yellow] {e}; replies are printed, not played", highlight=False)
            player = None
        speaker = SentenceSpeaker(load_synth(cfg.tts), player)
    return Assistant(cfg, load_transcriber(cfg.stt), llm, tools, speaker, on_stage=on_stage)


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
        _fail(console, e)
        return
    if as_json:
        sys.stdout.write(json.dumps(turn.to_json()) + "\n")
    else:
        from voiceloop.listen.ui import print_turn

        print_turn(console, turn)
    if turn.error:
        raise typer.Exit(6)


def _listen_config(cfg: Config, mode: str | None, wake_word: str | None) -> Config:
    """--mode and --wake-word over [listen], checked like config keys (bad values name the option)."""
    from voiceloop.config import from_dict

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
        None, "--wake-word", help="hey_jarvis | okay_nabu | hey_mycroft | alexa (overrides listen.wake_word)"
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
    runtime = Runtime()
    install_signals(runtime)  # Ctrl-C and SIGTERM set the one stop token every worker watches
    import faulthandler

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 <pid>` prints every thread's stack
    try:
        cfg = _listen_config(session_config(config, model, no_speak), mode, wake_word)
        from voiceloop.agent.confirm import TerminalConfirmer
        from voiceloop.audio.devices import native_stderr_hidden, open_pyaudio
        from voiceloop.audio.mic import PyAudioSource
        from voiceloop.audio.vad import build_segmenter
        from voiceloop.listen.activation import build_gate, build_ptt
        from voiceloop.listen.live import LiveView
        from voiceloop.listen.loop import Listener, PausingConfirmer

        def open_mic() -> PyAudioSource:
            return PyAudioSource(open_pyaudio(), cfg.audio.input_device, cfg.audio.chunk_ms, cfg.audio.ring_buffer_s)

        view = LiveView(console)
        ptt = build_ptt(cfg, runtime.stop)  # push_to_talk: the space-bar reader, paused at the write prompt
        confirmer = PausingConfirmer(TerminalConfirmer(console), view, ptt)  # the live line steps aside there
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
            gate = build_gate(cfg, assistant.transcriber)
            listener = Listener(
                assistant, source, segmenter, console, reopen=opener, stop=runtime.stop, view=view, gate=gate, ptt=ptt
            )
            listener.run()
    except VoiceloopError as e:
        _fail(console, e)
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
        player = getattr(getattr(assistant, "speaker", None), "player", None)
        if player is not None and hasattr(player, "close"):
            player.close()  # a callback stream must stop before the interpreter goes


@app.command()
def devices() -> None:
    """List audio input and output devices (use the index or name as audio.input_device / output_device)."""
    console = Console()
    try:
        from voiceloop.audio.devices import list_devices, open_pyaudio

        pa = open_pyaudio()
    except VoiceloopError as e:
        _fail(console, e)
        return
    for d in list_devices(pa):
        kinds = "/".join(k for k, n in (("in", d.inputs), ("out", d.outputs)) if n)
        console.print(f"{d.index:>3}  {kinds:<6}  {d.name}  [dim]{d.default_rate:.0f} Hz[/dim]", highlight=False)


@app.command()
def models(config: Path | None = ConfigOpt) -> None:
    """List the models the LLM server has (Ollama or OpenAI-compatible, per llm.backend)."""
    console = Console()
    try:
        cfg = session_config(config)
        from voiceloop.llm.backend import connect

        names = connect(cfg)[0].models()
    except VoiceloopError as e:
        _fail(console, e)
        return
    for name in names:
        mark = "*" if name == cfg.llm.model else " "
        console.print(f"{mark} {name}", highlight=False)


@app.command("eval")
def evaluate(
    folder: Path = typer.Argument(..., help="a folder with WAVs and a manifest.toml of expected actions"),
    config: Path | None = ConfigOpt,
    model: str | None = ModelOpt,
    as_json: bool = typer.Option(False, "--json", help="print one JSON object (cases, correct, total, accuracy)"),
    min_accuracy: float = typer.Option(0.0, "--min-accuracy", help="exit 1 when accuracy is below this (0-1)"),
    category: list[str] = typer.Option([], "--category", help="only cases of this category (repeatable)"),
) -> None:
    """Measure how well the model understands commands: transcribe and classify only; no writes, no speech."""
    console = Console(stderr=as_json)
    try:
        cfg = session_config(config, model, no_speak=True)
        from voiceloop.agent.classifier import Classifier
        from voiceloop.devtools.evaluate import CaseResult, load_cases, run_eval
        from voiceloop.llm.backend import connect
        from voiceloop.stt.engines import load_transcriber

        cases = load_cases(folder, tuple(category))
        llm = connect(cfg)[0]
        classifier = Classifier(llm, cfg.llm.temperature, cfg.llm.num_predict)

        def show(r: CaseResult) -> None:
            console.print(f"[dim]{'✓' if r.ok else '✗'} {r.case.name}[/dim]", highlight=False)

        model_name = llm.model if llm.backend == "embedded" else cfg.llm.model  # embedded: the one it loaded
        report = run_eval(cases, classifier, model_name, lambda: load_transcriber(cfg.stt), show)
    except VoiceloopError as e:
        _fail(console, e)
        return
    if as_json:
        sys.stdout.write(json.dumps(report.to_json()) + "\n")
    else:
        from voiceloop.devtools.eval_report import print_eval

        print_eval(console, report)
    if report.accuracy < min_accuracy:
        raise typer.Exit(1)


@app.command("eval-answers")
def eval_answers(
    folder: Path = typer.Argument(..., help="a folder with a manifest.toml of questions and reference facts"),
    config: Path | None = ConfigOpt,
    model: str | None = ModelOpt,
    as_json: bool = typer.Option(False, "--json", help="print one JSON object (scores and every answer)"),
    min_facts: float = typer.Option(0.0, "--min-facts", help="exit 1 when the reference-fact rate is below this (0-1)"),
    max_loops: int = typer.Option(-1, "--max-loops", help="exit 1 when more answers than this loop (-1: no limit)"),
) -> None:
    """Measure spoken answers: length in sentences, loops, reference facts; no writes, no speech."""
    console = Console(stderr=as_json)
    try:
        cfg = session_config(config, model, no_speak=True)
        from voiceloop.devtools.answers import load_answer_cases, run_answers, typed_session
        from voiceloop.llm.backend import connect

        cases = load_answer_cases(folder)
        llm = connect(cfg)[0]
        show = None if as_json else lambda r: console.print(f"[dim]{'✓' if r.fact else '✗'} {r.case.turns[-1]}[/dim]")
        report = run_answers(cases, lambda: typed_session(cfg, llm), show)
    except VoiceloopError as e:
        _fail(console, e)
        return
    if as_json:
        sys.stdout.write(json.dumps(report.to_json()) + "\n")
    else:
        from voiceloop.devtools.answers import print_answers

        print_answers(console, report)
    n = len(report.results)
    if report.facts < min_facts * n or (max_loops >= 0 and report.loops_heard + report.loops_caught > max_loops):
        raise typer.Exit(1)


@app.command()
def doctor(config: Path | None = ConfigOpt, model: str | None = ModelOpt) -> None:
    """Check microphone, speaker, Whisper model, LLM server, voice and output folder; say how to fix each."""
    console = Console()
    try:
        cfg = session_config(config, model)
    except VoiceloopError as e:
        _fail(console, e)
        return
    from rich.markup import escape

    from voiceloop.devtools.doctor import run_checks

    def show(c: Any) -> None:
        mark = "[green]✓[/green]" if c.ok else "[red]✗[/red]"
        console.print(f"{mark} {c.name:<14} {escape(c.message)}", highlight=False, soft_wrap=True)

    failed = [c for c in run_checks(cfg, show) if not c.ok]
    if failed:
        console.print(f"{len(failed)} problem{'s' if len(failed) > 1 else ''} found", highlight=False)
        raise typer.Exit(1)


@app.command()
def calibrate(
    config: Path | None = ConfigOpt,
    quiet_s: float = typer.Option(3.0, "--quiet-s", help="seconds of room noise to measure"),
) -> None:
    """Measure the room and your voice, propose [vad] settings, and write them to config.toml if you agree."""
    from rich.table import Table
    from rich.text import Text

    console = Console()
    try:
        cfg = session_config(config)
        from voiceloop.audio.devices import native_stderr_hidden, open_pyaudio
        from voiceloop.audio.mic import PyAudioSource
        from voiceloop.audio.vad import WebRtcVad
        from voiceloop.devtools.calibrate import (
            analyze,
            changes,
            record,
            record_sentence,
            update_toml,
            write_atomically,
        )

        target = config or Path(os.environ.get("VOICELOOP_CONFIG") or "config.toml")
        with native_stderr_hidden():
            mic = PyAudioSource(open_pyaudio(), cfg.audio.input_device, cfg.audio.chunk_ms, cfg.audio.ring_buffer_s)
            try:
                console.print(f"Stay quiet for {quiet_s:.0f} s: measuring the room…", highlight=False)
                noise = record(mic, quiet_s)
                console.print('Now say one sentence as you would to voiceloop ("Create a file called notes dot txt").')
                speech = record_sentence(mic, cfg.vad.aggressiveness)
            finally:
                mic.close()
        if speech is None:
            raise AudioDeviceError("heard no speech; check the microphone (`voiceloop devices`) and try again")
        report = analyze(noise, speech, WebRtcVad)
    except VoiceloopError as e:
        _fail(console, e)
        return
    console.print(
        f"room {report.noise_dbfs:.0f} dBFS, your voice {report.speech_dbfs:.0f} dBFS "
        f"(signal-to-noise {report.snr_db:.0f} dB); longest pause mid-sentence {report.longest_pause_ms} ms; "
        "noise taken for speech at aggressiveness 0-3: " + ", ".join(f"{x:.0%}" for x in report.false_speech),
        highlight=False,
    )
    if report.snr_db < 10:
        console.print("[yellow]warning:[/yellow] your voice is barely above the room; move closer to the microphone")
    todo = changes(cfg.vad, report)
    if not todo:
        console.print(f"{target} already fits this room and voice; nothing to change.", highlight=False)
        return
    table = Table("[vad] key", "now", "proposed", box=None)
    for key, (old, new) in todo.items():
        table.add_row(key, str(old), str(new))
    console.print(table)
    if not sys.stdin.isatty():
        console.print(f"not written: no terminal to ask on; set these in {target} yourself", highlight=False)
        return
    console.print(Text(f"Write these to {target}? [y/N] ", style="bold"), end="")
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        console.print("left unchanged", highlight=False)
        return
    old_text = target.read_text(encoding="utf-8") if target.exists() else ""
    new_text = update_toml(old_text, "vad", {k: new for k, (_, new) in todo.items()})
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        import tomllib

        tomllib.loads(new_text)  # never leave a config that does not parse
        write_atomically(target, new_text)
        load(target)
    except (OSError, VoiceloopError, ValueError) as e:
        console.print(f"[red]error:[/red] could not update {target}: {e}", highlight=False)
        raise typer.Exit(3) from e
    console.print(f"updated {target}", highlight=False)


@app.command()
def bench(
    wav_dir: Path | None = typer.Argument(None, help="a folder of spoken WAV requests (default: the shipped set)"),
    runs: int = typer.Option(3, "--runs", min=1, max=50, help="times each WAV is replayed"),
    config: Path | None = ConfigOpt,
    model: str | None = ModelOpt,
    as_json: bool = typer.Option(False, "--json", help="print one JSON object instead of tables"),
    idle_s: float = typer.Option(4.0, "--idle-s", min=1.0, max=60.0, help="seconds of quiet fed to the listen loop"),
    acoustic: bool = typer.Option(
        False, "--acoustic", help="measure at the devices: real `listen` processes on private virtual sound servers"
    ),
    baseline: Path | None = typer.Option(
        None, "--baseline-config", help="--acoustic: config to compare against (default: the earlier shipped timers)"
    ),
) -> None:
    """Replay spoken WAVs through the real pipeline (nothing written, nothing played) and time every stage."""
    console = Console(stderr=as_json)
    try:
        cfg = session_config(config, model)
        if acoustic:
            _bench_acoustic(console, cfg, session_config(baseline, model) if baseline else None, wav_dir, runs, as_json)
            return
        from voiceloop.devtools.bench_report import render, run_bench

        report = run_bench(
            cfg,
            wav_dir,
            runs,
            lambda msg: console.print(f"[dim]{msg}…[/dim]", highlight=False),
            config_path=config,
            model=model,
            idle_s=idle_s,
        )
    except VoiceloopError as e:
        _fail(console, e)
        return
    if as_json:
        sys.stdout.write(json.dumps(report.to_json()) + "\n")
    else:
        render(console, report)


def _bench_acoustic(
    console: Console, cfg: Config, base: Config | None, wav_dir: Path | None, runs: int, as_json: bool
) -> None:
    from voiceloop.devtools.bench_acoustic import baseline_of, render_acoustic, run_acoustic
    from voiceloop.devtools.bench_report import machine

    say = lambda msg: console.print(f"[dim]{msg}…[/dim]", highlight=False)  # noqa: E731
    report = run_acoustic(cfg, base or baseline_of(cfg), wav_dir, runs, say, machine())
    if as_json:
        sys.stdout.write(json.dumps(report.to_json()) + "\n")
    else:
        render_acoustic(console, report)


@app.command()
def version() -> None:
    """Print the version."""
    Console().print(f"voiceloop {__version__}")


def main() -> None:
    app()
