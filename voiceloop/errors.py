"""Error hierarchy. Library code raises these; only voiceloop.cli turns them into messages and exit codes."""

from __future__ import annotations


class VoiceloopError(Exception):
    """Base class. The message is one line a user can act on; the CLI prints it as-is."""

    exit_code = 1


class ConfigError(VoiceloopError):
    """Bad config.toml: names the key and the expected value. Seen at start-up."""

    exit_code = 3


class AudioFormatError(VoiceloopError):
    """A WAV file cannot be read or converted. Seen by `once` / `eval` users."""

    exit_code = 2


class AudioDeviceError(VoiceloopError):
    """Microphone or speaker missing, busy or unplugged. Seen by `listen` users."""

    exit_code = 4


class ModelError(VoiceloopError):
    """Speech-to-text model missing or corrupt. Seen at start-up."""

    exit_code = 5


class LLMError(VoiceloopError):
    """Ollama not reachable, model not pulled, bad or empty answer. Seen per turn."""

    exit_code = 6


class SandboxError(VoiceloopError):
    """A write was refused (escape, bad name, disk error). Seen per proposed write."""

    exit_code = 7


class SpeechError(VoiceloopError):
    """The configured voice cannot be loaded (engine or voice files missing). Seen at start-up."""

    exit_code = 8
