"""Convert a faster-whisper (CTranslate2) model dir into an openai-whisper checkpoint.

The CTranslate2 ``model.bin`` is parsed directly (no ctranslate2 import needed): a small
header, then ``name, rank, shape, dtype id, byte count, raw bytes`` per variable, then
aliases. Weights map one to one onto openai-whisper's state dict; the only reshaping is
splitting CTranslate2's fused query/key/value projections back apart.
"""

from __future__ import annotations

import mmap
import re
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from voiceloop.atomic import atomic_write
from voiceloop.errors import ModelError

if TYPE_CHECKING:
    import torch

__all__ = ["convert_ct2_to_openai"]

_INSTALL_HINT = "openai-whisper extra not installed: pip install -e '.[openai-whisper]'"

# Order of CTranslate2's DataType enum (bfloat16 is widened to float32 by hand).
_CT2_DTYPES: tuple[str, ...] = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
_MIN_BINARY_VERSION = 4
_MAX_BINARY_VERSION = 6


class _Reader:
    """Cursor over the bytes of a model.bin."""

    def __init__(self, buf: mmap.mmap) -> None:
        self.buf = buf
        self.pos = 0

    def unpack(self, fmt: str) -> int:
        (value,) = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return int(value)

    def string(self) -> str:
        length = self.unpack("H")  # includes the trailing NUL
        raw = self.buf[self.pos : self.pos + length - 1]
        self.pos += length
        return bytes(raw).decode("utf-8")


