"""Settings: one frozen dataclass per config.toml section, loaded and checked key by key."""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from voiceloop.atomic import NotARegularFile, open_regular
from voiceloop.config_checks import CHECKS, REASONS, conflict, type_name, type_ok
from voiceloop.errors import ConfigError
from voiceloop.llm.address import problem, shown, with_scheme
from voiceloop.output_dir import checked_output

SttEngine = Literal["faster-whisper", "openai-whisper", "moonshine"]
SttDevice = Literal["auto", "cpu", "cuda"]
ComputeType = Literal["auto", "int8", "int8_float16", "float16", "float32"]
LlmBackend = Literal["auto", "ollama", "openai", "embedded"]
TtsEngine = Literal["pyttsx3", "piper"]


@dataclass(frozen=True)
class AudioConfig:
    input_device: int | str = ""
    """Microphone: index or part of its name ("" = system default)."""
    output_device: int | str = ""
    """Speaker: index or part of its name ("" = system default)."""
    chunk_ms: int = 30
    """Microphone read size in milliseconds."""
    ring_buffer_s: float = 2.0
    """Seconds of microphone audio kept before the segmenter drains it."""
    echo_cancel: bool = True
    """listen: take voiceloop's own voice out of the microphone (WebRTC AEC3, the played audio as reference)."""


@dataclass(frozen=True)
class VadConfig:
    aggressiveness: int = 2
    """webrtcvad mode 0-3; higher ignores more noise (and more quiet speech)."""
    frame_ms: int = 30
    """VAD frame length: 10, 20 or 30 ms."""
    start_ms: int = 120
    """Voiced audio needed before an utterance starts."""
    silence_ms: int = 700
    """Silence that ends an utterance (the end-of-speech timer)."""
    pre_roll_ms: int = 400
    """Audio kept from before the start so first words are not clipped."""
    min_speech_ms: int = 300
    """Utterances with less voiced audio than this are dropped."""
    max_utterance_s: float = 30.0
    """An utterance is cut at this length."""
    echo_tail_ms: int = 300
    """The microphone stays muted this long after our own speech ends."""
    smart_turn: bool = True
    """Ask the smart-turn model whether the speaker has finished, instead of only the silence timer."""
    smart_turn_ask_ms: int = 200
    """Silence after which the smart-turn model is first asked (then every 400 ms)."""
    smart_turn_max_silence_ms: int = 1200
    """With smart_turn, the longest silence waited for a speaker the model thinks is not done."""
    barge_in: bool = True
    """listen: talking over the reply stops it and starts a new turn (false: half-duplex, mic muted while speaking)."""
    early_start_ms: int = 90
    """listen: after this much silence, transcribe and classify already (thrown away if speech resumes); 0 = off."""
    early_reply: bool = True
    """listen: with early start, a question's reply is requested then too (unspoken; closed if speech resumes)."""
    warm_while_talking: bool = True
    """listen: while you talk, a question's words so far go to the LLM for one token (its prompt cache warms)."""
    barge_in_margin_db: float = 10.0
    """How much louder than our own echo the person's voice must be to count as barging in."""


@dataclass(frozen=True)
class SttConfig:
    engine: SttEngine = "faster-whisper"
    """"faster-whisper", "openai-whisper" or "moonshine" (moonshine-cpp's packaged English base model)."""
    model: str = "tiny.en"
    """Model name (tiny.en, base, ...) or a local path (directory or .pt file)."""
    device: SttDevice = "auto"
    """"auto" (GPU if present), "cpu" or "cuda"."""
    compute_type: ComputeType = "auto"
    """faster-whisper precision: auto = int8 on CPU, float16 on CUDA."""
    language: str = "en"
    """Spoken language code."""
    beam_size: int = 1  # 1 is greedy and fastest; 5 is a little more accurate
    min_avg_logprob: float = -0.8
    """Transcripts less confident than this are not acted on."""
    max_no_speech_prob: float = 0.6
    """Transcripts Whisper thinks are not speech above this are not acted on."""
    tiered: bool = False
    """Transcribe with `model` first and re-run `escalate_model` only when the first is unsure."""
    escalate_model: str = "base"
    """The larger faster-whisper model tiered mode falls back to (a name or a local directory)."""
    escalate_below: float = -0.5  # tiered mode re-transcribes when avg_logprob is below this
    vocabulary_bias: bool = True
    """Whisper is prompted with the command vocabulary and the session's file names (better command WER)."""
    short_window: bool = True
    """faster-whisper: encode the utterance plus 2 s of silence, not the whole 30 s window (stt/short_window.py)."""
    repair_names: bool = True
    """Mend misheard file names ("report.mb" is report.md) and decode a request naming a file again with a beam."""
    names_model: str = "base"
    """A second model whose beam votes on a file name tiny.en is unsure of (stt/second_ear.py); "" = none."""


