"""Hostile LLM servers and timing faults (issue 15), misbehaving at the wire on loopback: a stream that
trickles forever, a huge reply, a hung intent call during listen's early start, a 500 after the intent
call; and speech that began while listen was not listening."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import numpy as np
import pytest

from tests.kit import ScriptedTranscriber
from voiceloop.agent.assistant import Assistant
from voiceloop.agent.confirm import TerminalConfirmer
from voiceloop.agent.sandbox import Sandbox
from voiceloop.agent.tools import Tools
from voiceloop.audio.formats import read_audio, wav_bytes
from voiceloop.audio.mic import WavSource
from voiceloop.audio.vad import Segmenter, WebRtcVad
from voiceloop.config import Config, LlmConfig, OutputConfig, TtsConfig, VadConfig
from voiceloop.errors import LLMError
from voiceloop.listen.loop import Listener
from voiceloop.llm.ollama import OllamaClient
from voiceloop.llm.openai_compat import OpenAIClient
from voiceloop.state import LoopState
from voiceloop.voice.espeak import Pyttsx3Synth
from voiceloop.voice.speech import (
    CUT_NOTE,
    MAX_REPLY_CHARS,
    MAX_SENTENCE_CHARS,
    SentenceSpeaker,
    SilentSpeaker,
    Speaker,
    SpeechStream,
)

from .conftest import DATA, run_cli, write_config
from .test_stream import ClockedPlayer
from .wire import fake_ollama, free_port, until_hangup

CHAT = {"intents": [{"action": "general_chat", "request": "what is the capital of France"}]}


def ndjson(content: str, done: bool = True) -> bytes:
    return json.dumps({"model": "m", "message": {"role": "assistant", "content": content}, "done": done}).encode()


def headers(h: BaseHTTPRequestHandler, content_type: str = "application/x-ndjson", length: int = 0) -> None:
    h.send_response(200)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length" if length else "Transfer-Encoding", str(length) if length else "chunked")
    h.end_headers()


def chunk(h: BaseHTTPRequestHandler, data: bytes) -> None:
    h.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    h.wfile.flush()


def trickle(unit: bytes, chunked: bool = True):
    """A server that keeps the answer going forever: `unit` every 0.2 s, never a finished answer."""

    def run(h: BaseHTTPRequestHandler) -> None:
        headers(h, length=0 if chunked else 10_000_000)
        try:
            for _ in range(3000):  # ten minutes: far past any deadline a test sets
                if chunked:
                    chunk(h, unit)
                else:
                    h.wfile.write(unit)
                    h.wfile.flush()
                time.sleep(0.2)
        except OSError:
            return  # the client hung up: what the deadline is for

    return run


@pytest.mark.parametrize(
    "unit,chunked", [(b"\n", True), (b" ", True), (b"x", False)], ids=["blank lines", "one byte", "unchunked bytes"]
)
def test_a_trickling_ollama_stream_ends_at_the_answer_deadline(unit: bytes, chunked: bool) -> None:
    with fake_ollama(trickle(unit, chunked)) as url:
        llm = OllamaClient(url, "m", read_timeout_s=1.0, answer_timeout_s=2.0)
        with pytest.raises(LLMError) as info:
            llm.chat([{"role": "user", "content": "hi"}])
    assert "after 2 s" in str(info.value) and "llm.answer_timeout_s" in str(info.value)


def test_a_trickling_openai_stream_of_keepalive_comments_ends_at_the_answer_deadline() -> None:
    with fake_ollama(trickle(b": keep-alive\n\n")) as url:
        llm = OpenAIClient(url, "m", read_timeout_s=1.0, answer_timeout_s=2.0)
        with pytest.raises(LLMError, match="after 2 s"):
            llm.chat([{"role": "user", "content": "hi"}])


def test_once_against_a_trickling_server_exits_6_saying_how_long_it_waited(tmp_path: Path) -> None:
    with fake_ollama(trickle(b"\n")) as url:
        write_config(tmp_path / "config.toml", url, 'backend = "ollama"\nanswer_timeout_s = 3.0')
        result = run_cli("once", str(DATA / "question.wav"), "--no-speak", cwd=tmp_path, timeout=120)
    assert result.returncode == 6
    errors = [line for line in result.stdout.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "after 3 s" in errors[0], result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def intent_then(answer_script, intents: dict = CHAT):  # a wire script
    """The intent call is answered with `intents`; the next call (chat, code, summary) by answer_script."""

    def run(h: BaseHTTPRequestHandler) -> None:
        if b'"format"' in h.body:  # type: ignore[attr-defined]
            body = ndjson(json.dumps(intents))
            headers(h, length=len(body))
            h.wfile.write(body)
        else:
            answer_script(h)

    return run


def huge_reply(h: BaseHTTPRequestHandler, fresh: bool = False) -> None:
    """1 MB with no sentence end, in 1 KB pieces: the same words again and again, or (fresh) never twice."""
    headers(h)
    try:
        for k in range(1000):
            piece = " ".join(f"w{k}x{j}" for j in range(200))[:1000] + " " if fresh else "word " * 200
            chunk(h, ndjson(piece, done=False) + b"\n")
        chunk(h, ndjson("", done=True) + b"\n")
        h.wfile.write(b"0\r\n\r\n")
    except OSError:
        pass  # the client stopped reading: that is the point


def fresh_reply(h: BaseHTTPRequestHandler) -> None:
    huge_reply(h, fresh=True)


SUMMARY = {"intents": [{"action": "summarize", "content": "the minutes of the meeting", "request": "summarize"}]}


@pytest.mark.parametrize(
    ("intents", "script"),
    [(CHAT, huge_reply), (CHAT, fresh_reply), (SUMMARY, huge_reply)],
    ids=["loop", "run-on", "summary"],
)
def test_a_1mb_reply_is_bounded_in_what_is_printed_and_spoken(tmp_path: Path, intents: dict, script) -> None:
    with fake_ollama(intent_then(script, intents)) as url:
        cfg = Config(llm=LlmConfig(host=url, model="m"), tts=TtsConfig(enabled=False))
        llm = OllamaClient(url, "m")
        tools = Tools(llm, Sandbox(tmp_path / "output"), TerminalConfirmer(console_sink()))
        ask = "summarize the minutes of the meeting" if intents is SUMMARY else "tell me a story"
        turn = Assistant(cfg, ScriptedTranscriber(), llm, tools, SilentSpeaker()).handle_text(ask)
    assert not turn.error
    assert len(turn.reply) < MAX_REPLY_CHARS + 200 and len(turn.spoken_text) < MAX_REPLY_CHARS + 200
    if script is fresh_reply or intents is SUMMARY:  # not a loop: the reply itself says it was cut
        assert turn.reply.endswith(CUT_NOTE) and turn.spoken_text.endswith(CUT_NOTE)


class TextTaker:
    """The voice seam: takes each piece of text it is asked to say, and says it as a moment of silence."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def synth(self, text: str) -> np.ndarray:
        self.said.append(text)
        return np.zeros(160, np.int16)


