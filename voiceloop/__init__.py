"""voiceloop: a private, always-listening voice agent for the terminal."""

from voiceloop.privacy import no_telemetry

no_telemetry()  # before any engine imports onnxruntime, whose telemetry starts at import (see privacy.py)

__version__ = "0.1.0"
