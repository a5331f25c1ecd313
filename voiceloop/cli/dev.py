"""The developer tools' commands: eval, doctor, calibrate, bench (built on the product, never under it)."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from voiceloop.cli.app import ConfigOpt, ModelOpt, app, fail, session_config
from voiceloop.config import Config, load
from voiceloop.errors import AudioDeviceError, VoiceloopError
from voiceloop.safetext import line, shown


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
        fail(console, e)
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
        from rich.markup import escape

        from voiceloop.devtools.answers import AnswerResult, load_answer_cases, run_answers, typed_session
        from voiceloop.llm.backend import connect

        cases = load_answer_cases(folder)
        llm = connect(cfg)[0]
        # progress goes to stderr with --json: a run on a slow machine takes many minutes
        def show(r: AnswerResult) -> None:
            console.print(f"[dim]{'✓' if r.fact else '✗'} {escape(r.case.turns[-1])}[/dim]", highlight=False)

        if llm.backend == "embedded":  # it answers with the model it loaded, whatever llm.model says
            cfg = dataclasses.replace(cfg, llm=dataclasses.replace(cfg.llm, model=llm.model))
        report = run_answers(cases, lambda: typed_session(cfg, llm), show)
    except VoiceloopError as e:
        fail(console, e)
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
        fail(console, e)
        return
    from voiceloop.devtools.doctor import run_checks

    def show(c: Any) -> None:  # a message names devices, paths and models: shown, not obeyed
        mark = ("✓", "green") if c.ok else ("✗", "red")
        console.print(line(mark, (f" {c.name:<14} ", ""), c.message), soft_wrap=True)

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
        fail(console, e)
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
        console.print(line(str(target), (" already fits this room and voice; nothing to change.", "")))
        return
    table = Table("[vad] key", "now", "proposed", box=None)
    for key, (old, new) in todo.items():
        table.add_row(key, str(old), str(new))
    console.print(table)
    if not sys.stdin.isatty():
        console.print(line(("not written: no terminal to ask on; set these in ", ""), str(target), (" yourself", "")))
        return
    from voiceloop.agent.confirm import Said, answer_to, drop_typed_ahead

    drop_typed_ahead(sys.stdin)  # a key pressed while it measured is not the answer
    console.print(Text.assemble("Write these to ", shown(str(target), one_line=True), "? [y/N] ", style="bold"), end="")
    if answer_to(sys.stdin.readline()) is not Said.YES:  # the same rule as the write prompt
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
        console.print(line(("error: ", "red"), f"could not update {target}: {e}"))
        raise typer.Exit(3) from e
    console.print(line(("updated ", ""), str(target)))


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
    baseline_host: str | None = typer.Option(
        None, "--baseline-llm-host", help="--acoustic: the baseline side's own LLM server (neither evicts the other's)"
    ),
    stages_only: bool = typer.Option(
        False, "--stages-only", help="time the stages only, without the side-by-side comparisons (a quick check)"
    ),
) -> None:
    """Replay spoken WAVs through the real pipeline (nothing written, nothing played) and time every stage."""
    console = Console(stderr=as_json)
    try:
        cfg = session_config(config, model)
        if acoustic:
            base = session_config(baseline, model) if baseline else None
            _bench_acoustic(console, cfg, base, wav_dir, runs, as_json, baseline_host)
            return
        from voiceloop.devtools.bench_report import render, run_bench

        report = run_bench(
            cfg,
            wav_dir,
            runs,
            lambda msg: console.print(shown(f"{msg}…", "dim", one_line=True)),
            config_path=config,
            model=model,
            idle_s=idle_s,
            compare=not stages_only,
        )
    except VoiceloopError as e:
        fail(console, e)
        return
    if as_json:
        sys.stdout.write(json.dumps(report.to_json()) + "\n")
    else:
        render(console, report)


def _bench_acoustic(
    console: Console, cfg: Config, base: Config | None, wav_dir: Path | None, runs: int, as_json: bool, host: str | None
) -> None:
    from voiceloop.devtools.bench_acoustic import baseline_of, render_acoustic, run_acoustic
    from voiceloop.devtools.bench_report import machine

    say = lambda msg: console.print(shown(f"{msg}…", "dim", one_line=True))  # noqa: E731
    hosts = {"new": cfg.ollama_host, "baseline": host} if host else None
    report = run_acoustic(cfg, base or baseline_of(cfg), wav_dir, runs, say, machine(), hosts)
    if as_json:
        sys.stdout.write(json.dumps(report.to_json()) + "\n")
    else:
        render_acoustic(console, report)