@dataclass(frozen=True)
class RoutesConfig:
    """[llm.routes]: the model for each action ("" = the session's model). Classification never moves."""

    create_file: str = ""
    """Writes the content of text files ("create a file plan.md with a plan for ...")."""
    write_code: str = ""
    """Writes new source files."""
    edit_file: str = ""
    """Rewrites an existing file with a change."""
    summarize: str = ""
    """Summaries of text or files, and the folding of old turns into memory."""
    general_chat: str = ""
    """Answers questions."""


@dataclass(frozen=True)
class LlmConfig:
    host: str = "http://127.0.0.1:11434"
    """Ollama server; the OLLAMA_HOST environment variable overrides it."""
    model: str = "gemma3:4b"
    """Ollama model name (must be pulled: `ollama pull gemma3:4b`)."""
    temperature: float = 0.0
    """Sampling temperature for the intent call."""
    connect_timeout_s: float = 3.0
    """Give up connecting to Ollama after this long."""
    read_timeout_s: float = 60.0
    """Give up when Ollama sends nothing for this long (includes model load)."""
    answer_timeout_s: float = 300.0
    """Give up on one answer that is not finished after this long, however the server trickles it."""
    keep_alive: str = "30m"
    """How long Ollama keeps the model loaded after a call."""
    num_predict: int = 512
    """Most tokens one answer may have."""
    backend: LlmBackend = "auto"
    """"ollama", "openai" (OpenAI-compatible server), "embedded" (llama.cpp in-process) or "auto"."""
    embedded_model: str = "qwen2.5-coder:0.5b"
    """The embedded backend's model: "qwen2.5-coder:0.5b" (extra embedded) or "qwen2.5-coder:1.5b" (embedded-1.5b)."""
    cache_entries: int = 64
    """Answers kept for repeated stateless requests (same summary, same code request); 0 turns it off."""
    routes: RoutesConfig = field(default_factory=RoutesConfig)
    """[llm.routes]: another model per action."""


@dataclass(frozen=True)
class TtsConfig:
    enabled: bool = True
    """Speak replies aloud."""
    rate: int = 175
    """Words per minute."""
    voice: str = ""
    """pyttsx3 voice id or part of its name ("" = default)."""
    engine: TtsEngine = "pyttsx3"
    """"pyttsx3" (espeak-ng) or "piper" (neural voice, the `piper` extra)."""


@dataclass(frozen=True)
class ListenConfig:
    mode: str = "always"
    """"always" (every sentence is a turn), "wake_word" (only after the wake word) or "push_to_talk" (space)."""
    wake_word: str = "hey_jarvis"
    """wake_word mode: hey_jarvis, okay_nabu, hey_mycroft or alexa (models shipped with pymicro-wakeword)."""
    wake_window_s: float = 5.0
    """wake_word mode: after the wake word, how long to wait for the command to start."""


@dataclass(frozen=True)
class ConfirmConfig:
    """[confirm]: how a write is confirmed in `listen` (the panel and the keyboard always work)."""

    voice: bool = False
    """Also take a spoken answer: "yes" / "write it" writes, "no" / "cancel" does not (a clear yes only)."""
    timeout_s: float = 8.0
    """With voice on: this long without an answer (typed or said) means no."""


@dataclass(frozen=True)
class OutputConfig:
    dir: str = "output"
    """Every write goes under this folder (relative to the project); outside it only an empty or our own folder."""


@dataclass(frozen=True)
class MemoryConfig:
    max_turns: int = 8
    """Exchanges kept word for word; past it, the oldest are folded into a summary in one request, down to half."""
    max_tokens: int = 1500
    """Approximate budget (characters / 4) for the kept exchanges plus the summary."""


