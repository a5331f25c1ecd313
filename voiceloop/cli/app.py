"""The typer app, the options every command shares, and wiring from config (build_assistant)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from voiceloop.config import Config, load
from voiceloop.errors import AudioDeviceError, VoiceloopError
from voiceloop.runtime import RUNTIME, Runtime
from voiceloop.safetext import line, shown

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


def fail(console: Console, e: VoiceloopError) -> None:
    """Print the error in one line and exit with its code (the only way a command exits on an error). The
    message may echo a file name, a path or a server's words: safetext shows it, the terminal obeys none of it."""
    console.print(line(("error: ", "red"), str(e)), soft_wrap=True)
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
    from voiceloop.agent.stateless import stateless_prompts
    from voiceloop.agent.tools import Tools
    from voiceloop.agent.warmup import warm_llm_soon
    from voiceloop.llm.backend import connect
    from voiceloop.llm.cache import with_cache
    from voiceloop.stt.engines import load_transcriber
    from voiceloop.voice.speech import SentenceSpeaker, SilentSpeaker, Speaker

    runtime = runtime or RUNTIME
    # the stop token reaches every request in flight: Ctrl-C ends a stuck answer instead of waiting it out
    llm, how = connect(cfg, lambda msg: console.print(shown(msg, "dim", one_line=True)), runtime.stop)
    if cfg.llm.backend in ("auto", "embedded"):
        console.print(shown(f"LLM: {how}", "dim", one_line=True))
    # the model is loaded and the intent prompt read while we load the rest
    warm_llm_soon(llm, runtime, cfg.llm.temperature)
    llm = with_cache(llm, stateless_prompts(), cfg.llm.cache_entries)
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
            console.print(line(("warning: ", "yellow"), str(e), ("; replies are printed, not played", "")))
            player = None
        speaker = SentenceSpeaker(load_synth(cfg.tts), player)
    return Assistant(cfg, load_transcriber(cfg.stt), llm, tools, speaker, on_stage=on_stage)
