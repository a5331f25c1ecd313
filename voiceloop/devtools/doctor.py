"""`voiceloop doctor`: check each part a turn needs, one line each, with the fix for what fails."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voiceloop.config import Config
from voiceloop.errors import VoiceloopError


@dataclass(frozen=True)
class Check:
    """The outcome of one check."""

    name: str
    """What was checked ("microphone", "LLM server", ...)."""
    ok: bool
    """True if it works."""
    message: str
    """What was found when it works; the fix when it does not (one line)."""


def _audio(cfg: Config) -> list[Check]:
    from voiceloop.audio.devices import find_device, list_devices, open_pyaudio

    try:
        pa = open_pyaudio()
    except VoiceloopError as e:
        fail = "needs PortAudio"
        return [Check("PortAudio", False, str(e)), Check("microphone", False, fail), Check("speaker", False, fail)]
    out = [Check("PortAudio", True, "PyAudio loaded")]
    names = {d.index: d.name for d in list_devices(pa)}
    for kind, label, wanted in (
        ("input", "microphone", cfg.audio.input_device),
        ("output", "speaker", cfg.audio.output_device),
    ):
        try:
            index = find_device(pa, wanted, kind)
        except VoiceloopError as e:
            out.append(Check(label, False, str(e)))
            continue
        out.append(Check(label, True, "system default" if index is None else f"{index}: {names.get(index, '?')}"))
    pa.terminate()
    return out


def _whisper(cfg: Config) -> Check:
    """Load the configured model the way a turn would, with no network: it either loads or says why."""
    from voiceloop.stt.engines import build_engine
    from voiceloop.stt.models import PACKAGED

    model = cfg.stt.model
    if cfg.stt.engine == "openai-whisper" and model not in PACKAGED and not Path(model).expanduser().exists():
        return Check(
            "Whisper model", False, f"stt.model {model!r} is not on this machine (openai-whisper would download it); "
            "use tiny.en or base, or a local .pt file"
        )
    saved = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        engine = build_engine(cfg.stt)
    except VoiceloopError as e:
        return Check("Whisper model", False, str(e))
    finally:
        if saved is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = saved
    return Check("Whisper model", True, f"{getattr(engine, 'name', model)} loads offline")


def _native(cfg: Config) -> list[Check]:
    """Does the optional Moonshine engine run on this CPU? Asked of a child process (once per machine), so a
    library built for instructions this CPU lacks is reported in one line instead of killing doctor."""
    import importlib.util

    from voiceloop.stt import native_probe

    if cfg.stt.engine == "moonshine" or importlib.util.find_spec("moonshine_cpp") is None:
        return []  # the speech-to-text check loads it when configured; not installed is no problem
    verdict = native_probe.check("moonshine")
    if verdict.ok:
        return [Check("moonshine", True, "optional engine (stt.engine = \"moonshine\"): runs on this CPU")]
    return [Check("moonshine", True, f"{verdict.message} (optional; stt.engine does not use it)")]


def _llm(cfg: Config) -> Check:
    from voiceloop.llm.backend import connect, model_present
    from voiceloop.llm.ollama import OllamaClient

    try:
        client, how = connect(cfg)
        version = client.version()
        answer = model_present(client, cfg.llm.model)
    except VoiceloopError as e:
        return Check("LLM server", False, str(e))
    server = f"Ollama {version}" if isinstance(client, OllamaClient) else version
    return Check("LLM server", True, f"{how}: {server}; {answer}")


def _embedded(cfg: Config) -> list[Check]:
    """Are the embedded model's packages here? Checked without joining or loading them (that is the LLM check's job)."""
    from voiceloop.llm.gguf import model

    if cfg.llm.backend not in ("embedded", "auto"):
        return []
    try:
        spec = model(cfg.llm.embedded_model)
    except VoiceloopError as e:
        return [Check("embedded model", False, str(e))]
    if spec.installed():
        return [Check("embedded model", True, f"{spec.name}: its {spec.parts} packages are installed")]
    if cfg.llm.backend == "auto":  # only a fallback when no server answers: its absence is no problem
        return [Check("embedded model", True, f"{spec.name} not installed (optional fallback): {spec.install_hint}")]
    return [Check("embedded model", False, f"{spec.name} is not installed: {spec.install_hint}")]


def _tts(cfg: Config) -> Check:
    from voiceloop.voice.engines import load_synth

    try:
        samples = load_synth(cfg.tts).synth("Hello.")
    except (VoiceloopError, ImportError, OSError, RuntimeError) as e:
        return Check("speech", False, str(e).splitlines()[0] if str(e) else type(e).__name__)
    if len(samples) == 0:
        return Check("speech", False, f"tts.engine {cfg.tts.engine!r} produced no audio; check tts.voice")
    off = "" if cfg.tts.enabled else " (tts.enabled = false: replies are not spoken)"
    return Check("speech", True, f"{cfg.tts.engine} said a word ({len(samples) / 16000:.1f} s of audio){off}")


def _output(cfg: Config) -> Check:
    """Can a file be created under output.dir? Probe with an unnamed temp file, so nothing is left behind."""
    target = Path(cfg.output.dir).expanduser().absolute()
    existing = target
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return Check("output dir", False, f"{existing} is a file, so output.dir {cfg.output.dir!r} cannot be a folder; "
                     "set output.dir to a folder you can write")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as e:
        return Check("output dir", False, f"cannot write in {existing} ({e.strerror}); set output.dir to a writable "
                     "folder or fix its permissions")
    if not os.access(existing, os.W_OK | os.X_OK):
        return Check("output dir", False, f"no write permission in {existing}; set output.dir or fix its permissions")
    made = "" if existing == target else " (will be created on the first write)"
    return Check("output dir", True, f"{target} is writable{made}")


CHECKS: tuple[Callable[[Config], Any], ...] = (_audio, _whisper, _native, _embedded, _llm, _tts, _output)


def run_checks(cfg: Config, on_check: Callable[[Check], None] | None = None) -> list[Check]:
    """Run every check in order; on_check sees each result as soon as it is known."""
    results: list[Check] = []
    for check in CHECKS:
        found = check(cfg)
        for c in found if isinstance(found, list) else [found]:
            results.append(c)
            if on_check:
                on_check(c)
    return results
