"""Barge-in on open speakers, measured in a looped virtual room: N replies are spoken on a private
PulseAudio server whose speaker comes back into its microphone (60 ms later, at --echo-volume); the
barge-in watcher listens through echo cancellation the whole time, exactly as `listen` does.

It counts self-interruptions (the watcher stopping a reply nobody talked over), then talks over
--talk-over more replies with a recorded person and counts how many were caught, and reports the
echo removed live (ERLE) while replies played.

Usage: .venv/bin/python scripts/bargein_room.py [--replies 50] [--talk-over 10] [--echo-volume 100%] [--no-aec]
[--talk-at 0.4]
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
AUDIO = str(ROOT / "scripts" / "audio_devices.sh")
REPLIES = [
    "The capital of France is Paris. It sits on the river Seine.",
    "Sure. Here is a joke: why did the cat sit on the computer? To keep an eye on the mouse!",
    "I wrote notes dot t x t with your shopping list: milk, eggs, bread and coffee.",
    "A prime number has exactly two divisors, one and itself. Two, three, five and seven are the first four.",
    "Once upon a time, a small dog lived by the sea. Every morning he ran along the beach to meet the boats.",
    "I did not write math underscore utils dot p y, because you said no.",
    "Water boils at one hundred degrees Celsius at sea level, and at a lower temperature up in the mountains.",
    "Okay, starting over: I forgot our conversation and the files we worked on.",
    "Python lists keep their order; sets do not, but they find an item much faster.",
    "Sorry, I didn't catch that. Please say it again.",
]


def room(echo_volume: str) -> dict[str, str]:
    runtime = tempfile.mkdtemp(prefix="vl-bargein-")
    env = dict(os.environ, XDG_RUNTIME_DIR=runtime, PULSE_SOURCE="vl_mic", PULSE_SINK="vl_speaker")
    subprocess.run(["bash", AUDIO, "start"], env=env, check=True, capture_output=True)
    subprocess.run(
        ["pactl", "load-module", "module-loopback", "source=vl_speaker.monitor", "sink=vl_micfeed", "latency_msec=60"],
        env=env,
        check=True,
        capture_output=True,
    )
    inputs = subprocess.run(["pactl", "list", "short", "sink-inputs"], env=env, capture_output=True, text=True)
    for line in inputs.stdout.splitlines():
        subprocess.run(["pactl", "set-sink-input-volume", line.split()[0], echo_volume], env=env, check=True)
    return env


LEAD_IN_S = 0.1  # with --talk-at, the person's recording starts this long before their first word


def words_from(clip: Path, out: Path) -> Path:
    """The recording from LEAD_IN_S before its first word (a frame over -45 dBFS), written to out."""
    from voiceloop.audio.formats import SAMPLE_RATE, read_wav, rms_dbfs, wav_bytes

    samples = read_wav(clip)
    first = next(i for i in range(0, len(samples), 480) if rms_dbfs(samples[i : i + 480]) > -45.0)
    out.write_bytes(wav_bytes(samples[max(0, first - int(LEAD_IN_S * SAMPLE_RATE)) :]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replies", type=int, default=50)
    ap.add_argument("--talk-over", type=int, default=10)
    ap.add_argument("--echo-volume", default="100%", help="how loud the speaker reaches the mic (100%% = as played)")
    ap.add_argument("--no-aec", action="store_true", help="barge-in by level alone, as before echo cancellation")
    ap.add_argument("--margin-db", type=float, default=10.0)
    ap.add_argument(
        "--talk-at",
        type=float,
        help="the person's first word this many seconds after the reply's first sound (a question said right after "
        "the one being answered); default: their recording starts 1.5 s after the reply is handed to the speaker",
    )
    args = ap.parse_args()
    env = room(args.echo_volume)
    os.environ.update(env)  # PortAudio reaches the private server through these

    import threading

    from voiceloop.audio.aec import EchoCancelledSource, FarEnd
    from voiceloop.audio.bus import CaptureBus
    from voiceloop.audio.devices import open_pyaudio
    from voiceloop.audio.mic import PyAudioSource
    from voiceloop.audio.stream_player import StreamPlayer
    from voiceloop.audio.vad import WebRtcVad
    from voiceloop.config import SttConfig, TtsConfig
    from voiceloop.listen.bargein import BargeIn
    from voiceloop.stt.engines import load_transcriber
    from voiceloop.voice.engines import load_synth
    from voiceloop.voice.speech import SentenceSpeaker

    pa = open_pyaudio()
    player = StreamPlayer(pa, "pulse")
    mic = PyAudioSource(pa, "pulse", 30, 2.0)
    far = FarEnd()
    source = EchoCancelledSource(mic, far) if not args.no_aec else mic
    if not args.no_aec:
        player.far_end = far
    voices = [SentenceSpeaker(load_synth(TtsConfig(engine=e)), player) for e in ("pyttsx3", "piper")]
    stop = threading.Event()
    bus = CaptureBus(source, stop)  # the microphone is read in one place, as in `listen`
    bus.start()
    loop_tap = bus.tap("loop")  # what the listen loop reads between replies
    for _ in range(60):  # a fresh capture stream on a null-sink monitor takes a moment to deliver
        loop_tap.read(0.1)

    last = [""]
    ears = load_transcriber(SttConfig())  # what `listen` would make of the words caught over the reply
    heard: list[str] = []

    def one_reply(text: str, speaker: SentenceSpeaker, person: str | None) -> tuple[bool, float | None]:
        sounded: list[float] = []
        stream = speaker.stream(lambda: sounded.append(time.monotonic()))
        bus.switch(off=[loop_tap])
        watcher = BargeIn(player, WebRtcVad(2), args.margin_db, stream.cancel)
        tap, fed = bus.tap("barge-in"), threading.Event()

        def feed() -> None:  # as the listen loop feeds the watcher while the reply plays
            while not fed.is_set():
                chunk = tap.next(0.1)
                if chunk is not None:
                    watcher.feed(chunk)

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        talker = None
        t_talk = None
        try:
            stream.say(text)
            if person is not None:
                clip = ROOT / "tests" / "data" / person
                if args.talk_at is None:
                    time.sleep(1.5)
                else:  # from its words on (less LEAD_IN_S), started when they should be heard
                    clip = words_from(clip, Path(env["XDG_RUNTIME_DIR"]) / person)
                    deadline = time.monotonic() + 10
                    while not sounded and time.monotonic() < deadline:
                        time.sleep(0.005)
                    first_sound = sounded[0] if sounded else time.monotonic()
                    time.sleep(max(0.0, first_sound + args.talk_at - LEAD_IN_S - time.monotonic()))
                t_talk = time.monotonic() + (LEAD_IN_S if args.talk_at is not None else 0.0)
                talker = subprocess.Popen(["paplay", "-d", "vl_micfeed", str(clip)], env=env)
            stream.close()
        finally:
            fed.set()
            feeder.join(2.0)
            bus.switch(on=[loop_tap])
            for chunk in tap.take_all():  # handed to it before the reply ended and not read yet
                watcher.feed(chunk)
            tap.close()
            theirs = watcher.caught()
        caught_after = None
        if watcher.triggered.is_set() and t_talk is not None and watcher.triggered_at is not None:
            caught_after = watcher.triggered_at - t_talk
        if talker is not None:
            talker.wait(timeout=15)
            time.sleep(0.5)  # the person's last words are still on their way through the room
            # the next turn is what the watcher caught, then what the loop hears until they stop
            rest = [c.plain if c.plain is not None else c.samples for c in loop_tap.take_all()]  # as listen
            if theirs is not None:
                heard.append(ears.transcribe(np.concatenate([theirs, *rest])).text)
        for _ in range(10):  # the gap between turns, read as the loop reads it
            loop_tap.read(0.1)
        last[0] = f"mic/played/gain dB {watcher.trigger_db}" if watcher.trigger_db else ""
        if watcher.triggered.is_set():
            last[0] += f"; {watcher.plain_s:.2f} s of the pre-roll from the linear echo filter"
        return watcher.triggered.is_set(), caught_after

    self_interruptions = 0
    texts = itertools.cycle(REPLIES)
    for i in range(args.replies):
        hit, _ = one_reply(next(texts), voices[i % 2], None)
        self_interruptions += hit
        print(f"reply {i + 1:3d}/{args.replies}: {'SELF-INTERRUPTED' if hit else 'ok'} {last[0]}", flush=True)
    erle = getattr(source, "erle_db", None)  # replies alone: the person's voice would count as "not removed"
    caught, whole, ends, delays = 0, 0, 0, []
    for i in range(args.talk_over):
        heard.clear()
        hit, after = one_reply(REPLIES[4], voices[i % 2], "create_notes.wav")
        caught += hit
        said = heard[0] if heard else ""
        # create_notes.wav: "Create a file called notes dot txt with a shopping list." Heard whole: the words said
        # over the reply (it stops about half a second to a second and a half in) word for word, and the last one
        words = " ".join(re.sub(r"[^a-z ]", " ", said.lower()).split())
        ok = "create a file called notes" in words and words.endswith("list")
        whole += ok
        ends += all(w in words.split() for w in ("create", "list"))
        if after is not None:
            delays.append(after)
        print(
            f"talked over {i + 1:3d}/{args.talk_over}: {'caught' if hit else 'MISSED'}"
            + (f", heard {'whole' if ok else 'CUT'}: {said!r}; {last[0]}" if hit else ""),
            flush=True,
        )
    delays.sort()
    print(
        f"\nself-interruptions {self_interruptions}/{args.replies} replies; talk-overs caught {caught}/{args.talk_over}"
        + f", heard whole {whole}/{args.talk_over} (first and last words {ends}/{args.talk_over})"
        + (f" (median {delays[len(delays) // 2] * 1000:.0f} ms after the person started)" if delays else "")
        + (f"; live ERLE {erle:.1f} dB" if erle is not None else "")
        + f"; echo at {args.echo_volume}, {'level only' if args.no_aec else 'AEC3'}"
    )
    stop.set()
    bus.halt()
    source.close()
    player.close()
    subprocess.run(["bash", AUDIO, "stop"], env=env, check=False)
    return 0 if self_interruptions == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
