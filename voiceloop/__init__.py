"""voiceloop: a private, always-listening voice agent for the terminal."""

__version__ = "0.1.0"
