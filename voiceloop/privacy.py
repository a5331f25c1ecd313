"""Nothing phones home: onnxruntime's telemetry is switched off before onnxruntime is first imported.

onnxruntime (1.2x and later on Linux) starts Microsoft's 1DS telemetry when it is imported: it opens
~/.cache/Microsoft/DeveloperTools/.onnxruntime/onnxruntime.db read-write, queues events with a device
id, OS, CPU and Python path there, and looks up Microsoft's event collector to upload them. Smart turn,
Piper and faster-whisper's VAD all import it. `onnxruntime.disable_telemetry_events()` comes too late
for that (measured with strace: the .db is already open at import); the ORT_DISABLE_TELEMETRY
environment variable, read at import time, stops all of it. So voiceloop sets it when it is itself
imported (voiceloop/__init__.py), before any engine can import onnxruntime.
"""

from __future__ import annotations

import os
import sys

ORT_SWITCH = "ORT_DISABLE_TELEMETRY"


def no_telemetry() -> None:
    """Switch onnxruntime's telemetry off for this process; call before importing an onnxruntime user.

    Forced to "1" (not setdefault): voiceloop promises to send nothing, whatever the shell exported.
    If onnxruntime was imported before voiceloop (a host program's choice), its event logging is
    at least turned off from here on.
    """
    os.environ[ORT_SWITCH] = "1"
    ort = sys.modules.get("onnxruntime")
    if ort is not None and hasattr(ort, "disable_telemetry_events"):
        ort.disable_telemetry_events()