@dataclass(frozen=True)
class AnswerConfig:
    """[answer]: how long spoken answers are, and how they are kept from repeating themselves."""

    sentences: int = 3
    """A spoken answer stops after this many sentences (at a sentence end); "tell me more" goes on."""
    long_sentences: int = 8
    """Sentences for "the long version" (and its "tell me more")."""
    repeat_penalty: float = 1.1
    """Sent with answers (Ollama, embedded llama.cpp): above 1.0 makes repeating recent tokens less likely."""
    frequency_penalty: float = 0.2
    """Sent with answers (every backend): penalizes a token by how often it was already used."""
    presence_penalty: float = 0.1
    """Sent with answers (every backend): penalizes a token that was used at all."""


@dataclass(frozen=True)
class Config:
    audio: AudioConfig = field(default_factory=AudioConfig)
    vad: VadConfig = field(default_factory=VadConfig)
    stt: SttConfig = field(default_factory=SttConfig)
    llm: LlmConfig = field(default_factory=LlmConfig)
    tts: TtsConfig = field(default_factory=TtsConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    answer: AnswerConfig = field(default_factory=AnswerConfig)
    listen: ListenConfig = field(default_factory=ListenConfig)
    confirm: ConfirmConfig = field(default_factory=ConfirmConfig)

    @property
    def ollama_host(self) -> str:
        """The LLM host, with OLLAMA_HOST taking precedence the way Ollama's own tools do."""
        env = os.environ.get("OLLAMA_HOST", "").strip()
        host = with_scheme(env or self.llm.host)
        why = problem(host)
        if why:  # a malformed host is a setting to fix, never a traceback or a silent fall-back
            name = "OLLAMA_HOST (it overrides llm.host)" if env else "config: llm.host"
            raise ConfigError(f"{name} must be {CHECKS['llm.host'][1]}, got {shown(env or self.llm.host)!r}: {why}")
        return host


def _section(cls: type, raw: Any, name: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"config: [{name}] must be a table of keys")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        dotted = f"{name}.{key}"
        if key not in known:
            raise ConfigError(f"config: unknown key {dotted}; known keys in [{name}]: {', '.join(sorted(known))}")
        if dataclasses.is_dataclass(hints[key]):  # a sub-table such as [llm.routes]
            values[key] = _section(hints[key], value, dotted)
            continue
        if not type_ok(value, hints[key]):
            raise ConfigError(f"config: {dotted} must be {type_name(hints[key])}, got {value!r}")
        if hints[key] is float:
            value = float(value)
        check = CHECKS.get(dotted)
        if check and not check[0](value):
            why = REASONS[dotted](value) if dotted in REASONS else ""
            said = shown(value) if dotted == "llm.host" else value  # a proxy's password stays hidden
            raise ConfigError(f"config: {dotted} must be {check[1]}, got {said!r}" + (f": {why}" if why else ""))
        values[key] = value
    built = cls(**values)
    why = conflict(name, built)
    if why:
        raise ConfigError(f"config: {why}")
    return built


def from_dict(raw: dict[str, Any]) -> Config:
    """Build a Config from parsed TOML; every key is checked and errors name it."""
    hints = typing.get_type_hints(Config)
    built: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in hints:
            raise ConfigError(f"config: unknown section [{name}]; known: {', '.join(hints)}")
        built[name] = _section(hints[name], value, name)
    return Config(**built)


def load(path: Path | None, project: Path | None = None) -> Config:
    """Load config.toml (None: the defaults); output.dir is checked against project (default: cwd)."""
    cfg = checked_output(_read(path) if path is not None else Config(), project or Path.cwd())
    if cfg.llm.backend != "embedded":  # OLLAMA_HOST is checked at start-up too, not at the first request
        _ = cfg.ollama_host
    return cfg


def _read(path: Path) -> Config:
    try:
        with open_regular(path, 1_000_000) as f:  # a config.toml is a few kilobytes; never a FIFO or device
            text = f.read(1_000_001).decode("utf-8-sig")  # Notepad saves UTF-8 with a BOM; TOML has none
    except FileNotFoundError as e:
        raise ConfigError(f"config: {path} not found; create it or pass --config") from e
    except (OSError, UnicodeDecodeError, NotARegularFile) as e:
        raise ConfigError(f"config: cannot read {path}: {e}") from e
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config: {path} is not valid TOML: {e}") from e
    return from_dict(raw)
