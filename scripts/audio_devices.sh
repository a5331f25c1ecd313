#!/usr/bin/env bash
# Start a PulseAudio user daemon with a virtual speaker and a virtual microphone (for tests and demos).
#   vl_speaker          null sink: what voiceloop plays; record it with `parec -d vl_speaker.monitor`
#   vl_micfeed          null sink: play a WAV into it (`paplay -d vl_micfeed x.wav`) ...
#   vl_mic              ... and it comes out of this source, the "microphone"
# Usage: scripts/audio_devices.sh start|stop|status   (needs XDG_RUNTIME_DIR; one is made if unset)
set -euo pipefail
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/voiceloop-runtime-$(id -u)}"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

start() {
  if pactl info >/dev/null 2>&1; then echo "pulseaudio already running"; return 0; fi
  pulseaudio -n --daemonize=yes --exit-idle-time=-1 --disallow-exit --log-target=stderr \
    --load="module-native-protocol-unix" \
    --load="module-null-sink sink_name=vl_speaker rate=16000 channels=1 sink_properties=device.description=vl_speaker" \
    --load="module-null-sink sink_name=vl_micfeed rate=16000 channels=1 sink_properties=device.description=vl_micfeed" \
    --load="module-remap-source source_name=vl_mic master=vl_micfeed.monitor source_properties=device.description=vl_mic" \
    2>/dev/null
  for _ in $(seq 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
  pactl set-default-sink vl_speaker
  pactl set-default-source vl_mic
  echo "pulseaudio up: speaker vl_speaker, microphone vl_mic (feed it with: paplay -d vl_micfeed file.wav)"
}

case "${1:-start}" in
  start) start ;;
  stop) pulseaudio --kill 2>/dev/null || true ;;
  status) pactl list short sinks; pactl list short sources ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