def _decode(buf: mmap.mmap, offset: int, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    """Copy one variable out of the mapped file as a numpy array."""
    count = int(np.prod(shape, dtype=np.int64))
    if dtype == "bfloat16":
        half = np.frombuffer(buf, dtype="<u2", count=count, offset=offset)
        return (half.astype(np.uint32) << 16).view(np.float32).reshape(shape)
    arr = np.frombuffer(buf, dtype=np.dtype(dtype).newbyteorder("<"), count=count, offset=offset)
    return arr.reshape(shape).copy()


def _read_ct2(model_bin: Path) -> dict[str, np.ndarray]:
    """Parse model.bin into ``{variable name: array}``, aliases resolved."""
    if model_bin.stat().st_size == 0:
        raise ModelError(f"{model_bin}: empty file")
    with (
        model_bin.open("rb") as fh,
        mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf,
    ):
        rd = _Reader(buf)
        try:
            version = rd.unpack("I")
            if not _MIN_BINARY_VERSION <= version <= _MAX_BINARY_VERSION:
                raise ModelError(f"{model_bin}: unsupported CTranslate2 binary version {version}")
            spec = rd.string()
            if spec != "WhisperSpec":
                raise ModelError(f"{model_bin}: not a Whisper model (spec {spec!r})")
            rd.unpack("I")  # spec revision
            out: dict[str, np.ndarray] = {}
            for _ in range(rd.unpack("I")):
                name = rd.string()
                shape = tuple(rd.unpack("I") for _ in range(rd.unpack("B")))
                type_id = rd.unpack("B")
                nbytes = rd.unpack("I")
                if type_id >= len(_CT2_DTYPES):
                    raise ModelError(f"{model_bin}: unknown dtype id {type_id} for {name}")
                out[name] = _decode(buf, rd.pos, _CT2_DTYPES[type_id], shape)
                rd.pos += nbytes
            for _ in range(rd.unpack("I")):
                alias, target = rd.string(), rd.string()
                out[alias] = out[target]
                # An aliased quantized weight shares its target's scale too.
                if target + "_scale" in out and alias + "_scale" not in out:
                    out[alias + "_scale"] = out[target + "_scale"]
        except (struct.error, ValueError, KeyError, UnicodeDecodeError) as exc:
            raise ModelError(f"{model_bin}: corrupt or truncated CTranslate2 model ({exc})") from exc
        if rd.pos != len(buf):
            raise ModelError(f"{model_bin}: {len(buf) - rd.pos} unexpected trailing bytes")
    return out


def _dequantize(raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Undo int8/int16 quantization; float weights keep their stored precision."""
    out: dict[str, np.ndarray] = {}
    for name, value in raw.items():
        if name.endswith("_scale") or value.ndim == 0:
            continue
        scale = raw.get(name + "_scale")
        if scale is not None:
            # CTranslate2 stores round(w * scale), scale per output row (or one scalar).
            w = value.astype(np.float32)
            s = scale.astype(np.float32).reshape((-1,) + (1,) * (w.ndim - 1))
            value = w / s
        elif value.dtype.kind in "iu":
            raise ModelError(f"integer weight {name} has no {name}_scale")
        out[name] = value
    return out


def _scalar(raw: dict[str, np.ndarray], name: str) -> int:
    if name not in raw:
        raise ModelError(f"model.bin lacks {name}")
    return int(raw[name])


def _num_layers(weights: dict[str, np.ndarray], prefix: str) -> int:
    pattern = re.compile(re.escape(prefix) + r"/layer_(\d+)/")
    found = {int(m.group(1)) for key in weights if (m := pattern.match(key))}
    if found != set(range(len(found))):
        raise ModelError(f"non-contiguous {prefix} layers: {sorted(found)}")
    return len(found)


def _dims(raw: dict[str, np.ndarray], weights: dict[str, np.ndarray]) -> dict[str, int]:
    """ModelDimensions fields, read off tensor shapes and stored head counts."""
    try:
        conv1 = weights["encoder/conv1/weight"]
        audio_pos = weights["encoder/position_encodings/encodings"]
        emb = weights["decoder/embeddings/weight"]
        text_pos = weights["decoder/position_encodings/encodings"]
    except KeyError as exc:
        raise ModelError(f"model.bin lacks {exc.args[0]}") from exc
    return {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(audio_pos.shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": _scalar(raw, "encoder/num_heads"),
        "n_audio_layer": _num_layers(weights, "encoder"),
        "n_vocab": int(emb.shape[0]),
        "n_text_ctx": int(text_pos.shape[0]),
        "n_text_state": int(emb.shape[1]),
        "n_text_head": _scalar(raw, "decoder/num_heads"),
        "n_text_layer": _num_layers(weights, "decoder"),
    }


def _map_weights(w: dict[str, np.ndarray], dims: dict[str, int]) -> dict[str, np.ndarray]:
    """Rename CTranslate2 variables to openai-whisper state-dict keys."""
    sd: dict[str, np.ndarray] = {}
    used: set[str] = set()

    def take(src: str) -> np.ndarray:
        if src not in w:
            raise ModelError(f"model.bin lacks {src}")
        used.add(src)
        return w[src]

    def copy(dst: str, src: str) -> None:
        sd[dst] = take(src)

    def norm(dst: str, src: str) -> None:
        copy(dst + ".weight", src + "/gamma")
        copy(dst + ".bias", src + "/beta")

    def linear(dst: str, src: str) -> None:
        copy(dst + ".weight", src + "/weight")
        copy(dst + ".bias", src + "/bias")

    def fused(dst: str, src: str, names: tuple[str, ...]) -> None:
        # Fused projection rows are [q; k; v] (or [k; v]); whisper's key has no bias.
        weight = take(src + "/weight")
        bias = take(src + "/bias")
        n = len(names)
        for name, part_w, part_b in zip(names, np.split(weight, n), np.split(bias, n), strict=True):
            sd[f"{dst}.{name}.weight"] = part_w.copy()
            if name != "key":
                sd[f"{dst}.{name}.bias"] = part_b.copy()

    def mlp(dst: str, src: str) -> None:
        norm(dst + ".mlp_ln", src + "/ffn/layer_norm")
        linear(dst + ".mlp.0", src + "/ffn/linear_0")
        linear(dst + ".mlp.2", src + "/ffn/linear_1")

    copy("encoder.positional_embedding", "encoder/position_encodings/encodings")
    linear("encoder.conv1", "encoder/conv1")
    linear("encoder.conv2", "encoder/conv2")
    for i in range(dims["n_audio_layer"]):
        dst, src = f"encoder.blocks.{i}", f"encoder/layer_{i}"
        norm(dst + ".attn_ln", src + "/self_attention/layer_norm")
        fused(dst + ".attn", src + "/self_attention/linear_0", ("query", "key", "value"))
        linear(dst + ".attn.out", src + "/self_attention/linear_1")
        mlp(dst, src)
    norm("encoder.ln_post", "encoder/layer_norm")

    copy("decoder.token_embedding.weight", "decoder/embeddings/weight")
    copy("decoder.positional_embedding", "decoder/position_encodings/encodings")
    for i in range(dims["n_text_layer"]):
        dst, src = f"decoder.blocks.{i}", f"decoder/layer_{i}"
        norm(dst + ".attn_ln", src + "/self_attention/layer_norm")
        fused(dst + ".attn", src + "/self_attention/linear_0", ("query", "key", "value"))
        linear(dst + ".attn.out", src + "/self_attention/linear_1")
        norm(dst + ".cross_attn_ln", src + "/attention/layer_norm")
        linear(dst + ".cross_attn.query", src + "/attention/linear_0")
        fused(dst + ".cross_attn", src + "/attention/linear_1", ("key", "value"))
        linear(dst + ".cross_attn.out", src + "/attention/linear_2")
        mlp(dst, src)
    norm("decoder.ln", "decoder/layer_norm")

    # The output projection is tied to the token embedding in openai-whisper.
    proj = w.get("decoder/projection/weight")
    if proj is not None and not np.array_equal(proj, w["decoder/embeddings/weight"]):
        raise ModelError("decoder projection is not tied to the token embedding")
    leftover = set(w) - used - {"decoder/projection/weight"}
    if leftover:
        raise ModelError(f"unmapped CTranslate2 weights: {sorted(leftover)[:5]}")
    return sd


def _check_against_whisper(sd: dict[str, torch.Tensor], dims: dict[str, int]) -> None:
    """Compare keys and shapes with a shape-only (meta device) openai-whisper model."""
    import torch
    from whisper.model import AudioEncoder, TextDecoder

    audio = ("n_mels", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer")
    text = ("n_vocab", "n_text_ctx", "n_text_state", "n_text_head", "n_text_layer")
    with torch.device("meta"):
        enc = AudioEncoder(*(dims[k] for k in audio))
        dec = TextDecoder(*(dims[k] for k in text))
    expected = {f"encoder.{k}": v.shape for k, v in enc.state_dict().items()}
    expected |= {f"decoder.{k}": v.shape for k, v in dec.state_dict().items()}
    if set(expected) != set(sd):
        missing = sorted(set(expected) - set(sd))[:5]
        extra = sorted(set(sd) - set(expected))[:5]
        raise ModelError(f"state dict mismatch: missing {missing}, unexpected {extra}")
    for key, shape in expected.items():
        if sd[key].shape != shape:
            raise ModelError(f"{key}: shape {tuple(sd[key].shape)}, expected {tuple(shape)}")


def _atomic_save(obj: Any, out_path: Path) -> None:
    import torch

    out_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(out_path) as fh:
        torch.save(obj, fh)


def convert_ct2_to_openai(ct2_dir: Path, out_path: Path) -> Path:
    """Write ``ct2_dir``'s weights as a checkpoint ``whisper.load_model`` accepts.

    Float16/float32 weights are kept as stored, int8/int16 ones are dequantized to
    float32, bfloat16 is widened to float32. Returns ``out_path``.
    """
    try:
        import torch
        import whisper  # noqa: F401  (needed by _check_against_whisper and by callers)
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc

    ct2_dir, out_path = Path(ct2_dir), Path(out_path)
    model_bin = ct2_dir / "model.bin"
    if not model_bin.is_file():
        raise ModelError(f"{ct2_dir}: no model.bin (not a faster-whisper model directory)")

    raw = _read_ct2(model_bin)
    weights = _dequantize(raw)
    dims = _dims(raw, weights)
    state = {k: torch.from_numpy(v) for k, v in _map_weights(weights, dims).items()}
    _check_against_whisper(state, dims)
    _atomic_save({"dims": dims, "model_state_dict": state}, out_path)
    return out_path