def test_a_1mb_reply_without_sentence_ends_is_spoken_in_bounded_pieces_and_cut() -> None:
    voice = TextTaker()
    stream = SpeechStream(voice, None)
    for _ in range(1000):  # 1 MB in 1 KB pieces, as a streaming server sends it
        stream.feed("word " * 200)
    spoken = stream.close()
    assert voice.said[-1] == CUT_NOTE and spoken.text.endswith(CUT_NOTE)
    assert max(len(s) for s in voice.said) <= MAX_SENTENCE_CHARS
    assert sum(len(s) for s in voice.said) < MAX_REPLY_CHARS + len(CUT_NOTE)


def http_500(h: BaseHTTPRequestHandler) -> None:
    body = json.dumps({"error": "CUDA out of memory"}).encode()
    h.send_response(500)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)


def test_a_500_on_the_chat_call_exits_6_shown_as_an_error(tmp_path: Path) -> None:
    with fake_ollama(intent_then(http_500)) as url:
        write_config(tmp_path / "config.toml", url, 'backend = "ollama"')
        result = run_cli("once", str(DATA / "question.wav"), "--no-speak", cwd=tmp_path, timeout=120)
    assert result.returncode == 6, result.stdout
    errors = [line for line in result.stdout.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "HTTP 500" in errors[0] and "CUDA out of memory" in errors[0]
    assert "Reply:" not in result.stdout


def console_sink():
    import io

    from rich.console import Console

    return Console(file=io.StringIO(), width=120)


def listener_on(
    wav: Path, url: str, tmp_path: Path, transcriber, read_timeout_s: float = 60.0, speaker: Speaker | None = None
) -> Listener:
    cfg = Config(
        llm=LlmConfig(host=url, model="m", backend="ollama", read_timeout_s=read_timeout_s, answer_timeout_s=30.0),
        tts=TtsConfig(enabled=False),
        output=OutputConfig(dir=str(tmp_path / "output")),
        vad=VadConfig(barge_in=False),  # half-duplex (barge-in is on by default): the mic is muted while it speaks
    )
    llm = OllamaClient(url, "m", read_timeout_s=read_timeout_s, answer_timeout_s=30.0)
    console = console_sink()
    tools = Tools(llm, Sandbox(tmp_path / "output"), TerminalConfirmer(console))
    assistant = Assistant(cfg, transcriber, llm, tools, speaker or SilentSpeaker())
    return Listener(
        assistant, WavSource(wav, realtime=speaker is not None), Segmenter(VadConfig(), WebRtcVad(2)), console
    )


@pytest.mark.slow
def test_a_hung_llm_costs_one_timeout_per_turn_under_the_true_state(tmp_path: Path, transcriber) -> None:
    wav = tmp_path / "q.wav"
    wav.write_bytes(wav_bytes(np.concatenate([read_audio(DATA / "question.wav"), np.zeros(32000, np.int16)])))
    asked: list[object] = []
    holder: dict[str, Listener] = {}

    def hang(h: BaseHTTPRequestHandler) -> None:
        # the early call comes while the silence timer runs; once it runs out the turn waits for this call,
        # and the state shown must then be thinking (a stuck "hearing" is seen here when the deadline passes)
        view, deadline = holder["listener"].view, time.monotonic() + 1.2
        while view.state in (LoopState.LISTENING, LoopState.HEARING) and time.monotonic() < deadline:
            time.sleep(0.02)
        asked.append(view.state)
        until_hangup(h, 10.0)  # nothing is ever sent: the client gives up at read_timeout_s

    with fake_ollama(hang) as url:
        listener = holder["listener"] = listener_on(wav, url, tmp_path, transcriber, read_timeout_s=1.5)
        assert listener.early is not None  # the default config starts early
        listener.run(max_turns=1)
    out = listener.console.file.getvalue()  # type: ignore[attr-defined]
    assert len(asked) == 1, asked  # one intent call, not the early one and then the turn's own
    assert asked[0] is LoopState.THINKING, asked  # not "hearing": the utterance was over
    assert "sent nothing for 2 s" in out and out.count("error:") == 1, out


@pytest.mark.slow
def test_speech_that_began_while_not_listening_is_not_acted_on(tmp_path: Path, transcriber) -> None:
    """A request said while voiceloop speaks its reply (the microphone is ignored then), still going when it
    listens again: only its end is heard, so it is not acted on. The WAV microphone runs in real time and,
    like a live one, loses what nobody read; the speaker takes as long as the audio lasts."""
    question, command = read_audio(DATA / "question.wav"), read_audio(DATA / "create_notes.wav")
    seg = Segmenter(VadConfig(), WebRtcVad(2))
    stream = np.concatenate([question, np.zeros(16000 * 3, np.int16)])
    end = next(i for i in range(0, len(stream), 480) if seg.feed(stream[i : i + 480]) is not None) + 480
    url = f"http://127.0.0.1:{free_port()}"  # a closed port: the turn fails at once and speaks the error
    synth = Pyttsx3Synth(TtsConfig(rate=220))
    reply_s = len(synth.synth(f"Ollama is not running at {url}: start it with `ollama serve`")) / 16000
    assert reply_s > 3.0  # long enough for the request to start inside it, whatever the STT takes
    start = end + int((reply_s - 0.5) * 16000)  # begins while the reply plays, ends after it
    audio = np.concatenate([stream, np.zeros(max(0, start - len(stream)), np.int16)])[:start]
    wav = tmp_path / "clipped.wav"
    wav.write_bytes(wav_bytes(np.concatenate([audio, command, np.zeros(32000, np.int16)])))
    listener = listener_on(wav, url, tmp_path, transcriber, speaker=SentenceSpeaker(synth, ClockedPlayer()))
    listener.run()
    out = listener.console.file.getvalue()  # type: ignore[attr-defined]
    said = [line for line in out.splitlines() if line.startswith("You said:")]
    assert len(said) == 1 and "France" in said[0], out  # the clipped request got no turn of its own
    assert "began while I was not listening" in out
